"""Tiny run folders for the study tests: 32x32, 8-frame H.264 clips of a moving coloured square."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidbench.video import write_video


def square_clip(color: tuple[int, int, int], start: int, size: int = 32, frames: int = 8) -> np.ndarray:
    """uint8 [T,H,W,3]: a 10x10 square of ``color`` moving 3 px right per frame on a dark grey background."""
    v = np.full((frames, size, size, 3), 30, np.uint8)
    for t in range(frames):
        x = (start + 3 * t) % (size - 10)
        v[t, 11:21, x:x + 10] = color
    return v


def make_run(root: Path, n: int, color: tuple[int, int, int], *, content: list | None = None,
             label: str | None = None) -> Path:
    """A run folder with ``samples/{i:06d}.mp4`` and ``per_video.jsonl`` (optionally with ``content_id``)."""
    (root / "samples").mkdir(parents=True)
    rows = []
    for i in range(n):
        write_video(root / "samples" / f"{i:06d}.mp4", square_clip(color, start=2 * i), fps=8)
        row = {"index": i, "id": f"{i:06d}", "seed": 0}
        if content is not None:
            row["content_id"] = content[i]
        rows.append(row)
    (root / "per_video.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if label is not None:
        from vidbench.records import new_record, write_result

        write_result(root, new_record(model="mocohd", dataset=None, seed=0, task="unconditional", label=label))
    return root


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("runs")
    return (make_run(base / "runA", 6, (230, 40, 40), label="Ours"),
            make_run(base / "runB", 6, (40, 60, 230), label="Baseline"))


@pytest.fixture(scope="session")
def clips():
    """The helpers above, for tests (importlib mode cannot import from conftest)."""

    class _H:
        square_clip = staticmethod(square_clip)
        make_run = staticmethod(make_run)

    return _H
