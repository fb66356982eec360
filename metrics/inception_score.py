"""Video Inception Score with the UCF-101 C3D (MoCoGAN-HD paper Tables 1 and 4; PROTOCOLS.md "Inception Score").

IS = exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016, Sec. 4), with ``eps`` added to the probabilities inside the
logs (TGANv2: 1e-20). Three estimators that people confuse, each its own name:

=========================  =======  ====================================================================  =========
name                       videos   how the ± is obtained                                                  source
=========================  =======  ====================================================================  =========
``is2048x10_c3d_tganv2``   20,480   10 runs of 2,048 (consecutive blocks in input order; each run is one   tgan2
                                    split), IS per run, mean ± std (ddof 0) over the 10 runs              script
``is2048_c3d_styleganv``   2,048    ``RandomState(42).shuffle`` of the probabilities, 10 splits of ~205,   StyleGAN-V
                                    mean ± std over splits; StyleGAN-V TorchScript C3D, no eps (0·log 0=0)
``is10k_c3d``              10,000   10 splits of 1,000 (consecutive blocks), mean ± std over splits;      MoCoGAN-HD
                                    frames first resized to 128² with cv2 INTER_CUBIC (``pre_resize``)     §4.1, #11
=========================  =======  ====================================================================  =========

TGANv2 draws fresh samples for each of its 10 loops, so 10 consecutive blocks of 2,048 videos from an i.i.d. sample
stream are the same estimator. The MoCoGAN-HD paper's "33.95 ± .25 on 10,000 videos" does not say how its ± was
obtained; ``is10k_c3d`` documents its choice (10 splits of 1,000).

The metric is of kind "sample": ``update(videos)`` runs C3D on uint8 [B,T,H,W,3] videos (the first 16 frames) and
accumulates the N×101 float64 probabilities; ``compute()`` applies the estimator. Videos beyond the protocol's N are
ignored (counted in a warning and ``extra.ignored_beyond_n``); fewer than N give a number marked ``comparable: false``.
``comparable_reasons`` say why (shared policy in :mod:`vidbench.metrics.base`): random-init C3D; C3D weights and
``mean2.npz`` have no published sha256, so they are recorded by their file hashes (``weights_hash`` combines both and
enters the protocol id), ``weights_verified: false``, and the value compares only with runs of the same hash — never
with published numbers; N below the protocol; frames upsampled by ``pre_resize``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from vidbench.metrics.base import (
    RANDOM_INIT_REASON,
    Metric,
    MetricOptions,
    as_video_list,
    n_below_reason,
    random_init_requested,
    unregistered_weights_reason,
)

from vidbench.errors import VidbenchError
from vidbench.records import metric_result
from vidbench.registry import METRICS


@dataclass(frozen=True)
class InceptionScoreProtocol:
    """One video-IS estimator (PROTOCOLS.md "Inception Score with C3D"; defaults = TGANv2's released script)."""

    num_videos: int = 20480  # N generated videos used in total
    runs: int = 10  # independent runs (consecutive blocks of N/runs videos); ± = std over runs when runs > 1
    splits: int = 1  # splits inside each run; ± = std over splits when runs == 1
    shuffle: str = "none"  # "none" | "RandomState(42)" (StyleGAN-V shuffles the probabilities before splitting)
    eps: float = 1e-20  # added to p(y|x) inside the logs (TGANv2); 0 → 0·log 0 = 0 (StyleGAN-V: no eps)
    std_ddof: int = 0  # numpy std
    num_frames: int = 16  # the first 16 frames of each video
    uint8_to_input: str = "u/127.5-1"  # uint8 interchange video → generator range [-1, 1]
    pre_resize: int | None = None  # MoCoGAN-HD: frames resized to 128² before IS (uint8, cv2 below)
    pre_resize_interp: str = "cv2.INTER_CUBIC"
    c3d_resize: str = "bilinear_align_corners"  # to 112² inside C3D (Chainer resize_images); or bilinear_half_pixel
    color: str = "RGB->BGR, x*128, +128-mean2[:, :, 8:120, 8:120]"
    detector: str = "c3d"
    weights: str = "c3d.ucf101_tganv2"  # + c3d.ucf101_tganv2_mean (mean2.npz)
    probabilities: str = "softmax(fc8)"  # StyleGAN-V TorchScript: the file's output, used as probabilities


PRESETS: dict[str, InceptionScoreProtocol] = {
    # tgan2 scripts/compute_inception_score.py: --n-samples 2048 --n-loops 10, splits=1, mean ± std over loops
    "is2048x10_c3d_tganv2": InceptionScoreProtocol(num_videos=20480, runs=10, splits=1),
    # stylegan-v src/metrics/video_inception_score.py (isv2048_ucf): 2048 samples, 10 splits, RandomState(42)
    "is2048_c3d_styleganv": InceptionScoreProtocol(
        num_videos=2048, runs=1, splits=10, shuffle="RandomState(42)", eps=0.0, weights="c3d.ucf101_styleganv_ts",
        probabilities="torchscript output", c3d_resize="inside torchscript", color="inside torchscript",
    ),
    # MoCoGAN-HD §4.1 (10,000 videos, TGANv2 C3D) + authors' issue #11 (cv2 INTER_CUBIC to 128²); 10 splits of 1,000
    "is10k_c3d": InceptionScoreProtocol(num_videos=10000, runs=1, splits=10, pre_resize=128),
}


# ---------------------------------------------------------------------------------------------------- pure functions
def _split_score(part: np.ndarray, eps: float) -> float:
    """exp(mean_x KL(p(y|x) ‖ p(y))) of one split [n, K] (Salimans et al. 2016, Eq. in Sec. 4)."""
    q = part + eps  # TGANv2 adds eps before the marginal as well
    py = q.mean(axis=0, keepdims=True)  # [1, K]
    kl = xlogy(q, q) - xlogy(q, py)  # [n, K]; with eps > 0 this is q·(log q − log p(y)) exactly
    return float(np.exp(kl.sum(axis=1).mean()))


def inception_score(probs: np.ndarray, splits: int = 1, eps: float = 1e-20) -> tuple[float, float]:
    """Inception Score of class probabilities ``probs`` [N, K]: mean and std (ddof 0) over ``splits`` consecutive
    splits ``probs[i·N//splits : (i+1)·N//splits]`` (TGANv2 / improved-GAN convention)."""
    scores = split_scores(probs, splits, eps)
    return float(np.mean(scores)), float(np.std(scores))


def split_scores(probs: np.ndarray, splits: int = 1, eps: float = 1e-20) -> np.ndarray:
    """Per-split Inception Scores [splits] (float64)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise VidbenchError(f"inception_score: probabilities must be [N, K], got shape {list(p.shape)}")
    n = p.shape[0]
    if splits < 1 or n < splits:
        raise VidbenchError(f"inception_score: need at least {max(splits, 1)} samples for {splits} splits, got {n}")
    if np.any(p < 0):
        raise VidbenchError("inception_score: probabilities must be non-negative")
    return np.array([_split_score(p[i * n // splits : (i + 1) * n // splits], eps) for i in range(splits)])


def estimate(probs: np.ndarray, protocol: InceptionScoreProtocol) -> tuple[float, float, dict]:
    """Apply a protocol's estimator to probabilities [N, K] (N ≤ protocol N; the first N are used, in order).

    Returns (mean, std, details) where details holds the per-run or per-split scores.
    """
    p = np.array(probs[: protocol.num_videos], dtype=np.float64)  # a copy: the shuffle is in place
    if protocol.shuffle == "RandomState(42)":
        np.random.RandomState(42).shuffle(p)
    elif protocol.shuffle != "none":
        raise VidbenchError(f"unknown IS shuffle {protocol.shuffle!r}")
    n = p.shape[0]
    runs, splits = protocol.runs, protocol.splits
    if n < runs * splits:  # fewer videos than the protocol needs (smoke runs): fewer runs/splits, reported
        runs = max(1, min(runs, n // splits))
        splits = max(1, min(splits, n // runs))
    if n < 1:
        raise VidbenchError("IS: no probabilities to score")
    if runs > 1:
        blocks = [p[r * n // runs : (r + 1) * n // runs] for r in range(runs)]
        scores = np.array([inception_score(b, splits, protocol.eps)[0] for b in blocks])
        details = {"per_run": scores.tolist(), "run_sizes": [len(b) for b in blocks], "aggregate": "runs"}
    else:
        scores = split_scores(p, splits, protocol.eps)
        details = {"per_split": scores.tolist(), "aggregate": "splits"}
    details.update(runs_used=runs, splits_used=splits)
    std = float(scores.std(ddof=protocol.std_ddof)) if scores.size > protocol.std_ddof else 0.0
    return float(scores.mean()), std, details


def pre_resize_frames(video: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 frames [T, H, W, 3] to size×size with cv2 INTER_CUBIC (MoCoGAN-HD's 256→128 before IS/FVD)."""
    if video.shape[1:3] == (size, size):
        return video
    import cv2

    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC) for f in video])


# ---------------------------------------------------------------------------------------------------- metric
class InceptionScoreMetric(Metric):
    """Sample metric: ``update(videos)`` accumulates C3D probabilities; ``compute()`` → IS mean ± std."""

    kind = "sample"

    def __init__(self, name: str, protocol: InceptionScoreProtocol, options: MetricOptions | None = None, detector=None):
        options = options or MetricOptions()
        self.random_init = random_init_requested(options)
        if self.random_init and not name.endswith("[random-init]"):
            name = f"{name}[random-init]"
        super().__init__(name, protocol, options)
        self._detector = detector
        self.reset()

    @property
    def detector(self):
        """The C3D detector, built on first use (weights resolved from options or the protocol)."""
        if self._detector is None:
            from vidbench.metrics.detectors.c3d import load_c3d_detector

            c3d_resize = self.protocol.c3d_resize
            if c3d_resize == "inside torchscript":  # npz weights passed to the StyleGAN-V preset: TGANv2's resize
                c3d_resize = "bilinear_align_corners"
            self._detector = load_c3d_detector(
                self.options.detector_weights or self.protocol.weights,
                mean=self.options.extra.get("c3d_mean"),
                weights_dir=self.options.weights_dir,
                device=self.options.device,
                random_init=self.random_init,
                c3d_resize_mode=c3d_resize,
                seed=self.options.seed,
            )
        return self._detector

    def reset(self) -> None:
        self._probs: list[np.ndarray] = []  # float64 [b, 101] blocks
        self._n = 0
        self._ignored = 0
        self._upsampled = 0

    def _prepare(self, video: np.ndarray) -> np.ndarray:
        t = self.protocol.num_frames
        if video.shape[0] < t:
            raise VidbenchError(f"{self.name}: videos need at least {t} frames, got {video.shape[0]}")
        video = video[:t]
        if self.protocol.pre_resize:
            if min(video.shape[1:3]) < self.protocol.pre_resize:
                self._upsampled += 1
            video = pre_resize_frames(video, self.protocol.pre_resize)
        return video

    def update(self, videos) -> None:
        vids = as_video_list(videos)
        room = self.protocol.num_videos - self._n
        if len(vids) > room:
            self._ignored += len(vids) - max(room, 0)
            vids = vids[: max(room, 0)]
        bs = max(1, self.options.batch_size)
        batches = range(0, len(vids), bs)
        if self.options.progress and len(batches) > 1:
            from tqdm import tqdm

            batches = tqdm(batches, desc=f"{self.name} C3D", unit="batch", leave=False)
        for i in batches:
            batch = [self._prepare(v) for v in vids[i : i + bs]]
            if len({b.shape for b in batch}) == 1:
                self._probs.append(self.detector.probs(np.stack(batch)))
            else:  # mixed frame sizes: one at a time (C3D resizes each to 112² anyway)
                self._probs.extend(self.detector.probs(b[None]) for b in batch)
            self._n += len(batch)

    def probabilities(self) -> np.ndarray:
        """Accumulated class probabilities [N, 101] float64, in update order."""
        return np.concatenate(self._probs) if self._probs else np.zeros((0, 101))

    def per_video_rows(self) -> list[dict]:
        """Rows for ``per_video.jsonl``: index, top-1 class, its probability and the entropy H(p(y|x)) in nats."""
        p = self.probabilities()
        top = p.argmax(axis=1) if p.size else np.zeros(0, int)
        ent = -xlogy(p, p).sum(axis=1)
        return [
            {"index": i, "top_class": int(top[i]), "top_prob": float(p[i, top[i]]), "entropy": float(ent[i])}
            for i in range(p.shape[0])
        ]

    def compute(self) -> dict:
        probs = self.probabilities()
        n = probs.shape[0]
        if n == 0:
            raise VidbenchError(f"{self.name}: no videos were given")
        mean, std, details = estimate(probs, self.protocol)
        det = self.detector
        warnings = []
        # comparability (shared policy, metrics/base.py): the detector's own reasons (random-init; C3D / mean2.npz
        # without a published hash are recorded by sha256 and comparable only with runs of the same hash), N, size
        reasons = list(getattr(det, "reasons", ()) or ())
        if self.random_init and RANDOM_INIT_REASON not in reasons:
            reasons.append(RANDOM_INIT_REASON)
        if not self.random_init and not reasons and not det.registered:
            reasons.append(unregistered_weights_reason(det.weights_hash, "C3D weights"))
        if n < self.protocol.num_videos:
            reasons.append(n_below_reason(n, self.protocol.num_videos))
            warnings.append(f"only {n} of the protocol's {self.protocol.num_videos} videos; not comparable")
        if (details["runs_used"], details["splits_used"]) != (self.protocol.runs, self.protocol.splits):
            warnings.append(f"too few videos: {details['runs_used']} run(s) × {details['splits_used']} split(s) "
                            f"instead of {self.protocol.runs} × {self.protocol.splits}")
        if self._ignored:
            warnings.append(f"{self._ignored} videos beyond the protocol's {self.protocol.num_videos} were ignored")
        if self._upsampled:
            warnings.append(f"{self._upsampled} videos were upsampled by pre_resize to {self.protocol.pre_resize}²")
            reasons.append(f"resolution: {self._upsampled} videos smaller than the protocol's pre_resize "
                           f"{self.protocol.pre_resize}² were upsampled")
        if self.random_init:
            warnings.append("random-init C3D: for smoke tests only, the number means nothing")
        top = probs.argmax(axis=1)
        extra = {
            "estimator": details,
            "num_classes": int(probs.shape[1]),
            "detector_kind": det.kind,
            # per-video rows for per_video.jsonl (runner convention: {field: [one value per video]})
            "per_video": {"top_class": top.tolist(), "top_prob": probs[np.arange(n), top].tolist()},
        }
        if det.mean_hash:
            extra["mean_sha256"] = det.mean_hash
        if getattr(det, "file_sha256", None):
            extra["weights_file_sha256"] = det.file_sha256
        extra["ignored_beyond_n"] = self._ignored
        return metric_result(
            value=mean,
            std=std,
            protocol=self.protocol,
            detector=det.label,
            weights_hash=det.weights_hash,
            weights_verified=det.weights_verified,
            comparable=not reasons,
            comparable_reasons=reasons,
            elapsed_s=self.elapsed(),
            warnings=warnings,
            n_fake=n,
            extra=extra,
        )


def _make(name: str, options: MetricOptions | None = None) -> InceptionScoreMetric:
    base = name.removesuffix("[random-init]")
    if base not in PRESETS:
        raise VidbenchError(f"unknown Inception Score preset {name!r}; choose one of {', '.join(PRESETS)}")
    return InceptionScoreMetric(base, PRESETS[base], options)


_DESCRIPTIONS = {
    "is2048x10_c3d_tganv2": "video IS, UCF-101 C3D (TGANv2 npz): 10 runs × 2,048 videos, mean ± std over runs",
    "is2048_c3d_styleganv": "video IS, StyleGAN-V TorchScript C3D: 2,048 videos, RandomState(42), 10 splits",
    "is10k_c3d": "video IS, UCF-101 C3D (TGANv2 npz): 10,000 videos (cv2 cubic → 128²), 10 splits of 1,000",
}
_SUMMARIES = {
    "is2048x10_c3d_tganv2": "N=20480, 10 runs × 2048, splits=1, eps 1e-20, bilinear 112² align_corners",
    "is2048_c3d_styleganv": "N=2048, shuffle RandomState(42), 10 splits, no eps, c3d.ucf101_styleganv_ts",
    "is10k_c3d": "N=10000, pre_resize 128 cv2.INTER_CUBIC, 10 splits of 1000, eps 1e-20",
}
for _name, _proto in PRESETS.items():
    METRICS.add(
        _name, _make, description=_DESCRIPTIONS[_name], kind="sample", protocol=_proto, summary=_SUMMARIES[_name],
        detector="c3d",
    )
