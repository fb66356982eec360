"""TF1-exact bilinear resize in PyTorch (PROTOCOLS.md FVD: ``tf.compat.v1.image.resize_bilinear``).

TF1's ``resize_bilinear(align_corners=False, half_pixel_centers=False)`` maps output pixel ``i`` to the source
coordinate ``src = i * in / out`` (no half-pixel offset, unlike ``torch.nn.functional.interpolate`` with
``align_corners=False``, which uses ``(i + 0.5) * in / out - 0.5``). With ``y0 = floor(src)``,
``y1 = min(y0 + 1, in - 1)`` and ``dy = src - y0`` the value is the usual bilinear blend, computed in float32 as TF
does (``scale = float32(in) / float32(out)``). Downscaling does no anti-aliasing (TF1 does none either).

The FVD reference code calls it on float32 frames in 0..255 before mapping to [-1, 1].

**Evaluation size** (:func:`eval_resize`, :func:`pre_resize`). Every metric first sees generated frames at the
protocol's evaluation size, then applies its own named resize (FVD: TF1 bilinear to 224; FID: TF1 bilinear to 299;
IS/C3D: ``pre_resize`` cv2 INTER_CUBIC to 128 for ``is10k_c3d``, then ``c3d_resize`` Chainer bilinear to 112; ACD
facenet: average pooling to 128; PSNR/SSIM: none, sizes must match). The evaluation size is the protocol's own
``pre_resize`` where it has one, else the real set's frame size; generated frames are brought to it with cv2
``INTER_AREA`` (an exact box mean for integer factors such as 256→128, i.e. MoCoGAN-HD's average pooling of generated
frames) or, for ``pre_resize`` protocols, the interpolation the protocol names. Paired protocols
(``eval_resize = "none"``) never resize. A metric that still sees different real/generated (or protocol) sizes at
compute time reports ``comparable: false`` with the reason.

    rule = eval_resize(metric.protocol, real_size=(128, 128))   # EvalResize(size=(128, 128), method="cv2.INTER_AREA")
    fake = pre_resize(fake_videos, rule)                         # uint8 [B,T,128,128,3]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vidbench.errors import VidbenchError

__all__ = ["EvalResize", "GENERATED_RESIZE", "eval_resize", "pre_resize", "resize_bilinear_tf1"]

GENERATED_RESIZE = "cv2.INTER_AREA"  # generated frames -> real frame size (box mean; MoCoGAN-HD average pooling)
_CV2_METHODS = ("cv2.INTER_AREA", "cv2.INTER_CUBIC", "cv2.INTER_LINEAR", "cv2.INTER_LANCZOS4")


@dataclass(frozen=True)
class EvalResize:
    """How generated frames reach a protocol's evaluation size: ``size`` (h, w) or None (leave as is)."""

    size: tuple[int, int] | None
    method: str  # one of _CV2_METHODS, or "none"
    source: str  # "protocol pre_resize" | "real set size" | "paired: sizes must match" | "unknown real size"

    def describe(self) -> str:
        if self.size is None:
            return f"no resize ({self.source})"
        return f"{self.method} to {self.size[0]}x{self.size[1]} ({self.source})"


def eval_resize(protocol: Any, real_size: tuple[int, int] | int | None = None) -> EvalResize:
    """The evaluation-size rule of ``protocol``: its ``pre_resize`` (+ ``pre_resize_interp``) if set; ``"none"`` for
    protocols with ``eval_resize == "none"`` (paired metrics); else the real set's ``(h, w)`` with cv2.INTER_AREA."""
    get = protocol.get if isinstance(protocol, dict) else (lambda k, d=None: getattr(protocol, k, d))
    if get("eval_resize") == "none":
        return EvalResize(None, "none", "paired: sizes must match")
    pre = get("pre_resize")
    if pre:
        method = get("pre_resize_interp") or "cv2.INTER_CUBIC"
        return EvalResize((int(pre), int(pre)), method, "protocol pre_resize")
    if real_size is None:
        return EvalResize(None, "none", "unknown real size")
    if isinstance(real_size, int):
        real_size = (real_size, real_size)
    return EvalResize((int(real_size[0]), int(real_size[1])), GENERATED_RESIZE, "real set size")


def pre_resize(videos, rule: EvalResize):
    """Resize uint8 videos (``[B,T,H,W,3]`` array, one ``[T,H,W,3]`` video, or a list of them) per ``rule``.

    Returns the same container kind (array in → array out). Frames already at the size are returned unchanged.
    """
    if rule.size is None:
        return videos
    if rule.method not in _CV2_METHODS:
        raise VidbenchError(f"pre_resize: unknown method {rule.method!r}; choose one of {', '.join(_CV2_METHODS)}")
    import cv2

    interp = getattr(cv2, rule.method.split(".", 1)[1])
    h, w = rule.size

    def one(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        if v.dtype != np.uint8 or v.ndim != 4 or v.shape[-1] != 3:
            raise VidbenchError(f"pre_resize: expected uint8 [T,H,W,3] videos, got {v.dtype} {list(v.shape)}")
        if v.shape[1:3] == (h, w):
            return v
        return np.stack([cv2.resize(np.ascontiguousarray(f), (w, h), interpolation=interp) for f in v])

    if isinstance(videos, np.ndarray):
        if videos.ndim == 4:
            return one(videos)
        if videos.ndim == 5:
            return np.stack([one(v) for v in videos]) if len(videos) else videos
        raise VidbenchError(f"pre_resize: expected [B,T,H,W,3] or [T,H,W,3], got {list(videos.shape)}")
    return [one(v) for v in videos]


def _tf1_source_index(in_size: int, out_size: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(lower index, upper index, fractional weight) for each output position, as TF1 computes them."""
    scale = torch.tensor(in_size, dtype=torch.float32) / torch.tensor(out_size, dtype=torch.float32)
    src = torch.arange(out_size, dtype=torch.float32, device=device) * scale.to(device)  # [out]
    lo = torch.floor(src).to(torch.long)
    lo = lo.clamp_(0, in_size - 1)
    hi = (lo + 1).clamp_(max=in_size - 1)
    frac = src - lo.to(torch.float32)
    return lo, hi, frac


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int] | int) -> torch.Tensor:
    """Resize ``x`` [N,C,H,W] (float) to ``size`` = (h, w) exactly like TF1 ``resize_bilinear`` (no half pixel).

    Integer inputs are converted to float32. Returns a float tensor [N,C,h,w] of the same float dtype as ``x``.
    """
    if isinstance(size, int):
        size = (size, size)
    out_h, out_w = int(size[0]), int(size[1])
    if x.ndim != 4:
        raise ValueError(f"resize_bilinear_tf1: expected [N,C,H,W], got {list(x.shape)}")
    if not torch.is_floating_point(x):
        x = x.to(torch.float32)
    in_h, in_w = x.shape[-2], x.shape[-1]
    if (in_h, in_w) == (out_h, out_w):
        return x
    y0, y1, dy = _tf1_source_index(in_h, out_h, x.device)
    x0, x1, dx = _tf1_source_index(in_w, out_w, x.device)
    dy = dy.to(x.dtype).view(1, 1, out_h, 1)
    dx = dx.to(x.dtype).view(1, 1, 1, out_w)
    top = x.index_select(2, y0)  # [N,C,h,W]
    bot = x.index_select(2, y1)
    # TF1 kernel: top = tl + (tr - tl) * dx; bottom likewise; out = top + (bottom - top) * dy
    tl, tr = top.index_select(3, x0), top.index_select(3, x1)  # [N,C,h,w]
    bl, br = bot.index_select(3, x0), bot.index_select(3, x1)
    t = tl + (tr - tl) * dx
    b = bl + (br - bl) * dx
    return t + (b - t) * dy
