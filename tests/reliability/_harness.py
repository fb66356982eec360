"""Helpers of the reliability suite: run the real CLI in a subprocess and check what it leaves on disk.

Every bad-input row runs ``python -m vidbench.cli ...`` (a fresh interpreter, as a user would) with its own
``VIDBENCH_CACHE`` and one torch thread. :func:`snapshot` / :func:`check_disk` enforce the invariants that hold for
every row: no temporary file left behind, every new file under a final name passes validation, and every file that
existed before is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]

# Used when a permission error must be produced while running as root (CI runs as root and /root, which holds the
# interpreter, is 0700, so the subprocess cannot be run as an unprivileged user): every Python-level open/listing of
# a path under one of VIDBENCH_TEST_DENY's ':'-separated prefixes fails with EACCES, exactly as the kernel would.
DENY_PRELUDE = r"""
import builtins, errno, io, os, sys
_deny = [p for p in os.environ.get("VIDBENCH_TEST_DENY", "").split(":") if p]
def _blocked(p):
    try:
        p = os.path.abspath(os.fsdecode(p))
    except TypeError:
        return False
    return any(p == d or p.startswith(d.rstrip("/") + "/") for d in _deny)
def _wrap(fn):
    def inner(path, *a, **k):
        if isinstance(path, (str, bytes, os.PathLike)) and _blocked(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return fn(path, *a, **k)
    return inner
builtins.open = io.open = _wrap(builtins.open)
os.open = _wrap(os.open)
os.scandir = _wrap(os.scandir)
os.listdir = _wrap(os.listdir)
os.mkdir = _wrap(os.mkdir)
sys.argv = ["vidbench"] + sys.argv[1:]
from vidbench.cli import main
main()
"""


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli_env(cache: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDBENCH_", "PYTEST_"))}
    env.update(VIDBENCH_CACHE=str(cache), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="",
               PYTHONDONTWRITEBYTECODE="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(args: list[str], *, cwd: Path, env: dict, deny: list[Path] | None = None, timeout: float = 120) -> Result:
    """Run ``vidbench ARGS`` in a fresh interpreter; ``deny``: paths whose reads fail with EACCES (see above)."""
    if deny:
        env = {**env, "VIDBENCH_TEST_DENY": ":".join(str(p) for p in deny)}
        cmd = [sys.executable, "-c", DENY_PRELUDE, *map(str, args)]
    else:
        cmd = [sys.executable, "-m", "vidbench.cli", *map(str, args)]
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Result(p.returncode, p.stdout, p.stderr)


# ------------------------------------------------------------------------------------------------ disk invariants
def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def snapshot(*roots: Path) -> dict[Path, str]:
    """sha256 of every file under ``roots`` (files only; folders are checked through their files)."""
    out = {}
    for root in roots:
        if root.is_file():
            out[root] = _digest(root)
            continue
        for dirpath, _, files in os.walk(root):
            for f in files:
                p = Path(dirpath) / f
                if p.is_file() and os.access(p, os.R_OK) and not p.is_symlink():
                    out[p] = _digest(p)
    return out


def is_temp_name(name: str) -> bool:
    """Names our atomic writers use while writing (``.{final}.XXXX{suffix}``) or any ``*.tmp``/``*.partial``.

    ``*.lock`` files are not temporary: an flock-based lock file stays by design (deleting it would race).
    """
    if name.endswith(".lock"):
        return False
    return (name.startswith(".") and name.count(".") >= 2) or name.endswith((".tmp", ".partial", ".part"))


def validate_file(p: Path) -> str | None:
    """None if ``p`` is a complete, readable file of its kind; else the reason."""
    try:
        if p.name == "result.json":
            from vidbench.records import read_result, validate_record

            validate_record(json.loads(p.read_text()))
            read_result(p.parent)
        elif p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".jsonl":
            for line in p.read_text().splitlines():
                if line.strip():
                    json.loads(line)
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                for k in z.files:
                    z[k]
        elif p.suffix == ".npy":
            np.load(p, allow_pickle=False)
        elif p.suffix in (".pt", ".pth"):
            import torch

            torch.load(p, map_location="cpu", weights_only=True)
        elif p.suffix in (".mp4", ".gif"):
            from vidbench.video import read_video

            read_video(p)
        elif p.suffix == ".png":
            from PIL import Image

            with Image.open(p) as im:
                im.load()
        elif p.suffix == ".csv":
            import csv

            with open(p, newline="") as fh:
                rows = list(csv.reader(fh))
            if rows and any(len(r) != len(rows[0]) for r in rows):
                return "ragged csv rows"
    except Exception as e:  # noqa: BLE001 - reported as the reason
        return f"{type(e).__name__}: {e}"
    return None


def check_disk(before: dict[Path, str], *roots: Path) -> list[str]:
    """Problems: changed/removed pre-existing files, temp files left, new files that fail validation."""
    problems = []
    after = snapshot(*roots)
    for p, h in before.items():
        if p not in after:
            problems.append(f"lost {p}")
        elif after[p] != h:
            problems.append(f"changed {p}")
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            for name in files + dirs:
                if is_temp_name(name):
                    problems.append(f"temp file left: {Path(dirpath) / name}")
    for p in after:
        if p not in before and not is_temp_name(p.name):
            why = validate_file(p)
            if why:
                problems.append(f"invalid file under a final name: {p} ({why})")
    return problems


# ------------------------------------------------------------------------------------------------ shared inputs
def _write_mp4(path: Path, frames: np.ndarray, fps: float = 8) -> Path:
    from vidbench.video import write_video

    return write_video(path, frames, fps=fps)


def _zero_frame_mp4(path: Path) -> Path:
    """An mp4 container with an H.264/MPEG-4 video stream header and no frames (what an aborted encoder leaves)."""
    import av

    with av.open(str(path), mode="w", format="mp4") as c:
        s = c.add_stream("mpeg4", rate=8)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        c.start_encoding()  # writes the header although no frame follows
    return path


MOTION_TINY = ["n_pca=16", "hidden_dim=16", "num_frames=4", "frame_size=32", "d_ndf=4", "biggan_ch=4", "proj_dim=16",
               "bank_size=16", "batch_size=2", "ckpt_every=1", "sample_every=0", "log_every=1", "num_grid=4"]
IMAGE_TINY = ["iters=2", "batch=2", "pool_clips=4", "n_sample=4", "size=32", "style_dim=32", "channel_max=16",
              "sample_every=0", "ckpt_every=1", "log_every=1", "num_frames=4"]


def motion_args(assets: Path, out: Path, *sets: str, dataset: str = "moving_mnist") -> list[str]:
    args = ["train", "motion", "--dataset", dataset, "--image-generator", str(assets / "models" / "g.pt"),
            "--pca", str(assets / "models" / "pca.npz"), "--out", str(out)]
    for s in MOTION_TINY + list(sets):
        args += ["--set", s]
    return args


def image_args(out: Path, *sets: str, dataset: str = "moving_mnist") -> list[str]:
    args = ["train", "image", "--dataset", dataset, "--preset", "tiny", "--no-progress", "--out", str(out)]
    for s in IMAGE_TINY + list(sets):
        args += ["--set", s]
    return args




# ------------------------------------------------------------------------------------------------ loopback index
def serve_files(files: dict[str, tuple[str, bytes]]):
    """A loopback HTTP server for ``{path: (content_type, body)}``; returns (server, base_url). Call
    ``server.shutdown()`` when done."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            path = self.path.split("?", 1)[0]
            if path not in files and path.rstrip("/") + "/" in files:
                path = path.rstrip("/") + "/"
            if path not in files:
                self.send_error(404)
                return
            ctype, body = files[path]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def tampered_index(spec_name: str) -> tuple[object, str]:
    """A PEP 503 index whose only file for the spec's package is the right archive name with the wrong bytes."""
    from vidbench.weights import get_spec

    a = get_spec(spec_name).archive
    body = b"\x1f\x8b" + bytes(range(256)) * 64  # a gzip magic number, then garbage
    page = f'<html><body><a href="/files/{a.filename}">{a.filename}</a></body></html>'.encode()
    files = {f"/simple/{a.package}/": ("text/html", page), f"/files/{a.filename}": ("application/gzip", body)}
    server, base = serve_files(files)
    return server, base + "/simple"
