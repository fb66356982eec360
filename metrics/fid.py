"""Fréchet Inception Distance on images / video frames — MoCoGAN-HD paper Table 7 (image generators).

FID (Heusel et al. 2017) = Fréchet distance between Gaussians fitted to the 2048-d pool3 features of the FID
InceptionV3 (:mod:`vidbench.metrics.detectors.inception_v3`) on real and generated images. Every frame of every video
counts as one image (a video of T frames adds T images; image generators pass T = 1). Preprocessing follows TF FID /
torch-fidelity: TF1-exact bilinear resize to 299, ``(x-128)/128``. Statistics and the distance are the shared
implementation in :mod:`vidbench.metrics.frechet` (float64 streaming sums, unbiased covariance, one code path for FID
and FVD).

Presets: ``fid50k`` (50,000 generated images, all real images — the StyleGAN2 convention) and ``fid{N}`` /
``fid{N}k`` for other sample counts (``comparable`` only when at least N generated images were seen).

Training callback for StyleGAN2 (the CLI passes it; models never import metrics)::

    cb = make_fid_callback(real_batches, n=5000)   # real_batches: iterable of uint8 [B,H,W,3] (or [H,W,3])
    fid = cb(sample_fn)                            # sample_fn(b) -> float [-1,1] [b,3,H,W] tensor or uint8 [b,H,W,3]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from vidbench.metrics.base import Metric, MetricOptions, as_video_list, random_init_requested
from vidbench.metrics.frechet import FeatureStats, frechet_distance

from vidbench.cache import stats_cache_dir
from vidbench.errors import VidbenchError
from vidbench.records import metric_result, protocol_id
from vidbench.registry import METRICS, Entry


@dataclass(frozen=True)
class FidProtocol:
    """FID protocol (Table 7; StyleGAN2 convention of 50k generated images against all real images)."""

    num_fake: int = 50_000  # N generated images
    num_real: int | None = None  # None: every real image given
    frames: str = "all"  # every frame of a video is one image
    detector: str = "inception_v3.fid"  # TF inception-2015-12-05 weights (pytorch-fid file)
    feature: str = "pool3_2048"
    resize: str = "tf1_bilinear_299"  # TF1 resize_bilinear(align_corners=False) on 0..255, then (x-128)/128
    cov_ddof: int = 1  # unbiased covariance (np.cov), as pytorch-fid / TF FID
    uint8_conversion: str = "round"  # generator float [-1,1] -> uint8: round((x+1)*127.5) (PROTOCOLS.md)


PAPER = FidProtocol()
_NAME_RE = re.compile(r"^fid(\d+)(k?)$")


def images_from_videos(videos) -> np.ndarray:
    """uint8 [B,T,H,W,3] / list of [T,H,W,3] / [B,H,W,3] images → uint8 [N,H,W,3] (frames in order)."""
    if isinstance(videos, np.ndarray) and videos.ndim == 4:  # already a batch of images
        if videos.dtype != np.uint8 or videos.shape[-1] != 3:
            raise VidbenchError(f"FID: expected uint8 [N,H,W,3] images, got {videos.dtype} {list(videos.shape)}")
        return videos
    vids = as_video_list(videos)
    if not vids:
        return np.zeros((0, 1, 1, 3), np.uint8)
    return np.concatenate(vids, axis=0)


class FID(Metric):
    """Distribution metric on frames: ``update(videos_or_images, real=bool)``, ``compute()``."""

    kind = "distribution"

    def __init__(self, name: str, protocol: FidProtocol, options: MetricOptions | None = None, extractor=None):
        super().__init__(name, protocol, options)
        self.random_init = random_init_requested(self.options)
        self._extractor = extractor
        self.real_stats: FeatureStats | None = None  # created at first use with the extractor's feature size (2048)
        self.fake_stats: FeatureStats | None = None

    @property
    def num_frames(self) -> int | None:
        return None  # all frames of each video

    @property
    def extractor(self):
        if self._extractor is None:
            from vidbench.metrics.detectors.inception_v3 import InceptionFeatureExtractor

            o = self.options
            self._extractor = InceptionFeatureExtractor(
                weights=o.detector_weights, weights_dir=o.weights_dir, random_init=self.random_init,
                device=o.device, batch_size=o.batch_size, seed=o.seed)
        return self._extractor

    def reset(self, keep_real: bool = False) -> None:
        if not keep_real:
            self.real_stats = None
        self.fake_stats = None

    def _stats(self, real: bool) -> FeatureStats:
        attr = "real_stats" if real else "fake_stats"
        if getattr(self, attr) is None:
            setattr(self, attr, FeatureStats(self.extractor.dim))
        return getattr(self, attr)

    def update(self, videos, real: bool) -> None:
        images = images_from_videos(videos)
        stats = self._stats(real)
        limit = self.protocol.num_real if real else None
        if limit is not None:
            images = images[: max(0, limit - stats.n)]
        if len(images):
            stats.update(self.extractor(images))

    def load_real_stats(self, stats: FeatureStats) -> None:
        """Use precomputed real statistics instead of real images."""
        self.real_stats = stats.copy()

    # -------------------------------------------------------------- real-statistics cache (used by the runner)
    def _cache_path(self, fingerprint: str) -> Path:
        ex = self.extractor  # the protocol id includes the weights hash
        pid = protocol_id(self.protocol, ex.weights_hash or ex.label)
        return stats_cache_dir() / f"fid_{fingerprint}_{pid}.npz"

    def try_load_real_cache(self, fingerprint: str) -> bool:
        """Load cached real statistics for a real-set fingerprint (+ protocol id); False when absent/unreadable."""
        if self.random_init:
            return False
        path = self._cache_path(fingerprint)
        if not path.exists():
            return False
        try:
            self.real_stats = FeatureStats.load(path)
        except (OSError, KeyError, ValueError):
            return False
        return True

    def save_real_cache(self, fingerprint: str) -> Path | None:
        """Write the real statistics atomically under ``VIDBENCH_CACHE/stats`` (not for random-init detectors)."""
        if self.random_init or self.real_stats is None or self.real_stats.n == 0:
            return None
        return self.real_stats.save(self._cache_path(fingerprint))

    def compute(self) -> dict:
        p = self.protocol
        n_real = self.real_stats.n if self.real_stats is not None else 0
        n_fake = self.fake_stats.n if self.fake_stats is not None else 0
        if n_real < 2 or n_fake < 2:
            raise VidbenchError(
                f"{self.name}: need at least 2 real and 2 generated images (got {n_real} / {n_fake}); "
                "pass --real and --fake"
            )
        d = p.cov_ddof
        value = frechet_distance(self.real_stats.mean(), self.real_stats.cov(d),
                                 self.fake_stats.mean(), self.fake_stats.cov(d))
        ex = self.extractor
        warnings = []
        if self.fake_stats.n < p.num_fake:
            warnings.append(f"{self.fake_stats.n} generated images < protocol N={p.num_fake}: FID is biased upwards "
                            "at small N and not comparable with published numbers")
        if min(n_real, n_fake) <= self.real_stats.dim:
            warnings.append(f"fewer images than feature dimensions ({self.real_stats.dim}): covariances are singular")
        comparable = self.fake_stats.n >= p.num_fake and ex.registered and not self.random_init
        return metric_result(
            value=value, protocol=p, detector=ex.label, weights_hash=ex.weights_hash,
            weights_verified=ex.weights_verified, comparable=comparable, elapsed_s=self.elapsed(),
            warnings=warnings, n_real=self.real_stats.n, n_fake=self.fake_stats.n,
            extra={"weights_source": getattr(ex, "source", None)},
        )


# ----------------------------------------------------------------------------------------------- training callback
def _images_uint8(x) -> np.ndarray:
    """Generator output → uint8 [B,H,W,3]: float [-1,1] [B,3,H,W] (torch/numpy) or uint8 [B,H,W,3] as is."""
    from vidbench.video import to_uint8

    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu()
        x = x.float().numpy() if x.is_floating_point() else x.numpy()
    x = np.asarray(x)
    if x.dtype == np.uint8:
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[-1] != 3:
            raise VidbenchError(f"FID callback: uint8 images must be [B,H,W,3], got {list(x.shape)}")
        return x
    if x.ndim != 4 or x.shape[1] != 3:
        raise VidbenchError(f"FID callback: float images must be [B,3,H,W] in [-1,1], got {list(x.shape)}")
    return to_uint8(np.transpose(x, (0, 2, 3, 1)), source_range="-1,1", mode="round")


def make_fid_callback(real_images: Iterable[Any], n: int, *, batch_size: int = 32, device: str = "cpu",
                      weights: str | None = None, weights_dir: str | None = None, random_init: bool = False,
                      num_real: int | None = None, progress: bool = False,
                      extractor=None) -> Callable[[Callable[[int], Any]], float]:
    """Return ``fid(sample_fn) -> float`` computing FID of ``n`` generated images against ``real_images``.

    ``real_images`` is an iterable of uint8 images [H,W,3], image batches [B,H,W,3] or video batches [B,T,H,W,3];
    its statistics are computed once, at the first call, and reused (at most ``num_real`` images if given).
    ``sample_fn(b)`` returns ``b`` generated images: float [b,3,H,W] in [-1,1] (torch or numpy; converted with
    ``round((x+1)*127.5)``) or uint8 [b,H,W,3]. The callback's ``.last_result`` holds the full metric entry.
    """
    if n < 2:
        raise VidbenchError("make_fid_callback: n must be >= 2")
    options = MetricOptions(device=device, batch_size=batch_size, detector_weights=weights, weights_dir=weights_dir,
                            detector="inception_v3[random-init]" if random_init else None, progress=progress)
    metric = FID(f"fid{n}", FidProtocol(num_fake=n, num_real=num_real), options, extractor=extractor)
    state = {"real_done": False}

    def fid(sample_fn: Callable[[int], Any]) -> float:
        if not state["real_done"]:
            for item in real_images:
                arr = np.asarray(item)
                if arr.ndim == 3:
                    arr = arr[None]
                metric.update(arr, real=True)
                if num_real is not None and metric.real_stats.n >= num_real:
                    break
            state["real_done"] = True
        metric.reset(keep_real=True)
        metric._t0 = time.perf_counter()
        done = 0
        while done < n:
            imgs = _images_uint8(sample_fn(min(batch_size, n - done)))[: n - done]
            metric.update(imgs, real=False)
            done += len(imgs)
            if len(imgs) == 0:
                raise VidbenchError("FID callback: sample_fn returned no images")
        res = metric.compute()
        fid.last_result = res
        return float(res["value"])

    fid.last_result = None
    fid.metric = metric
    return fid


# ----------------------------------------------------------------------------------------------- registry
def _summary(p: FidProtocol) -> str:
    return (f"{p.num_fake} generated images (every frame) vs {'all' if p.num_real is None else p.num_real} real, "
            f"InceptionV3 pool3 2048-d, {p.resize}, cov ddof={p.cov_ddof}")


def _make(name: str, protocol: FidProtocol):
    def make(name_: str = name, options: MetricOptions | None = None) -> FID:
        options = options or MetricOptions()
        if random_init_requested(options) and not name_.endswith("[random-init]"):
            name_ = f"{name_}[random-init]"
        return FID(name_, protocol, options)

    return make


METRICS.add("fid50k", _make("fid50k", PAPER), description="FID, 50k generated images vs all real (every frame "
            "is an image), TF-FID InceptionV3", kind="distribution", protocol=PAPER, summary=_summary(PAPER))


def _resolve(name: str) -> Entry | None:
    m = _NAME_RE.match(name)
    if not m:
        return None
    n = int(m.group(1)) * (1000 if m.group(2) else 1)
    if n < 2:
        raise VidbenchError(f"{name}: FID needs N >= 2 generated images")
    proto = FidProtocol(num_fake=n)
    return Entry(name, _make(name, proto), f"FID with {n} generated images",
                 meta={"kind": "distribution", "protocol": proto, "summary": _summary(proto)})


METRICS.add_resolver("fid{N}[k]", _resolve)
