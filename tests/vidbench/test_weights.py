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
    spec = WEIGHTS.get("i3d").obj
    assert spec.name == "i3d.kinetics400_tfhub"
    assert spec.git_blob_sha1 == "fa7df95674dbf3579e7fccd954e51e706b4734c1" and spec.size == 50_818_176  # PROTOCOLS.md
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
    assert res.exit_code == 0 and "i3d.kinetics400_tfhub" in res.output
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
