"""The interface `vidbench eval` uses to draw videos from any registered model.

A MODELS entry whose ``meta["video"]`` is true has, as ``obj``, a loader
``load(checkpoint: str | None, *, device: str = "cpu", **kw) -> VideoSampler``.

Required: ``sample`` and ``info``. Optional, used by ``vidbench eval`` when present:

* ``sample(..., start_batch=k)`` — resume at batch k with the same videos (``eval --resume``); without it the first k
  batches are drawn again and dropped.
* ``frame_stride`` — the temporal stride of the real clips the model was trained on (read from its checkpoint
  config); the real clips of an evaluation use it. Samplers without it are evaluated at stride 1 (consecutive
  frames, PROTOCOLS.md) and the record says so.
* ``settings()`` — what changes the pixels (noise mode, truncation, interpolation, uint8 conversion): recorded as
  the run record's ``sampler``.
* ``predict(first_frames, num_frames, *, seed, options) -> uint8 [B, T, H, W, C]`` and
  ``predict_settings(num_frames, options) -> dict`` — video prediction from each real clip's first frame
  (``eval --task predict``); frame 0 of the prediction is the model's reconstruction of the input frame (the UP-B row).
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


class PredictingSampler(VideoSampler, Protocol):
    def predict(self, first_frames: np.ndarray, num_frames: int, *, seed: int = 0,
                options: dict | None = None) -> np.ndarray:
        """uint8 first frames [B,H,W,C] -> uint8 videos [B,num_frames,H',W',C] whose frame 0 reconstructs the input."""
        ...

    def predict_settings(self, num_frames: int, options: dict | None = None) -> dict:
        ...
