"""Differentiable image augmentations for the contrastive D_I (App. A.2.2) and the released ``warp``.

All functions take x [B, 3, H, W] in [-1, 1], draw independent parameters per image from ``generator`` (or the
global torch RNG) and are differentiable w.r.t. x (gradients reach G_M through L_f and the D_I adversarial loss).

* :func:`augment_paper` applies every augmentation listed in App. A.2.2, in this order: affine (rotation
  U(−180°, 180°), translation U(−0.1, 0.1) per axis in normalised coordinates, scale U(0.95, 1.05)), brightness
  (U(−0.5, 0.5) added to all channels), colour (U(−0.5, 0.5) added to one random channel), cutout (a random
  α_m·H × α_m·W box, α_m ~ U(0, 0.25), set to 0) and horizontal flip with p = 0.5.
* :func:`augment_released` is the authors' ``warp``: cutout always (side U(0.125, 0.25)·H in a band along one of the
  four borders), then exactly one of {flip p=0.5, colour (all channels or one of R/G/B), affine} chosen uniformly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _u(n, lo, hi, g, device):
    return torch.rand(n, generator=g, device="cpu").to(device) * (hi - lo) + lo


def affine(x: torch.Tensor, angle_deg: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, scale: torch.Tensor):
    """Rotate/translate/scale each image (bilinear, reflection padding, align_corners=False).

    angle_deg, tx, ty, scale: [B]; translation in normalised coordinates ([-1, 1] spans the image).
    """
    a = angle_deg * math.pi / 180.0
    cos, sin = torch.cos(a) / scale, torch.sin(a) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    ).to(x.dtype)  # [B, 2, 3] output->input sampling grid
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def cutout_mask(h: int, w: int, top: torch.Tensor, left: torch.Tensor, size_h: torch.Tensor, size_w: torch.Tensor):
    """[B, 1, H, W] float mask: 0 inside the box [top, top+size_h) × [left, left+size_w), 1 elsewhere."""
    ys = torch.arange(h, device=top.device)[None, :, None]
    xs = torch.arange(w, device=top.device)[None, None, :]
    inside = (
        (ys >= top[:, None, None]) & (ys < (top + size_h)[:, None, None])
        & (xs >= left[:, None, None]) & (xs < (left + size_w)[:, None, None])
    )
    return (~inside).float()[:, None]


def augment_paper(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """App. A.2.2: affine → brightness → colour (one channel) → cutout → horizontal flip (p 0.5), per image."""
    b, c, h, w = x.shape
    dev, g = x.device, generator
    x = affine(x, _u(b, -180, 180, g, dev), _u(b, -0.1, 0.1, g, dev), _u(b, -0.1, 0.1, g, dev), _u(b, 0.95, 1.05, g, dev))
    x = x + _u(b, -0.5, 0.5, g, dev)[:, None, None, None]  # brightness
    ch = torch.randint(0, c, (b,), generator=g).to(dev)
    onehot = F.one_hot(ch, c).to(x.dtype)[:, :, None, None]  # [B, C, 1, 1]
    x = x + onehot * _u(b, -0.5, 0.5, g, dev)[:, None, None, None]  # colour
    am = _u(b, 0.0, 0.25, g, dev)
    sh, sw = (am * h).long(), (am * w).long()
    top = (torch.rand(b, generator=g).to(dev) * (h - sh + 1).float()).long()
    left = (torch.rand(b, generator=g).to(dev) * (w - sw + 1).float()).long()
    x = x * cutout_mask(h, w, top, left, sh, sw).to(x.dtype)
    flip = (torch.rand(b, generator=g) < 0.5).to(dev)[:, None, None, None]
    return torch.where(flip, x.flip(3), x)


def cutout_released(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Released cutout: a square of side round(H·r − 0.5), r ~ U(0.125, 0.25), set to 0, placed in a band along one
    of the four borders (top: h₀ ~ U(0, 0.25 − r), w₀ ~ U(0, 0.75); bottom: h₀ ~ U(0.75, 1 − r); left/right alike)."""
    b, c, h, w = x.shape
    dev, g = x.device, generator
    r = _u(b, 0.125, 0.25, g, dev)
    side = torch.round(h * r - 0.5).long()
    border = torch.randint(0, 4, (b,), generator=g).to(dev)  # 0 top, 1 bottom, 2 left, 3 right
    along = _u(b, 0.0, 0.75, g, dev)
    near = torch.rand(b, generator=g).to(dev) * (0.25 - r)  # U(0, 0.25 − r)
    far = 0.75 + torch.rand(b, generator=g).to(dev) * (0.25 - r)  # U(0.75, 1 − r)
    hs = torch.where(border == 0, near, torch.where(border == 1, far, along))
    ws = torch.where(border == 2, near, torch.where(border == 3, far, along))
    top = torch.round(hs * (h - 1) - 0.5).long().clamp(min=0)
    left = torch.round(ws * (w - 1) - 0.5).long().clamp(min=0)
    return x * cutout_mask(h, w, top, left, side, side).to(x.dtype)


def augment_released(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Released ``warp``: border-band cutout (always), then one of flip / colour / affine (uniformly)."""
    b, c, h, w = x.shape
    dev, g = x.device, generator
    x = cutout_released(x, g)
    # one of three
    which = torch.randint(0, 3, (b,), generator=g).to(dev)
    flip = (torch.rand(b, generator=g) < 0.5).to(dev) & (which == 0)
    x_flip = torch.where(flip[:, None, None, None], x.flip(3), x)
    cval = _u(b, -0.5, 0.5, g, dev)
    mode = torch.randint(0, 4, (b,), generator=g).to(dev)  # 0 all channels, 1..3 one of R/G/B
    chmask = torch.ones(b, c, device=dev)
    one = F.one_hot((mode - 1).clamp(min=0), c).float()
    chmask = torch.where((mode == 0)[:, None], chmask, one).to(x.dtype)
    x_col = x + chmask[:, :, None, None] * cval[:, None, None, None]
    x_aff = affine(x, _u(b, -180, 180, g, dev), _u(b, -0.1, 0.1, g, dev), _u(b, -0.1, 0.1, g, dev), _u(b, 0.95, 1.05, g, dev))
    sel = which[:, None, None, None]
    return torch.where(sel == 0, x_flip, torch.where(sel == 1, x_col, x_aff))


def augment(x: torch.Tensor, mode: str = "paper", generator: torch.Generator | None = None) -> torch.Tensor:
    if mode == "paper":
        return augment_paper(x, generator)
    if mode == "released":
        return augment_released(x, generator)
    raise ValueError(f"augment mode must be 'paper' or 'released', got {mode!r}")


__all__ = ["affine", "augment", "cutout_released", "augment_paper", "augment_released", "cutout_mask"]
