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
from vidbench.metrics.base import (
    RANDOM_INIT_REASON,
    Metric,
    MetricOptions,
    as_video_list,
    n_below_reason,
    random_init_requested,
    unregistered_weights_reason,
)
from vidbench.metrics.frechet import (
    CorruptCacheError,
    FeatureStats,
    bootstrap_fd,
    frechet_distance,
    load_real_stats,
    real_stats_key,
    real_stats_path,
    save_real_stats,
)

from vidbench.errors import VidbenchError
from vidbench.records import canonical_json, metric_result, protocol_id
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
_NAME_RE = re.compile(r"^fid([1-9]\d*)(k?)$")  # no zero-padded second names


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
    cache_sides = ("real",)

    def __init__(self, name: str, protocol: FidProtocol, options: MetricOptions | None = None, extractor=None):
        super().__init__(name, protocol, options)
        self.random_init = random_init_requested(self.options)
        self._extractor = extractor
        self.real_stats: FeatureStats | None = None  # created at first use with the extractor's feature size (2048)
        self.fake_stats: FeatureStats | None = None
        self._cache_warnings: list[str] = []
        self.reset()

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
            self._feats_real: list[np.ndarray] = []  # kept only with options.bootstrap (float32 [n,2048])
            self._groups_real: list[np.ndarray] = []  # video index of every frame (frames are resampled by video)
            self._sizes_real: set = set()
            self._real_from_cache = False
        self.fake_stats = None
        self._feats_fake: list[np.ndarray] = []
        self._groups_fake: list[np.ndarray] = []
        self._sizes_fake: set = set()
        self._ignored = {"real": 0, "fake": 0}
        self._videos = {"real": 0, "fake": 0}

    def _stats(self, real: bool) -> FeatureStats:
        attr = "real_stats" if real else "fake_stats"
        if getattr(self, attr) is None:
            setattr(self, attr, FeatureStats(self.extractor.dim))
        return getattr(self, attr)

    def update(self, videos, real: bool) -> None:
        """Add images (every frame of every video). Exactly N: images beyond the protocol's N generated images (and
        beyond ``num_real`` real ones when set) are ignored and counted."""
        key = "real" if real else "fake"
        if isinstance(videos, np.ndarray) and videos.ndim == 4:  # images: each its own unit
            groups = np.arange(len(videos))
        else:
            vids = as_video_list(videos)
            groups = np.concatenate([np.full(len(v), i) for i, v in enumerate(vids)]) if vids else np.zeros(0, int)
            videos = vids
        images = images_from_videos(videos)
        groups = groups + self._videos[key]
        self._videos[key] += int(groups.max() - self._videos[key] + 1) if len(groups) else 0
        if real and self._real_from_cache:
            self._ignored[key] += len(images)
            return
        stats = self._stats(real)
        limit = self.protocol.num_real if real else self.protocol.num_fake
        if limit is not None and len(images) > max(0, limit - stats.n):
            keep = max(0, limit - stats.n)
            self._ignored[key] += len(images) - keep
            images, groups = images[:keep], groups[:keep]
        if len(images):
            (self._sizes_real if real else self._sizes_fake).update({tuple(images.shape[1:3])})
            feats = np.asarray(self.extractor(images))
            stats.update(feats)
            if self.options.bootstrap:
                (self._feats_real if real else self._feats_fake).append(feats.astype(np.float32))
                (self._groups_real if real else self._groups_fake).append(groups)

    def load_real_stats(self, stats: FeatureStats) -> None:
        """Use precomputed real statistics instead of real images."""
        self.real_stats = stats.copy()

    # -------------------------------------------------------------- real-statistics cache (used by the runner)
    def cache_key(self, fingerprint: str) -> dict:
        """Dataset fingerprint + protocol id + protocol N real + ``--limit`` + real-clip rule (hashed)."""
        ex, o = self.extractor, self.options
        rule = None if o.real_clips is None else canonical_json(o.real_clips)
        return real_stats_key(metric="fid", protocol_id=protocol_id(self.protocol, ex.weights_hash or ex.label),
                              fingerprint=fingerprint, n_real=self.protocol.num_real, limit=o.real_limit,
                              clip_rule=rule)

    def _cache_path(self, fingerprint: str) -> Path:
        return real_stats_path(self.cache_key(fingerprint))

    def try_load_real_cache(self, fingerprint: str) -> bool:
        """Load cached real statistics for exactly this key; False when absent, for random-init detectors, with
        ``bootstrap`` (which needs the real features), or when the file is corrupt (warned, then recomputed)."""
        if self.random_init or self.options.bootstrap:
            return False
        path = self._cache_path(fingerprint)
        if not path.exists():
            return False
        try:
            stats, arrays = load_real_stats(path, self.cache_key(fingerprint))
            sizes = {tuple(int(a) for a in s) for s in arrays["sizes"]}
        except (CorruptCacheError, KeyError) as e:
            self._cache_warnings.append(f"real-statistics cache {path.name} is corrupt ({e}): ignored and recomputed")
            return False
        self.real_stats, self._sizes_real, self._real_from_cache = stats, sizes, True
        return True

    def save_real_cache(self, fingerprint: str) -> Path | None:
        """Write the real statistics atomically under ``VIDBENCH_CACHE/stats`` (not for random-init detectors)."""
        if self.random_init or self.real_stats is None or self.real_stats.n == 0 or self._real_from_cache:
            return None
        sizes = np.array(sorted(self._sizes_real), dtype=np.int64).reshape(-1, 2)
        return save_real_stats(self._cache_path(fingerprint), self.cache_key(fingerprint), self.real_stats,
                               sizes=sizes)

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
        warnings = list(self._cache_warnings)
        reasons = []
        if self.random_init:
            reasons.append(RANDOM_INIT_REASON)
        elif not ex.registered:
            reasons.append(unregistered_weights_reason(ex.weights_hash, "Inception weights"))
        if n_fake < p.num_fake:
            reasons.append(n_below_reason(n_fake, p.num_fake, "N fake images"))
            warnings.append(f"{n_fake} generated images < protocol N={p.num_fake}: FID is biased upwards "
                            "at small N and not comparable with published numbers")
        if p.num_real is not None and n_real < p.num_real:
            reasons.append(n_below_reason(n_real, p.num_real, "N real images"))
        for key in ("real", "fake"):
            if self._ignored[key]:
                warnings.append(f"{self._ignored[key]} {key} images beyond the protocol's N were ignored")
        if self._sizes_real and self._sizes_fake and self._sizes_real != self._sizes_fake:
            reasons.append(f"resolution: generated images {sorted(self._sizes_fake)} != real images "
                           f"{sorted(self._sizes_real)} (resize generated frames to the evaluation size first: "
                           "vidbench.metrics.resize.pre_resize)")
        if min(n_real, n_fake) <= self.real_stats.dim:
            warnings.append(f"fewer images than feature dimensions ({self.real_stats.dim}): covariances are singular")
        source = getattr(ex, "source", None) or {}
        if str(source.get("provenance", "")).startswith("package-provided"):
            warnings.append(f"detector weights from {source.get('package')}=={source.get('version')} are "
                            "package-provided (hash-pinned, no independent value check): compare with runs of the "
                            "same weights_hash")
        extra = {"weights_source": getattr(ex, "source", None), "real_stats_cached": self._real_from_cache,
                 "ignored_beyond_n": dict(self._ignored)}
        std = ci = None
        if self.options.bootstrap and self._feats_real and self._feats_fake:
            boot = bootstrap_fd(np.concatenate(self._feats_real), np.concatenate(self._feats_fake),
                                k=self.options.bootstrap, seed=self.options.seed, ddof=d,
                                real_groups=np.concatenate(self._groups_real),
                                fake_groups=np.concatenate(self._groups_fake))
            std, ci = boot.std, boot.ci
            extra["bootstrap"] = {**boot.as_dict(), "unit": "video (all its frames)"}
        return metric_result(
            value=value, protocol=p, detector=ex.label, weights_hash=ex.weights_hash,
            weights_verified=ex.weights_verified, comparable=not reasons, comparable_reasons=reasons,
            elapsed_s=self.elapsed(), warnings=warnings, std=std, ci95=ci, n_real=n_real, n_fake=n_fake,
            extra=extra,
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
                      extractor=None, real_cache_key: str | None = None) -> Callable[[Callable[[int], Any]], float]:
    """Return ``fid(sample_fn) -> float`` computing FID of ``n`` generated images against ``real_images``.

    ``real_images`` is an iterable of uint8 images [H,W,3], image batches [B,H,W,3] or video batches [B,T,H,W,3];
    its statistics are computed once, at the first call, and reused (at most ``num_real`` images if given).
    ``real_cache_key`` (a fingerprint of exactly those real images, e.g. the sha256 of their bytes) keeps the real
    statistics in the real-statistics cache across runs (see :meth:`FID.try_load_real_cache`).
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
        if not state["real_done"] and real_cache_key is not None and metric.try_load_real_cache(real_cache_key):
            state["real_done"] = True
        if not state["real_done"]:
            for item in real_images:
                arr = np.asarray(item)
                if arr.ndim == 3:
                    arr = arr[None]
                metric.update(arr, real=True)
                if num_real is not None and metric.real_stats.n >= num_real:
                    break
            state["real_done"] = True
            if real_cache_key is not None:
                metric.save_real_cache(real_cache_key)
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
