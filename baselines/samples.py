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
    """Replays exported videos as if they were generated.

    ``vidbench eval`` treats them like any model's output: the first ``num_frames`` frames of each (stride 1: exported
    videos are frame sequences as they are), resized to the protocol's evaluation size; an export with fewer videos
    than a metric's N, or shorter videos than its frames, is refused with one line.
    """

    recipe = None
    frame_stride = 1  # exported frames are consecutive: real clips are compared at stride 1

    def __init__(self, path: str):
        self.path = Path(path)
        if not self.path.exists():
            raise VidbenchError(f"samples:{path}: no such file or folder; export your videos there first")
        from vidbench.runner import path_fingerprint

        self.checkpoint_hash = path_fingerprint(self.path, {})
        self.available = count_videos(self.path)

    def sample(self, n: int, *, num_frames: int, seed: int = 0, batch_size: int = 8,
               start_batch: int = 0) -> Iterator[np.ndarray]:
        """uint8 [B, T, H, W, 3] batches of the first ``n`` exported videos in their natural order (``start_batch=k``
        skips the first k batches: resume)."""
        if n > self.available:
            raise VidbenchError(f"samples:{self.path}: {n} videos requested but only {self.available} exported; "
                                f"export more or pass --num-videos {self.available} (not comparable below a "
                                f"metric's N)")
        batch: list[np.ndarray] = []
        skip = start_batch * batch_size
        for k, (vid, v) in enumerate(iter_videos(self.path, limit=n)):
            if k < skip:
                continue
            if len(v) < num_frames:
                raise VidbenchError(f"samples:{self.path}: video {vid} has {len(v)} frames, the evaluation needs "
                                    f"{num_frames}; export longer videos or pass --frames {len(v)}")
            batch.append(np.ascontiguousarray(v[:num_frames]))
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def info(self) -> dict:
        return {"path": str(self.path), "num_videos": self.available, "seed_used": False}

    def settings(self) -> dict:
        return {"model": "samples", "path": str(self.path), "order": "natural file order", "frames": "first T",
                "stride": 1, "uint8": "as exported", "seed_used": False}


def _resolve(name: str):
    if not name.startswith("samples:"):
        return None
    path = name.split(":", 1)[1]

    def load(checkpoint=None, *, device="cpu", **kw):
        return SamplesModel(path)

    return Entry(name, load, "videos exported by another project", meta={"video": True, "needs_checkpoint": False})


MODELS.add_resolver("samples:PATH", _resolve)
