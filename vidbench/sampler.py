"""The interface `vidbench eval` uses to draw videos from any registered model.

A MODELS entry whose ``meta["video"]`` is true has, as ``obj``, a loader
``load(checkpoint: str | None, *, device: str = "cpu", **kw) -> VideoSampler``.
"""

from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np


class VideoSampler(Protocol):
    checkpoint_hash: str | None
    recipe: str | None

    def sample(self, n: int, *, num_frames: int, seed: int, batch_size: int) -> Iterator[np.ndarray]:
        """Yield uint8 RGB batches [B,T,H,W,C] until ``n`` videos were produced (deterministic given ``seed``)."""
        ...

    def info(self) -> dict:
        ...
