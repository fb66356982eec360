"""Motion diversity — MoCoGAN-HD paper Appendix D (PROTOCOLS.md "Motion diversity").

Fix one content code z1, generate K videos of T frames with fresh motion codes (StyleGAN noise disabled), take the
per-pixel standard deviation of frame T over the K videos and average it over pixels; repeat for M content codes and
report mean ± std over the M trials (paper: full model 0.233 ± 0.036, w/o L_m 0.126 ± 0.025; K=100, T=16, M=50).
The paper does not state the pixel scale: we compute in the generator's own [-1, 1] output range and record it.

Generator callable (the only input; metrics never see a model class)::

    fn(z1: int, n: int) -> videos  # float [n, T_out, C, H, W] in [-1, 1] (numpy array or torch tensor), T_out >= T

``z1`` is the index of the content trial (0..M-1): ``fn`` must map it deterministically to one content code (e.g. a
seeded ``torch.randn``) and sample ``n`` **new** motion trajectories on every call; it is called repeatedly with the
same ``z1`` (``n`` ≤ the batch size) until K videos exist, so K need not fit in memory. The caller disables noise
(``noise_mode="const"``/``"none"``); this is recorded as the protocol field ``noise``.

Example::

    metric = METRICS.get("motion_div100x50_16f").obj("motion_div100x50_16f", MetricOptions(batch_size=25))
    result = metric.compute(fn)      # result["value"] ± result["std"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from vidbench.metrics.base import Metric, MetricOptions

from vidbench.errors import VidbenchError
from vidbench.records import metric_result
from vidbench.registry import METRICS, Entry

GeneratorFn = Callable[[int, int], Any]


@dataclass(frozen=True)
class MotionDiversityProtocol:
    """Appendix D: K videos per content code, M content codes, std of frame T (paper: 100, 50, 16)."""

    num_videos: int = 100  # K: videos per content code
    num_content: int = 50  # M: content codes (trials)
    num_frames: int = 16  # T: the frame whose per-pixel std is measured (1-based: the T-th frame)
    pixel_scale: str = "[-1,1]"  # generator output range the std is computed in (unstated in the paper)
    std_ddof: int = 1  # per-pixel std over K videos: unbiased (torch.std's default); 0.5 % effect at K=100
    noise: str = "disabled"  # StyleGAN per-pixel noise must be off (the caller's duty)
    layout: str = "NTCHW"  # the callable's output layout


PAPER = MotionDiversityProtocol()
PRESETS = {"motion_div100x50_16f": PAPER}
_NAME_RE = re.compile(r"^motion_div([1-9]\d*)x([1-9]\d*)_([1-9]\d*)f$")  # no zero-padded second names


# ----------------------------------------------------------------------------------------------- pure functions
def per_pixel_std(frames: np.ndarray, ddof: int = 1) -> np.ndarray:
    """Per-pixel std over videos of one frame: ``[K,C,H,W] -> [C,H,W]`` (Appendix D, inner step)."""
    return np.asarray(frames, dtype=np.float64).std(axis=0, ddof=ddof)


class _PixelMoments:
    """Streaming per-pixel mean/variance over videos (float64, shifted sums for accuracy); memory O(C·H·W)."""

    def __init__(self):
        self.n = 0
        self.shift = None
        self.s1 = None
        self.s2 = None

    def update(self, x: np.ndarray) -> None:  # x: [b,C,H,W] float64
        if self.shift is None:
            self.shift = x[0].copy()
            self.s1 = np.zeros_like(self.shift)
            self.s2 = np.zeros_like(self.shift)
        d = x - self.shift
        self.s1 += d.sum(axis=0)
        self.s2 += (d * d).sum(axis=0)
        self.n += x.shape[0]

    def std(self, ddof: int) -> np.ndarray:
        if self.n - ddof <= 0:
            raise VidbenchError(f"motion diversity: need more than {ddof} videos per content code, got {self.n}")
        var = (self.s2 - self.s1 * self.s1 / self.n) / (self.n - ddof)
        return np.sqrt(np.maximum(var, 0.0))


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().float().cpu().numpy()
    return np.asarray(x)


def content_trial_std(fn: GeneratorFn, z1: int, protocol: MotionDiversityProtocol, batch_size: int) -> float:
    """One Appendix-D trial: mean over pixels of the per-pixel std of frame T over K videos of content ``z1``."""
    K, T = protocol.num_videos, protocol.num_frames
    mom = _PixelMoments()
    while mom.n < K:
        n = min(batch_size, K - mom.n)
        v = _as_numpy(fn(z1, n))
        if v.dtype == np.uint8:
            raise VidbenchError("motion diversity: fn returned uint8 videos; return the generator's float [-1,1] output")
        if v.ndim != 5 or v.shape[0] != n or v.shape[2] not in (1, 3):
            raise VidbenchError(
                f"motion diversity: fn(z1, {n}) must return float [n,T,C,H,W] (C = 1 or 3), got shape {list(v.shape)}"
            )
        if v.shape[1] < T:
            raise VidbenchError(f"motion diversity: fn returned {v.shape[1]} frames; the protocol reads frame {T}")
        mom.update(v[:, T - 1].astype(np.float64))  # frame T (1-based): [n,C,H,W]
    return float(mom.std(protocol.std_ddof).mean())


# ----------------------------------------------------------------------------------------------- metric
class MotionDiversity(Metric):
    """Generator metric: ``compute(fn)`` runs M trials of K videos and returns mean ± std over trials."""

    kind = "generator"

    def reset(self) -> None:
        self.trials: list[float] = []

    def __init__(self, name: str, protocol: MotionDiversityProtocol, options: MetricOptions | None = None):
        super().__init__(name, protocol, options)
        self.reset()

    def compute(self, fn: GeneratorFn) -> dict:
        p = self.protocol
        self.reset()
        trials = range(p.num_content)
        if self.options.progress:
            from tqdm import tqdm

            trials = tqdm(trials, desc=self.name, unit="content", leave=False)
        for z1 in trials:
            self.trials.append(content_trial_std(fn, z1, p, max(1, int(self.options.batch_size))))
        arr = np.asarray(self.trials, dtype=np.float64)
        mn = float(arr.mean())
        sd = float(arr.std())  # spread over the M content codes (population std)
        warnings, reasons = [], []
        if p.num_videos < PAPER.num_videos:
            reasons.append(f"K={p.num_videos} < paper K={PAPER.num_videos} videos per content code")
        if p.num_content < PAPER.num_content:
            reasons.append(f"M={p.num_content} < paper M={PAPER.num_content} content codes")
        if reasons:
            warnings.append(f"K={p.num_videos}, M={p.num_content} below the paper's K=100, M=50")
        if p.num_frames != PAPER.num_frames:
            warnings.append(f"frame {p.num_frames} measured; the paper uses frame 16")
            reasons.append(f"frame {p.num_frames} measured; the paper uses frame {PAPER.num_frames}")
        return metric_result(
            value=mn, std=sd, protocol=p, detector=None, weights_hash=None, weights_verified=None,
            comparable=not reasons, comparable_reasons=reasons, elapsed_s=self.elapsed(), warnings=warnings, n_fake=p.num_videos * p.num_content,
            extra={"pixel_scale": p.pixel_scale, "per_content_std": self.trials, "K": p.num_videos,
                   "M": p.num_content, "frame": p.num_frames},
        )


def _make(name: str, protocol: MotionDiversityProtocol):
    def make(name_: str = name, options: MetricOptions | None = None) -> MotionDiversity:
        return MotionDiversity(name_, protocol, options)

    return make


def _summary(p: MotionDiversityProtocol) -> str:
    return (f"K={p.num_videos} videos x M={p.num_content} content codes, per-pixel std of frame {p.num_frames} "
            f"in {p.pixel_scale}, noise {p.noise}; mean ± std over content codes")


METRICS.add("motion_div100x50_16f", _make("motion_div100x50_16f", PAPER),
            description="Motion diversity (App. D): per-pixel std of frame 16 over 100 motions x 50 contents",
            kind="generator", protocol=PAPER, summary=_summary(PAPER))


def _resolve(name: str) -> Entry | None:
    m = _NAME_RE.match(name)
    if not m:
        return None
    K, M, T = (int(g) for g in m.groups())
    if K < 2 or M < 1 or T < 1:
        raise VidbenchError(f"{name}: need K >= 2 videos, M >= 1 content codes, T >= 1")
    proto = MotionDiversityProtocol(num_videos=K, num_content=M, num_frames=T)
    return Entry(name, _make(name, proto), f"Motion diversity, K={K}, M={M}, frame {T}",
                 meta={"kind": "generator", "protocol": proto, "summary": _summary(proto)})


METRICS.add_resolver("motion_div{K}x{M}_{T}f", _resolve)
