"""Cache locations and atomic file writes.

``VIDBENCH_CACHE`` (default ``~/.cache/vidbench``) holds ``weights/`` (downloaded weight files) and ``stats/``
(real-data feature statistics keyed by dataset fingerprint + protocol id). Every file is written atomically: to a
temporary file in the same folder, then renamed, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator


def cache_root() -> Path:
    return Path(os.environ.get("VIDBENCH_CACHE") or Path.home() / ".cache" / "vidbench").expanduser()


def weights_cache_dir() -> Path:
    return cache_root() / "weights"


def stats_cache_dir() -> Path:
    return cache_root() / "stats"


# what :func:`atomic_path` names its temporary files: tempfile.mkstemp(prefix=".{final name}.", suffix=...) adds 8
# characters from [a-z0-9_]
_TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?$")
_UMASK = os.umask(0)
os.umask(_UMASK)


def is_interrupted_write(name: str) -> bool:
    """True for the name of a temporary file that :func:`atomic_path` leaves when its process is killed mid-write."""
    return bool(_TEMP_RE.match(name))


def remove_interrupted_writes(*folders: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of writes a kill interrupted (resume calls this); returns what was removed.

    Only files named like :func:`atomic_path` temporaries directly inside ``folders`` are touched; the final files
    were never replaced by them (the rename did not happen), so nothing complete is lost.
    """
    removed = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if p.is_file() and is_interrupted_write(p.name):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``, on error delete it.

    ``suffix`` defaults to the target's suffix so writers that infer the format from the extension still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; the final file gets the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=False, default=_json_default) + "\n")


def atomic_write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Run ``writer(tmp_path)`` and move the result into place atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
