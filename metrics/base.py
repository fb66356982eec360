"""The metric contract shared by every metric module (DESIGN.md "Metrics: kinds and API").

A metric *name* is its protocol (``fvd2048_16f``). Each metric module keeps one preset table of frozen protocol
dataclasses and registers a factory per preset in ``vidbench.registry.METRICS``::

    @METRICS.register("psnr_ssim_rgb", description="...", kind="paired", protocol=PsnrSsimProtocol(...))
    def _make(name: str, options: MetricOptions) -> Metric: ...

Entries' ``meta`` carry ``kind`` and ``protocol`` so ``vidbench list metrics`` can print the protocol fields.

Kinds and their streaming API (all inputs are uint8 RGB videos [B,T,H,W,C] numpy arrays, or lists of [T,H,W,C]):

| kind         | update                         | compute                     |
|--------------|--------------------------------|-----------------------------|
| distribution | ``update(videos, real=bool)``  | ``compute()``               |
| sample       | ``update(videos)``             | ``compute()``               |
| paired       | ``update(pred, target)``       | ``compute()``               |
| generator    | —                              | ``compute(fn)``             |
| latent       | —                              | ``compute(latents)``        |

``compute()`` returns one schema-v1 metric entry (``vidbench.records.metric_result``): value, std/ci95, n_real/n_fake,
protocol, protocol_id, detector, weights_hash, weights_verified, comparable, warnings, elapsed_s, extra.
Accumulators are float64 and memory is O(batch). ``reset()`` clears the state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np

from vidbench.errors import VidbenchError

KINDS = ("distribution", "sample", "paired", "generator", "latent")


@dataclass(frozen=True)
class MetricOptions:
    """Run-time options that are not part of a protocol (they never change the number, except where recorded)."""

    device: str = "cpu"
    batch_size: int = 8
    detector: str | None = None  # e.g. "i3d[random-init]" for smoke tests; None = the protocol's detector
    detector_weights: str | None = None  # a user file/folder not in the registry -> comparable: false unless known hash
    weights_dir: str | None = None  # overrides VIDBENCH_WEIGHTS / the cache for locating weight files
    bootstrap: int = 0  # K bootstrap resamples of the fake set for a 95 % CI (distribution metrics)
    seed: int = 0
    num_workers: int = 0
    fast: bool = False  # opt-in fast mode (e.g. bf16); recorded in the protocol id when used
    progress: bool = True
    extra: dict = field(default_factory=dict)
    # the rule that drew the real set (vidbench eval: RealClipRule as a dict, incl. seed, clip count, dataset
    # fingerprint and the n this metric reads); None = the caller's own real set (vidbench score). Real-statistics
    # caches key on it.
    real_clips: dict | None = None
    # `vidbench score --limit`: at most this many videos per set were read (keys the real-statistics cache)
    real_limit: int | None = None


def random_init_requested(options: MetricOptions) -> bool:
    return bool(options.detector) and options.detector.endswith("[random-init]")


# ---------------------------------------------------------------------------------------------------- comparability
# One policy for every metric (schema v2 ``comparable_reasons``): a value is comparable with published numbers only
# with verified weights (a published hash matched), the protocol's N, and frames at the protocol's evaluation size.
# Weights without a published hash (C3D npz, mean2.npz, FaceNet VGGFace2) are recorded by their sha256 with
# ``weights_verified: false``; the hash enters the protocol id, so such values compare only with runs that used the
# same file (same protocol id), never with published numbers: ``comparable`` is false with the reason below.
RANDOM_INIT_REASON = "random-init detector: not a metric value (tests/smoke only)"


def unverified_weights_reason(sha256: str | None, what: str = "weights") -> str:
    """The reason for weights whose hash nobody published (the user's file is recorded by its hash)."""
    return (f"unverified {what} sha256 {(sha256 or 'unknown')[:12]} (no published hash): compare only with runs of "
            "the same hash; not comparable to published numbers")


def unregistered_weights_reason(sha256: str | None, what: str = "weights") -> str:
    """The reason for a user file whose hash matches no registered weights."""
    return (f"unregistered {what} sha256 {(sha256 or 'unknown')[:12]} (matches no registered file): compare only "
            "with runs of the same hash")


def n_below_reason(n: int, protocol_n: int, what: str = "N") -> str:
    return f"{what}={n} < protocol {what}={protocol_n}"


def as_video_list(videos: Any, name: str = "videos") -> list[np.ndarray]:
    """Normalise a batch to a list of uint8 [T,H,W,3] arrays (accepts [B,T,H,W,C] arrays or sequences)."""
    if isinstance(videos, np.ndarray):
        if videos.ndim == 4:
            videos = videos[None]
        if videos.ndim != 5:
            raise VidbenchError(f"{name}: expected uint8 [B,T,H,W,C], got shape {list(videos.shape)}")
        seq: Sequence = list(videos)
    else:
        seq = list(videos)
    out = []
    for i, v in enumerate(seq):
        v = np.asarray(v)
        if v.dtype != np.uint8:
            raise VidbenchError(
                f"{name}[{i}]: expected uint8 frames, got {v.dtype}; convert generator output with "
                "vidbench.video.to_uint8()"
            )
        if v.ndim != 4 or v.shape[-1] != 3:
            raise VidbenchError(f"{name}[{i}]: expected [T,H,W,3], got {list(v.shape)}")
        out.append(v)
    return out


class Metric:
    """Base class: subclasses set ``kind`` and ``protocol`` and implement update/compute/reset."""

    kind: ClassVar[str] = ""
    # distribution metrics with a real-statistics cache: which sets it can cache ("real"; FVD also "fake", the
    # second real set of ``eval --gt``, through ``try_load_real_cache(key, side=...)``)
    cache_sides: ClassVar[tuple[str, ...]] = ()
    name: str
    protocol: Any
    options: MetricOptions

    def __init__(self, name: str, protocol: Any, options: MetricOptions | None = None):
        if self.kind not in KINDS:
            raise TypeError(f"{type(self).__name__}.kind must be one of {KINDS}")
        self.name = name
        self.protocol = protocol
        self.options = options or MetricOptions()
        self._t0 = time.perf_counter()

    # the number of frames the protocol reads from each video (None: all); the runner decodes accordingly
    @property
    def num_frames(self) -> int | None:
        if isinstance(self.protocol, dict):
            return self.protocol.get("num_frames")
        return getattr(self.protocol, "num_frames", None)

    def eval_resize(self, real_size: tuple[int, int] | int | None = None):
        """How generated frames reach this protocol's evaluation size (:func:`vidbench.metrics.resize.eval_resize`);
        ``vidbench.metrics.resize.pre_resize(videos, metric.eval_resize(real_hw))`` applies it."""
        from vidbench.metrics.resize import eval_resize

        return eval_resize(self.protocol, real_size)

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self, *args, **kwargs) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError
