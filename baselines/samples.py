"""``samples:PATH`` — evaluate videos exported by any other project (a folder, npz [N,T,H,W,C] or video files).

The "model" replays the files in their natural order; ``seed`` has no effect (recorded as such). Its checkpoint hash
is the fingerprint of the file list and sizes, so two evaluations of the same export are recognisably the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from vidbench.errors import VidbenchError
from vidbench.registry import MODELS, Entry
from vidbench.video import count_videos, iter_videos


class SamplesModel:
    """Replays exported videos as if they were generated."""

    recipe = None

    def __init__(self, path: str):
        self.path = Path(path)
        if not self.path.exists():
            raise VidbenchError(f"samples:{path}: no such file or folder; export your videos there first")
        from vidbench.runner import path_fingerprint

        self.checkpoint_hash = path_fingerprint(self.path, {})
        self.available = count_videos(self.path)

    def sample(self, n: int, *, num_frames: int, seed: int = 0, batch_size: int = 8) -> Iterator[np.ndarray]:
        if n > self.available:
            raise VidbenchError(f"samples:{self.path}: {n} videos requested but only {self.available} exported")
        batch: list[np.ndarray] = []
        for _, v in iter_videos(self.path, num_frames=num_frames, limit=n):
            batch.append(v)
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def info(self) -> dict:
        return {"path": str(self.path), "num_videos": self.available, "seed_used": False}


def _resolve(name: str):
    if not name.startswith("samples:"):
        return None
    path = name.split(":", 1)[1]

    def load(checkpoint=None, *, device="cpu", **kw):
        return SamplesModel(path)

    return Entry(name, load, "videos exported by another project", meta={"video": True, "needs_checkpoint": False})


MODELS.add_resolver("samples:PATH", _resolve)
