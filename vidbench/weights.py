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
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vidbench.cache import weights_cache_dir
from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import WEIGHTS

_CHUNK = 1 << 20


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

    @property
    def verification(self) -> str:
        if self.sha256:
            return "sha256"
        if self.git_blob_sha1:
            return "git-blob-sha1"
        return "none"


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    sha256: str
    verified: str | bool  # "sha256" | "git-blob-sha1" | False
    spec: WeightSpec | None

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
    """Download ``spec.url`` into ``dest_dir`` (default: the cache), verifying the hash before the final rename."""
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
