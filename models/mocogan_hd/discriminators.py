"""MoCoGAN-HD discriminators: video D_V (App. A.2.1, Tab. 6), image D_I (§3.2, App. A.2.2), memory bank, EMA.

* :class:`MultiScalePatchGAN` with ``dim=3`` is D_V: Conv3d k4 (pad 2) 64 s2 → 128 s2 IN → 256 s2 IN → 512 s1 IN →
  1 s1, LeakyReLU 0.2, at two scales (input and a 3×3 average-pooled half-resolution copy, i.e. 128² and 64²).
  With ``dim=2`` it is the released in-domain D_I (2D twin on (first frame, frame k) channel pairs).
* :class:`ContrastiveImageDiscriminator` is D_I for the contrastive recipe: a BigGAN discriminator without
  self-attention (``vidbench.models.biggan.BigGANDiscriminator``, its pooled ``features(x)``) plus a logit layer and
  the projection head F (2 FC, 256) of Eqn. 6.
* :class:`MemoryBank` is the MoCo ring buffer of negatives (4,096 × 256); :func:`ema_update` the key-encoder update.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

# ------------------------------------------------------------------------------------------------ inputs


def video_d_input(video: torch.Tensor, domain: str = "in") -> torch.Tensor:
    """Arrange a clip for D_V (App. A.2.1).

    video: [B, T, 3, H, W] in [-1, 1]. In-domain: each of the T−1 later frames channel-concatenated with the first
    frame -> [B, 6, T-1, H, W]. Cross-domain: the raw clip -> [B, 3, T, H, W].
    """
    if domain == "cross":
        return video.permute(0, 2, 1, 3, 4).contiguous()
    first = video[:, :1].expand(-1, video.shape[1] - 1, -1, -1, -1)  # [B, T-1, 3, H, W]
    pairs = torch.cat([first, video[:, 1:]], dim=2)  # [B, T-1, 6, H, W]
    return pairs.permute(0, 2, 1, 3, 4).contiguous()


def image_pair_input(video: torch.Tensor, k: int) -> torch.Tensor:
    """Released in-domain D_I input: channel-concat [frame 1, frame k] -> [B, 6, H, W] (k is a 0-based index)."""
    return torch.cat([video[:, 0], video[:, k]], dim=1)


def time_reverse(x: torch.Tensor, p: float, dim: int = 2) -> torch.Tensor:
    """Released temporal augmentation: with probability ``p`` reverse the whole batch along ``dim`` (time)."""
    if p > 0 and torch.rand(()).item() < p:
        return x.flip(dim)
    return x


# ------------------------------------------------------------------------------------------------ PatchGAN


class PatchGAN(nn.Module):
    """One scale of the (2D or 3D) PatchGAN of Tab. 6; returns the output of every layer (last = patch logits)."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, dim: int = 3):
        super().__init__()
        conv = nn.Conv3d if dim == 3 else nn.Conv2d
        norm = nn.InstanceNorm3d if dim == 3 else nn.InstanceNorm2d
        k, pad = 4, 2  # kernel 4 in every dimension, padding ceil(3/2) (released D_3d.py)
        layers = [nn.Sequential(conv(in_channels, ndf, k, 2, pad), nn.LeakyReLU(0.2, True))]
        nf = ndf
        for i in range(1, n_layers):  # 128 s2 IN, 256 s2 IN
            prev, nf = nf, min(nf * 2, 512)
            layers.append(nn.Sequential(conv(prev, nf, k, 2, pad), norm(nf), nn.LeakyReLU(0.2, True)))
        prev, nf = nf, min(nf * 2, 512)  # 512 s1 IN
        layers.append(nn.Sequential(conv(prev, nf, k, 1, pad), norm(nf), nn.LeakyReLU(0.2, True)))
        layers.append(nn.Sequential(conv(nf, 1, k, 1, pad)))  # 1 s1, patch logits
        self.layers = nn.ModuleList(layers)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for layer in self.layers:
            x = layer(x)
            outs.append(x)
        return outs


class MultiScalePatchGAN(nn.Module):
    """Multi-scale PatchGAN (pix2pixHD style). ``dim=3``: D_V; ``dim=2``: the released in-domain D_I.

    forward(x) -> list over scales of patch-logit maps: x [B, C, T, H, W] (3D) or [B, C, H, W] (2D). Scale s+1 sees
    AvgPool(3, stride 2 in space — and in time only when T > 16 —, pad 1, count_include_pad=False) of scale s.
    Shapes (3D, in-domain, 128², T-1=15): [B,1,5,19,19] and [B,1,5,11,11].
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_scales: int = 2, dim: int = 3):
        super().__init__()
        self.dim = dim
        self.scales = nn.ModuleList(PatchGAN(in_channels, ndf, n_layers, dim) for _ in range(num_scales))

    def _down(self, x: torch.Tensor) -> torch.Tensor:
        if self.dim == 2:
            return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        ts = 2 if x.shape[2] > 16 else 1
        return F.avg_pool3d(x, 3, stride=(ts, 2, 2), padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor, all_layers: bool = False):
        outs = []
        for i, d in enumerate(self.scales):
            if i:
                x = self._down(x)
            o = d(x)
            outs.append(o if all_layers else o[-1])
        return outs


class VideoDiscriminator(MultiScalePatchGAN):
    """D_V (App. A.2.1, Tab. 6): in-domain 6 input channels (first frame ⊕ frame t), cross-domain 3."""

    def __init__(self, domain: str = "in", ndf: int = 64, num_scales: int = 2):
        super().__init__(6 if domain == "in" else 3, ndf=ndf, n_layers=3, num_scales=num_scales, dim=3)
        self.domain = domain


class PatchImageDiscriminator(MultiScalePatchGAN):
    """Released in-domain D_I: 2-scale 2D PatchGAN on (first frame, frame k) pairs [B, 6, H, W]."""

    def __init__(self, ndf: int = 64, num_scales: int = 2):
        super().__init__(6, ndf=ndf, n_layers=3, num_scales=num_scales, dim=2)


# ------------------------------------------------------------------------------------------------ contrastive D_I


class ContrastiveImageDiscriminator(nn.Module):
    """D_I with the projection head F of Eqn. 6 on a BigGAN trunk (no self-attention).

    ``trunk.features(x)`` returns the penultimate feature h [B, C] of a BigGAN discriminator and ``trunk.linear`` is
    its last layer (C -> 1). head="paper": h = ReLU-sum-pooled trunk output (C = 16·ch), logit = linear(h),
    F = FC(C→256) → ReLU → FC(256→256) (App. A.2.2: D_I minus its last layer, plus a 2-layer projection head).
    head="released": the trunk is built with ``proj_dim=256`` so h = ReLU(SN-Linear(16·ch→256)(pooled)) is shared
    by the logit ``linear`` (256→1) and the head proj2(ReLU(proj1(h))) (``MoCoGAN-HD@27356ba:models/D_img.py``).
    forward(x [B,3,H,W]) -> (logit [B,1], projection [B, proj_dim]). Spectral norm on the head layers.
    """

    def __init__(self, trunk: nn.Module, feat_dim: int, proj_dim: int = 256, head: str = "paper"):
        super().__init__()
        if head not in ("paper", "released"):
            raise ValueError(f"head must be 'paper' or 'released', got {head!r}")
        self.trunk = trunk
        self.head = head
        if not isinstance(getattr(trunk, "linear", None), nn.Module):
            self.logit = spectral_norm(nn.Linear(feat_dim, 1))
        self.proj1 = spectral_norm(nn.Linear(feat_dim, proj_dim))
        self.proj2 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        for m in (self.proj1, self.proj2):
            nn.init.orthogonal_(m.parametrizations.weight.original)

    def forward(self, x: torch.Tensor):
        h = self.trunk.features(x)  # [B, C]
        last = self.logit if hasattr(self, "logit") else self.trunk.linear
        logit = last(h)  # [B, 1]
        proj = self.proj2(F.relu(self.proj1(h)))  # [B, proj_dim]
        return logit, proj


def build_biggan_image_discriminator(resolution: int, ch: int = 96, proj_dim: int = 256, head: str = "paper"):
    """BigGAN D (no attention, ReLU, SN, ortho init; ``vidbench.models.biggan``) with the contrastive heads."""
    from vidbench.models.biggan import BigGANDiscriminator

    trunk = BigGANDiscriminator(resolution, ch, attention="", proj_dim=proj_dim if head == "released" else None)
    return ContrastiveImageDiscriminator(trunk, int(trunk.feature_dim), proj_dim, head)


# ------------------------------------------------------------------------------------------------ memory bank / EMA


class MemoryBank(nn.Module):
    """MoCo ring buffer of ``size`` negatives of width ``dim`` (App. A.2.2: 4,096). State lives in buffers."""

    def __init__(self, size: int = 4096, dim: int = 256):
        super().__init__()
        self.register_buffer("queue", F.normalize(torch.randn(size, dim), dim=1))  # [K, C]
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Write ``keys`` [N, C] over the oldest entries (wrapping around)."""
        keys = keys.detach()
        n, size = keys.shape[0], self.queue.shape[0]
        if n >= size:
            self.queue.copy_(keys[-size:])
            self.ptr.zero_()
            return
        idx = (self.ptr + torch.arange(n, device=keys.device)) % size
        self.queue[idx] = keys.to(self.queue.dtype)
        self.ptr.copy_((self.ptr + n) % size)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, m: float = 0.999) -> None:
    """MoCo key-encoder update p_ema ← m·p_ema + (1−m)·p; buffers (spectral-norm u/v) copied."""
    for pe, p in zip(ema.parameters(), model.parameters()):
        pe.mul_(m).add_(p.detach(), alpha=1 - m)
    for be, b in zip(ema.buffers(), model.buffers()):
        be.copy_(b)


def make_ema(model: nn.Module) -> nn.Module:
    """An exact, frozen copy of ``model`` to serve as the EMA key encoder."""
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


__all__ = [
    "ContrastiveImageDiscriminator",
    "MemoryBank",
    "MultiScalePatchGAN",
    "PatchGAN",
    "PatchImageDiscriminator",
    "VideoDiscriminator",
    "build_biggan_image_discriminator",
    "ema_update",
    "image_pair_input",
    "make_ema",
    "time_reverse",
    "video_d_input",
]
