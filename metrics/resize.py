"""TF1-exact bilinear resize in PyTorch (PROTOCOLS.md FVD: ``tf.compat.v1.image.resize_bilinear``).

TF1's ``resize_bilinear(align_corners=False, half_pixel_centers=False)`` maps output pixel ``i`` to the source
coordinate ``src = i * in / out`` (no half-pixel offset, unlike ``torch.nn.functional.interpolate`` with
``align_corners=False``, which uses ``(i + 0.5) * in / out - 0.5``). With ``y0 = floor(src)``,
``y1 = min(y0 + 1, in - 1)`` and ``dy = src - y0`` the value is the usual bilinear blend, computed in float32 as TF
does (``scale = float32(in) / float32(out)``). Downscaling does no anti-aliasing (TF1 does none either).

The FVD reference code calls it on float32 frames in 0..255 before mapping to [-1, 1].
"""

from __future__ import annotations

import torch

__all__ = ["resize_bilinear_tf1"]


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
