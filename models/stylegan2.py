"""StyleGAN2 (Karras et al. 2020, config-f) in pure PyTorch, compatible with rosinality/stylegan2-pytorch checkpoints.

MoCoGAN-HD (paper §3, App. A.1) renders every frame with a frozen, pre-trained StyleGAN2 in the rosinality PyTorch
format (checkpoint key ``g_ema``). This module holds:

* the building blocks written in plain torch ops (no custom CUDA): :func:`upfirdn2d` (upsample, FIR filter,
  downsample), :func:`fused_leaky_relu`, equalised-learning-rate layers, modulated/demodulated convolution;
* :class:`Generator` — mapping network (PixelNorm + ``n_mlp`` EqualLinear, lr_mul 0.01, leaky ReLU) and a skip
  synthesis network (constant input, two modulated convs per resolution with noise injection, ToRGB skips upsampled
  with the [1,3,3,1] blur kernel);
* :class:`Discriminator` — the residual discriminator with a minibatch-stddev layer;
* :func:`load_rosinality_checkpoint` — explicit key remap from the community key names (CHECKPOINT_FORMATS.md §4) to
  ours, with shape checks and safe loading (``torch.load(weights_only=True)``, only ``argparse.Namespace`` allow-listed);
* :func:`to_rosinality_state_dict` — the inverse remap, so our own training checkpoints use the community format.

Image generator interface used by the motion model::

    G = Generator(StyleGAN2Config(size=256))
    w = G.mapping(z)                                   # [B,512] -> [B,512]
    img = G.synthesis(w, noise_mode="const")           # [B,3,256,256] in about [-1,1]
    noise = G.make_noise(B)                            # per-video noise maps, repeat them over T frames
"""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.errors import VidbenchError
from vidbench.registry import MODELS
from vidbench.weights import WeightSpec, register_weights

NoiseMode = Literal["random", "const", "none"]

# rosinality's default channel table (Generator.channels); channel_multiplier scales resolutions >= 64.
_BASE_CHANNELS = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}


@dataclass(frozen=True)
class StyleGAN2Config:
    """Architecture of a StyleGAN2 generator/discriminator (defaults: config-f as used by MoCoGAN-HD, App. A.1)."""

    size: int = 256  # output resolution; MoCoGAN-HD uses 128/256/512/1024 (App. B)
    style_dim: int = 512  # z and w dimension (App. A.1: 512)
    n_mlp: int = 8  # mapping-network depth (StyleGAN2 config-f)
    channel_multiplier: int = 2  # config-f
    lr_mlp: float = 0.01  # equalised-lr multiplier of the mapping network
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)  # FIR kernel for up/down-sampling
    channel_max: int = 512  # cap on channels at every resolution (small values give tiny CPU models)
    channels: tuple[int, ...] | None = None  # explicit channels for 4,8,...,size (overrides the table)

    def validate(self) -> None:
        if self.size < 4 or self.size & (self.size - 1):
            raise VidbenchError(f"StyleGAN2 size must be a power of two >= 4, got {self.size}")
        if self.channels is not None and len(self.channels) != self.log_size - 1:
            raise VidbenchError(
                f"StyleGAN2 channels must list one value per resolution 4..{self.size} ({self.log_size - 1} values)"
            )

    @property
    def log_size(self) -> int:
        return int(math.log2(self.size))

    def channel_table(self) -> dict[int, int]:
        """Channels per resolution 4..size."""
        self.validate()
        res = [2**i for i in range(2, self.log_size + 1)]
        if self.channels is not None:
            return dict(zip(res, self.channels))
        out = {}
        for r in res:
            c = _BASE_CHANNELS.get(r, max(1, 16 * 1024 // r)) * (self.channel_multiplier if r >= 64 else 1)
            out[r] = min(c, self.channel_max)
        return out

    @property
    def n_latent(self) -> int:
        return self.log_size * 2 - 2

    @property
    def num_layers(self) -> int:  # noise inputs
        return (self.log_size - 2) * 2 + 1


def tiny_config(size: int = 32, channels: int = 32, style_dim: int = 64, n_mlp: int = 2) -> StyleGAN2Config:
    """A small StyleGAN2 for CPU tests and the tiny training preset (same architecture, fewer channels)."""
    return StyleGAN2Config(size=size, style_dim=style_dim, n_mlp=n_mlp, channel_max=channels)


# ---------------------------------------------------------------------------------------------------------- ops
def make_kernel(k: Sequence[float]) -> torch.Tensor:
    """Separable FIR kernel: outer product of ``k`` with itself, normalised to sum 1. [K,K]"""
    t = torch.tensor(list(k), dtype=torch.float32)
    if t.ndim == 1:
        t = t[None, :] * t[:, None]
    return t / t.sum()


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)):
    """Upsample by zero insertion, pad, convolve with the FIR ``kernel`` (true convolution), downsample.

    Pure-torch equivalent of StyleGAN2's ``upfirdn2d`` op with the same padding convention
    (``pad=(pad0, pad1)`` applied to both axes; negative values crop). x: [B,C,H,W] -> [B,C,H',W'].
    """
    b, c, h, w = x.shape
    pad0, pad1 = pad
    if up > 1:  # zero insertion: [B,C,H,1,W,1] -> pad -> [B,C,H*up,W*up]
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(b, c, h * up, w * up)
    x = F.pad(x, (max(pad0, 0), max(pad1, 0), max(pad0, 0), max(pad1, 0)))
    hh, ww = x.shape[2], x.shape[3]
    x = x[:, :, max(-pad0, 0) : hh - max(-pad1, 0), max(-pad0, 0) : ww - max(-pad1, 0)]
    kh, kw = kernel.shape
    weight = torch.flip(kernel, [0, 1]).to(x.dtype).view(1, 1, kh, kw).repeat(c, 1, 1, 1)  # [C,1,kh,kw]
    x = F.conv2d(x, weight, groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope: float = 0.2, scale: float = 2**0.5):
    """leaky_relu(x + bias) * sqrt(2) (bias broadcast over channel dim 1)."""
    if bias is not None:
        shape = [1, bias.shape[0]] + [1] * (x.ndim - 2)
        x = x + bias.view(shape)
    return F.leaky_relu(x, negative_slope) * scale


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels: int, bias: bool = True):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x):
        return fused_leaky_relu(x, self.bias)


class PixelNorm(nn.Module):
    def forward(self, x):  # [B,D]
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


class Upsample(nn.Module):
    """2x upsampling with the FIR kernel (gain factor² keeps the mean)."""

    def __init__(self, kernel: Sequence[int], factor: int = 2):
        super().__init__()
        self.factor = factor
        k = make_kernel(kernel) * factor**2
        self.register_buffer("kernel", k, persistent=False)
        p = k.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x):
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class Blur(nn.Module):
    def __init__(self, kernel: Sequence[int], pad: tuple[int, int], upsample_factor: int = 1):
        super().__init__()
        k = make_kernel(kernel)
        if upsample_factor > 1:
            k = k * upsample_factor**2
        self.register_buffer("kernel", k, persistent=False)
        self.pad = pad

    def forward(self, x):
        return upfirdn2d(x, self.kernel, pad=self.pad)


class EqualConv2d(nn.Module):
    """Conv2d with equalised learning rate: weights stored ~N(0,1), scaled by 1/sqrt(fan_in) at run time."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.stride, self.padding = stride, padding
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, bias=self.bias, stride=self.stride, padding=self.padding)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate and lr multiplier (weights stored as randn / lr_mul)."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x):
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias=bias)


class ModulatedConv2d(nn.Module):
    """Modulated (and optionally demodulated) convolution, StyleGAN2 §2.2; optional 2x up- or down-sampling."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False, downsample: bool = False, blur_kernel: Sequence[int] = (1, 3, 3, 1)):
        super().__init__()
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.upsample, self.downsample, self.demodulate = upsample, downsample, demodulate
        factor = 2
        if upsample:
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        if downsample:
            p = (len(blur_kernel) - factor) + (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)

    fused = False  # True: one grouped conv with per-sample weights; False: modulate activations (same math)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if not self.fused:
            return self._forward_unfused(x, style)
        b, c, h, w = x.shape  # x: [B,in,H,W], style: [B,style_dim]
        s = self.modulation(style).view(b, 1, c, 1, 1)
        weight = self.scale * self.weight * s  # [B,out,in,k,k]
        if self.demodulate:
            d = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)  # [B,out]
            weight = weight * d.view(b, self.out_ch, 1, 1, 1)
        k = self.kernel_size
        x = x.reshape(1, b * c, h, w)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * c, self.out_ch, k, k)
            out = F.conv_transpose2d(x, weight, padding=0, stride=2, groups=b)
            out = out.view(b, self.out_ch, out.shape[2], out.shape[3])
            return self.blur(out)
        weight = weight.reshape(b * self.out_ch, c, k, k)
        if self.downsample:
            x = self.blur(x.view(b, c, h, w))
            x = x.reshape(1, b * c, x.shape[2], x.shape[3])
            out = F.conv2d(x, weight, padding=0, stride=2, groups=b)
        else:
            out = F.conv2d(x, weight, padding=self.padding, groups=b)
        return out.view(b, self.out_ch, out.shape[2], out.shape[3])


    def _forward_unfused(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Scale input channels by the style, convolve with the shared weight, scale outputs by the demodulation
        coefficients: identical to the fused form, faster on CPU (no grouped convolution)."""
        b, c = x.shape[:2]
        s = self.modulation(style)  # [B,in]
        weight = self.scale * self.weight[0]  # [out,in,k,k]
        x = x * s.view(b, c, 1, 1)
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), padding=0, stride=2))
        elif self.downsample:
            out = F.conv2d(self.blur(x), weight, padding=0, stride=2)
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            d = torch.rsqrt((weight[None] * s.view(b, 1, c, 1, 1)).pow(2).sum([2, 3, 4]) + 1e-8)  # [B,out]
            out = out * d.view(b, self.out_ch, 1, 1)
        return out


class NoiseInjection(nn.Module):
    """Adds per-pixel noise scaled by a learned strength (initialised 0)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None, mode: NoiseMode = "random"):
        if mode == "none":
            return x
        if noise is None:
            noise = x.new_empty(x.shape[0], 1, x.shape[2], x.shape[3]).normal_()
        return x + self.weight * noise


class StyledConv(nn.Module):
    def __init__(self, in_ch, out_ch, kernel_size, style_dim, upsample=False, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, kernel_size, style_dim, upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x, style, noise=None, mode: NoiseMode = "random"):
        return self.activate(self.noise(self.conv(x, style), noise=noise, mode=mode))


class ToRGB(nn.Module):
    def __init__(self, in_ch, style_dim, upsample=True, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class MappingNetwork(nn.Module):
    """z -> w: PixelNorm then ``n_mlp`` EqualLinear + fused leaky ReLU layers with lr_mul (rosinality's ``style``)."""

    def __init__(self, style_dim: int, n_mlp: int, lr_mlp: float):
        super().__init__()
        self.norm = PixelNorm()
        self.layers = nn.ModuleList(
            [EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation=True) for _ in range(n_mlp)]
        )

    def forward(self, z):
        x = self.norm(z)
        for layer in self.layers:
            x = layer(x)
        return x


class SynthesisBlock(nn.Module):
    """One resolution: upsampling StyledConv, StyledConv, ToRGB (rosinality convs.{2j}, convs.{2j+1}, to_rgbs.{j})."""

    def __init__(self, in_ch, out_ch, style_dim, blur_kernel):
        super().__init__()
        self.conv0 = StyledConv(in_ch, out_ch, 3, style_dim, upsample=True, blur_kernel=blur_kernel)
        self.conv1 = StyledConv(out_ch, out_ch, 3, style_dim, blur_kernel=blur_kernel)
        self.to_rgb = ToRGB(out_ch, style_dim, blur_kernel=blur_kernel)


class Generator(nn.Module):
    """StyleGAN2 generator: ``mapping`` (z -> w) and ``synthesis`` (w or w+ -> image in about [-1,1])."""

    def __init__(self, cfg: StyleGAN2Config | None = None):
        super().__init__()
        cfg = cfg or StyleGAN2Config()
        cfg.validate()
        self.cfg = cfg
        self.size, self.style_dim, self.log_size = cfg.size, cfg.style_dim, cfg.log_size
        self.n_latent, self.num_layers = cfg.n_latent, cfg.num_layers
        ch = cfg.channel_table()
        self.channels = ch
        bk = tuple(cfg.blur_kernel)
        self.mapping_net = MappingNetwork(cfg.style_dim, cfg.n_mlp, cfg.lr_mlp)
        self.const_input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], 3, cfg.style_dim, blur_kernel=bk)
        self.to_rgb1 = ToRGB(ch[4], cfg.style_dim, upsample=False)
        self.blocks = nn.ModuleList()
        in_ch = ch[4]
        for i in range(3, self.log_size + 1):
            self.blocks.append(SynthesisBlock(in_ch, ch[2**i], cfg.style_dim, bk))
            in_ch = ch[2**i]
        # stored noise maps (the "const" noise mode), [1,1,R,R] per noise input
        self.noises = nn.Module()
        for i in range(self.num_layers):
            r = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, r, r))

    # ---------------------------------------------------------------------------------------------- interface
    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z [B,style_dim] -> w [B,style_dim]."""
        return self.mapping_net(z)

    def noise_shapes(self) -> list[tuple[int, int]]:
        return [(2 ** ((i + 5) // 2),) * 2 for i in range(self.num_layers)]

    def make_noise(self, batch: int = 1, device=None, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Fresh noise maps, one [batch,1,R,R] tensor per noise input (repeat over frames for per-video noise)."""
        device = device or self.const_input.input.device
        return [torch.randn(batch, 1, h, w, device=device, generator=generator) for h, w in self.noise_shapes()]

    def stored_noise(self) -> list[torch.Tensor]:
        return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]

    @torch.no_grad()
    def mean_latent(self, n: int = 4096, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean of w over ``n`` random z. [1,style_dim]"""
        dev = self.const_input.input.device
        z = torch.randn(n, self.style_dim, generator=generator).to(dev)
        return self.mapping(z).mean(0, keepdim=True)

    def synthesis(self, w: torch.Tensor, noise_mode: NoiseMode = "random", noise: Sequence | None = None) -> torch.Tensor:
        """w [B,style_dim] (broadcast to every layer) or w+ [B,n_latent,style_dim] -> image [B,3,size,size].

        noise_mode: "random" draws fresh maps per sample and call; "const" uses the stored ``noises`` buffers
        (rosinality ``randomize_noise=False``); "none" adds no noise at all (MoCoGAN-HD ``use_noise=False``).
        ``noise``: explicit maps (list of ``num_layers`` tensors [B or 1,1,R,R]; entries may be None) override the
        mode, e.g. per-video maps repeated over a video's frames (MoCoGAN-HD's time-constant noise).
        """
        if noise_mode not in ("random", "const", "none"):
            raise VidbenchError(f"noise_mode must be random, const or none, got {noise_mode!r}")
        if w.ndim == 2:
            latent = w.unsqueeze(1).expand(-1, self.n_latent, -1)  # [B,n_latent,D]
        elif w.ndim == 3 and w.shape[1] == self.n_latent:
            latent = w
        else:
            raise VidbenchError(f"w must be [B,{self.style_dim}] or [B,{self.n_latent},{self.style_dim}], got {tuple(w.shape)}")
        mode: NoiseMode = "random"
        if noise is not None:  # explicit maps win over the mode
            noise = list(noise)
            if len(noise) != self.num_layers:
                raise VidbenchError(f"expected {self.num_layers} noise maps, got {len(noise)}")
        elif noise_mode == "const":
            noise = self.stored_noise()
        else:
            noise = [None] * self.num_layers
            mode = noise_mode
        b = latent.shape[0]
        out = self.const_input(b)  # [B,C4,4,4]
        out = self.conv1(out, latent[:, 0], noise=noise[0], mode=mode)
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for j, blk in enumerate(self.blocks):
            out = blk.conv0(out, latent[:, i], noise=noise[2 * j + 1], mode=mode)
            out = blk.conv1(out, latent[:, i + 1], noise=noise[2 * j + 2], mode=mode)
            skip = blk.to_rgb(out, latent[:, i + 2], skip)
            i += 2
        return skip  # [B,3,size,size]

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, noise_mode: NoiseMode = "random",
               truncation: float = 1.0, truncation_latent: torch.Tensor | None = None) -> torch.Tensor:
        """n images [n,3,size,size] (linear output, about [-1,1]) from z ~ N(0,I) drawn with ``generator``."""
        dev = self.const_input.input.device
        z = torch.randn(n, self.style_dim, generator=generator).to(dev)
        return self(z, noise_mode=noise_mode, truncation=truncation, truncation_latent=truncation_latent)

    def forward(self, z: torch.Tensor, noise_mode: NoiseMode = "random", noise=None, truncation: float = 1.0,
                truncation_latent: torch.Tensor | None = None, return_latents: bool = False):
        """G(z) = synthesis(mapping(z)); optional truncation towards ``truncation_latent`` (e.g. ``latent_avg``)."""
        w = self.mapping(z)
        if truncation < 1.0:
            if truncation_latent is None:
                raise VidbenchError("truncation < 1 needs truncation_latent (e.g. G.mean_latent(4096))")
            w = truncation_latent + truncation * (w - truncation_latent)
        img = self.synthesis(w, noise_mode=noise_mode, noise=noise)
        return (img, w) if return_latents else img


# ---------------------------------------------------------------------------------------------- discriminator
class ConvLayer(nn.Sequential):
    """[Blur] + EqualConv2d + [FusedLeakyReLU]; module indices match rosinality's ConvLayer."""

    def __init__(self, in_ch, out_ch, kernel_size, downsample=False, blur_kernel=(1, 3, 3, 1), bias=True, activate=True):
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_ch, out_ch, kernel_size, padding=padding, stride=stride, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_ch, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False, bias=False, blur_kernel=blur_kernel)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, n_feat: int = 1) -> torch.Tensor:
    """Append the minibatch standard deviation feature map(s). x [B,C,H,W] -> [B,C+n_feat,H,W]."""
    b, c, h, w = x.shape
    g = min(b, group_size)
    while b % g:
        g -= 1
    y = x.view(g, -1, n_feat, c // n_feat, h, w)
    y = torch.sqrt(y.var(0, unbiased=False) + 1e-8)  # [B/g,F,C/F,H,W]
    y = y.mean([2, 3, 4], keepdim=True).squeeze(2)  # [B/g,F,1,1]
    y = y.repeat(g, 1, h, w)
    return torch.cat([x, y], 1)


class Discriminator(nn.Module):
    """StyleGAN2 residual discriminator (rosinality key names) with minibatch stddev. image [B,3,S,S] -> [B,1]."""

    def __init__(self, cfg: StyleGAN2Config | None = None):
        super().__init__()
        cfg = cfg or StyleGAN2Config()
        self.cfg = cfg
        ch = cfg.channel_table()
        bk = tuple(cfg.blur_kernel)
        convs: list[nn.Module] = [ConvLayer(3, ch[cfg.size], 1)]
        in_ch = ch[cfg.size]
        for i in range(cfg.log_size, 2, -1):
            convs.append(ResBlock(in_ch, ch[2 ** (i - 1)], bk))
            in_ch = ch[2 ** (i - 1)]
        self.convs = nn.Sequential(*convs)
        self.stddev_group, self.stddev_feat = 4, 1
        self.final_conv = ConvLayer(in_ch + 1, ch[4], 3)
        self.final_linear = nn.Sequential(EqualLinear(ch[4] * 16, ch[4], activation=True), EqualLinear(ch[4], 1))

    def forward(self, x):
        out = minibatch_stddev(self.convs(x), self.stddev_group, self.stddev_feat)
        out = self.final_conv(out)
        return self.final_linear(out.flatten(1))


# ---------------------------------------------------------------------------------------------- checkpoint format
def rosinality_generator_shapes(cfg: StyleGAN2Config) -> dict[str, tuple[int, ...]]:
    """Expected ``g_ema`` keys and shapes of rosinality's Generator (CHECKPOINT_FORMATS.md §4), incl. buffers."""
    ch = cfg.channel_table()
    d = cfg.style_dim
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, cfg.n_mlp + 1):
        shapes[f"style.{i}.weight"] = (d, d)
        shapes[f"style.{i}.bias"] = (d,)
    shapes["input.input"] = (1, ch[4], 4, 4)

    def styled(prefix, cin, cout, up):
        shapes[f"{prefix}.conv.weight"] = (1, cout, cin, 3, 3)
        shapes[f"{prefix}.conv.modulation.weight"] = (cin, d)
        shapes[f"{prefix}.conv.modulation.bias"] = (cin,)
        shapes[f"{prefix}.noise.weight"] = (1,)
        shapes[f"{prefix}.activate.bias"] = (cout,)
        if up:
            shapes[f"{prefix}.conv.blur.kernel"] = (4, 4)

    def torgb(prefix, cin, up):
        shapes[f"{prefix}.conv.weight"] = (1, 3, cin, 1, 1)
        shapes[f"{prefix}.conv.modulation.weight"] = (cin, d)
        shapes[f"{prefix}.conv.modulation.bias"] = (cin,)
        shapes[f"{prefix}.bias"] = (1, 3, 1, 1)
        if up:
            shapes[f"{prefix}.upsample.kernel"] = (4, 4)

    styled("conv1", ch[4], ch[4], False)
    torgb("to_rgb1", ch[4], False)
    cin = ch[4]
    for j, i in enumerate(range(3, cfg.log_size + 1)):
        cout = ch[2**i]
        styled(f"convs.{2 * j}", cin, cout, True)
        styled(f"convs.{2 * j + 1}", cout, cout, False)
        torgb(f"to_rgbs.{j}", cout, True)
        cin = cout
    for i in range(cfg.num_layers):
        r = 2 ** ((i + 5) // 2)
        shapes[f"noises.noise_{i}"] = (1, 1, r, r)
    return shapes


_FIXED_BUFFER = re.compile(r"(\.conv\.blur\.kernel|\.upsample\.kernel)$")


def rosinality_to_ours_key(key: str) -> str | None:
    """Map one rosinality ``g_ema`` key to our module name (None for FIR-kernel buffers, which are constants)."""
    if _FIXED_BUFFER.search(key):
        return None
    m = re.fullmatch(r"style\.(\d+)\.(weight|bias)", key)
    if m:
        return f"mapping_net.layers.{int(m.group(1)) - 1}.{m.group(2)}"
    if key == "input.input":
        return "const_input.input"
    m = re.fullmatch(r"convs\.(\d+)\.(.+)", key)
    if m:
        k = int(m.group(1))
        return f"blocks.{k // 2}.conv{k % 2}.{m.group(2)}"
    m = re.fullmatch(r"to_rgbs\.(\d+)\.(.+)", key)
    if m:
        return f"blocks.{m.group(1)}.to_rgb.{m.group(2)}"
    if key.startswith(("conv1.", "to_rgb1.", "noises.")):
        return key
    raise VidbenchError(f"unexpected key {key!r} in a rosinality StyleGAN2 generator state dict")


def ours_to_rosinality_key(key: str) -> str:
    m = re.fullmatch(r"mapping_net\.layers\.(\d+)\.(weight|bias)", key)
    if m:
        return f"style.{int(m.group(1)) + 1}.{m.group(2)}"
    if key == "const_input.input":
        return "input.input"
    m = re.fullmatch(r"blocks\.(\d+)\.conv([01])\.(.+)", key)
    if m:
        return f"convs.{2 * int(m.group(1)) + int(m.group(2))}.{m.group(3)}"
    m = re.fullmatch(r"blocks\.(\d+)\.to_rgb\.(.+)", key)
    if m:
        return f"to_rgbs.{m.group(1)}.{m.group(2)}"
    return key


def to_rosinality_state_dict(G: Generator) -> dict[str, torch.Tensor]:
    """Our generator's weights under rosinality's ``g_ema`` key names (incl. the FIR-kernel buffers)."""
    sd = {ours_to_rosinality_key(k): v.detach().clone() for k, v in G.state_dict().items()}
    kernel = make_kernel(G.cfg.blur_kernel) * 4
    for j in range(len(G.blocks)):
        sd[f"convs.{2 * j}.conv.blur.kernel"] = kernel.clone()
        sd[f"to_rgbs.{j}.upsample.kernel"] = kernel.clone()
    expected = rosinality_generator_shapes(G.cfg)
    assert set(sd) == set(expected), sorted(set(sd) ^ set(expected))
    return sd


def infer_config(sd: dict[str, torch.Tensor], **overrides) -> StyleGAN2Config:
    """Infer size, style_dim, n_mlp and channels from the shapes of a rosinality ``g_ema`` state dict."""
    if "input.input" not in sd or "style.1.weight" not in sd:
        raise VidbenchError("not a rosinality StyleGAN2 generator state dict: keys 'input.input'/'style.1.weight' missing")
    style_dim = sd["style.1.weight"].shape[0]
    n_mlp = len([k for k in sd if re.fullmatch(r"style\.\d+\.weight", k)])
    n_convs = len({int(m.group(1)) for k in sd if (m := re.fullmatch(r"convs\.(\d+)\.conv\.weight", k))})
    if n_convs % 2:
        raise VidbenchError(f"rosinality generator has an odd number of convs ({n_convs}); the file is truncated")
    log_size = n_convs // 2 + 2
    size = 2**log_size
    chans = [int(sd["input.input"].shape[1])] + [int(sd[f"convs.{2 * j}.conv.weight"].shape[1]) for j in range(n_convs // 2)]
    cm = None
    for mult in (1, 2, 4):
        trial = StyleGAN2Config(size=size, style_dim=style_dim, n_mlp=n_mlp, channel_multiplier=mult)
        if list(trial.channel_table().values()) == chans:
            cm = mult
            break
    kw: dict[str, Any] = dict(size=size, style_dim=style_dim, n_mlp=n_mlp)
    if cm is not None:
        kw["channel_multiplier"] = cm
    else:
        kw["channels"] = tuple(chans)
    kw.update(overrides)
    return StyleGAN2Config(**kw)


def remap_rosinality_state_dict(sd: dict[str, torch.Tensor], cfg: StyleGAN2Config) -> dict[str, torch.Tensor]:
    """Check every key/shape against the reference layout, verify FIR kernels, rename keys to ours."""
    expected = rosinality_generator_shapes(cfg)
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    # FIR-kernel buffers are constants; older exports may lack them
    missing = [k for k in missing if not _FIXED_BUFFER.search(k)]
    if missing or unexpected:
        raise VidbenchError(
            f"rosinality g_ema does not match a StyleGAN2 of size {cfg.size}: missing {missing[:5]}"
            f"{'…' if len(missing) > 5 else ''} ({len(missing)}), unexpected {unexpected[:5]} ({len(unexpected)})"
        )
    kernel = make_kernel(cfg.blur_kernel) * 4
    out = {}
    for k, v in sd.items():
        if tuple(v.shape) != expected[k]:
            raise VidbenchError(f"rosinality g_ema key {k}: shape {tuple(v.shape)}, expected {expected[k]}")
        ours = rosinality_to_ours_key(k)
        if ours is None:
            if not torch.allclose(v.float(), kernel, atol=1e-6):
                raise VidbenchError(f"{k}: FIR kernel differs from blur_kernel={cfg.blur_kernel}; pass the right blur_kernel")
            continue
        out[ours] = v.float()
    return out


def _safe_torch_load(path: str | os.PathLike) -> Any:
    """``torch.load(weights_only=True)`` with only ``argparse.Namespace`` allow-listed (rosinality training args)."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise VidbenchError(f"{path}: no such checkpoint file") from None
    except Exception as e:  # UnpicklingError etc.
        raise VidbenchError(
            f"{path}: cannot read as a PyTorch checkpoint with weights_only=True ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); only tensors, plain containers and argparse.Namespace are "
            "allowed — convert pickled training objects to a state dict first"
        ) from None


def load_rosinality_checkpoint(path_or_dict: str | os.PathLike | dict, *, key: str = "g_ema",
                               lr_mlp: float | None = None, device: str | torch.device = "cpu") -> tuple[Generator, dict]:
    """Load a rosinality/stylegan2-pytorch ``.pt`` (or our trainer's checkpoint) -> (Generator in eval mode, meta).

    Accepts the converted official format ``{g_ema, latent_avg[, g, d]}``, training checkpoints
    ``{g, d, g_ema, g_optim, d_optim, args, ...}`` (``args`` an argparse.Namespace) and bare ``g_ema`` state dicts.
    Size, style_dim, n_mlp and channels are inferred from the shapes. meta: ``config`` (dict), ``latent_avg`` (tensor
    or None), ``args`` (dict or None), ``source`` (path or "dict"), ``keys`` (number of g_ema keys), and for vidbench
    files ``train_config``, ``step`` and ``provenance`` (None otherwise).
    """
    source = "dict"
    if isinstance(path_or_dict, (str, os.PathLike)):
        source = str(path_or_dict)
        if not Path(source).exists():
            raise VidbenchError(f"{source}: image generator checkpoint not found (pass --image-generator PATH)")
        ckpt = _safe_torch_load(source)
    else:
        ckpt = path_or_dict
    if not isinstance(ckpt, dict):
        raise VidbenchError(f"{source}: expected a dict checkpoint, got {type(ckpt).__name__}")
    if key in ckpt and isinstance(ckpt[key], dict):
        sd = ckpt[key]
    elif "style.1.weight" in ckpt:
        sd = ckpt
    else:
        raise VidbenchError(f"{source}: no {key!r} entry (keys: {sorted(map(str, ckpt))[:8]}) — not a rosinality StyleGAN2 checkpoint")
    args = ckpt.get("args")
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    overrides: dict[str, Any] = {}
    vcfg = ckpt.get("vidbench_config")
    if isinstance(vcfg, dict):
        overrides["lr_mlp"] = float(vcfg.get("lr_mlp", 0.01))
        if vcfg.get("blur_kernel"):
            overrides["blur_kernel"] = tuple(vcfg["blur_kernel"])
    if lr_mlp is not None:
        overrides["lr_mlp"] = lr_mlp
    cfg = infer_config(sd, **overrides)
    G = Generator(cfg)
    G.load_state_dict(remap_rosinality_state_dict(sd, cfg), strict=True)
    G.eval().requires_grad_(False).to(device)
    latent_avg = ckpt.get("latent_avg")
    meta = {
        "config": asdict(cfg),
        "latent_avg": latent_avg.float().view(1, -1) if isinstance(latent_avg, torch.Tensor) else None,
        "args": args,
        "source": source,
        "keys": len(sd),
        "has_d": isinstance(ckpt.get("d"), dict),
        # vidbench files only (training checkpoints, ``export_generator`` files): how the generator was made
        "train_config": ckpt.get("train_config"),
        "step": ckpt.get("step"),
        "provenance": ckpt.get("provenance"),
    }
    return G, meta


def load_rosinality_discriminator(path_or_dict, *, key: str = "d") -> Discriminator:
    """Load the ``d`` entry of a rosinality checkpoint (same key names as ours; shapes checked)."""
    ckpt = _safe_torch_load(path_or_dict) if isinstance(path_or_dict, (str, os.PathLike)) else path_or_dict
    if key not in ckpt:
        raise VidbenchError(f"checkpoint has no {key!r} (discriminator) entry")
    g_cfg = infer_config(ckpt["g_ema"]) if "g_ema" in ckpt else None
    sd = ckpt[key]
    if g_cfg is None:
        raise VidbenchError("cannot infer the discriminator size without g_ema in the checkpoint")
    D = Discriminator(g_cfg)
    ref = D.state_dict()
    sd = {k: v for k, v in sd.items() if not k.endswith(".kernel")}  # blur kernels are constants
    bad = [k for k in ref if k not in sd or tuple(sd[k].shape) != tuple(ref[k].shape)]
    extra = [k for k in sd if k not in ref]
    if bad or extra:
        raise VidbenchError(f"discriminator keys/shapes do not match: {bad[:5]} missing/mismatched, {extra[:5]} unexpected")
    D.load_state_dict(sd)
    return D


# ---------------------------------------------------------------------------------------------- registration
def build_stylegan2(cfg: StyleGAN2Config | None = None, **kw) -> Generator:
    """StyleGAN2 generator (rosinality-compatible); ``build_stylegan2(tiny_config())`` for CPU tests."""
    return Generator(cfg or StyleGAN2Config(**kw))


MODELS.add(
    "stylegan2",
    build_stylegan2,
    description="StyleGAN2 image generator (pure PyTorch, rosinality checkpoints)",
    kind="image_generator",
    config=StyleGAN2Config,
    tiny_config=tiny_config,
    loader=load_rosinality_checkpoint,
    output_range=None,  # linear output, about [-1,1] (not clamped)
)

_DRIVE = "Google Drive link in the MoCoGAN-HD README (snap-research/MoCoGAN-HD, 'pretrained image generators')"
_LIC_MOCO = "Snap Inc.: no licence granted (research use only; see MoCoGAN-HD repository)"
_LIC_NV = "NVIDIA Source Code License-NC (weights converted with rosinality/stylegan2-pytorch convert_weight.py)"
for _spec, _aliases in [
    (WeightSpec("stylegan2.ffhq256_rosinality", "ffhq_256.pt", None, None, license=_LIC_MOCO,
                description="StyleGAN2 FFHQ 256² (rosinality format; MoCoGAN-HD default --img_g_weights)",
                source=_DRIVE), ("stylegan2.ffhq256",)),
    (WeightSpec("stylegan2.ffhq1024_config_f", "stylegan2-ffhq-config-f.pt", None, None, license=_LIC_NV,
                description="NVIDIA StyleGAN2 FFHQ 1024² config-f converted to the rosinality format",
                source="convert https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl "
                       "with rosinality convert_weight.py, or the rosinality README's Google Drive link"), ()),
    (WeightSpec("stylegan2.church256_config_f", "stylegan2-church-config-f.pt", None, None, license=_LIC_NV,
                description="NVIDIA StyleGAN2 LSUN-Church 256² config-f converted to the rosinality format",
                source="convert https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-church-config-f.pkl "
                       "with rosinality convert_weight.py"), ()),
    (WeightSpec("stylegan2.ucf101_256_mocoganhd", "ucf-256-fid41.6761-snapshot-006935.pt", None, None,
                license=_LIC_MOCO, description="MoCoGAN-HD's UCF-101 StyleGAN2 256² (FID 41.68)", source=_DRIVE), ()),
    (WeightSpec("stylegan2.faceforensics256_mocoganhd", "faceforensics-fid10.9920-snapshot-008765.pt", None, None,
                license=_LIC_MOCO, description="MoCoGAN-HD's FaceForensics StyleGAN2 256² (FID 10.99)",
                source=_DRIVE), ()),
    (WeightSpec("stylegan2.moving_mnist32_tiny", "stylegan2-moving_mnist32-tiny.pt", None,
                "bc6dccf1a4eed49706eafc386c139e4d9b134edb92ab4a20d0469d318edd8638", size=614805,
                license="Apache-2.0 (vidbench); trained on scikit-learn's digits (UCI, CC BY 4.0)",
                description="vidbench's tiny StyleGAN2 32² (3,000 steps × batch 32 on moving_mnist frames, DiffAugment "
                            "translation): the frozen image generator of `vidbench quickstart`; EMA weights + "
                            "provenance",
                source="ships with vidbench (vidbench/assets); remake: scripts/make_quickstart_generator.py",
                package="vidbench:assets/stylegan2-moving_mnist32-tiny.pt"), ()),
    (WeightSpec("stylegan2.sky128_mocoganhd", "sky-fid10.8013-snapshot-012633.pt", None, None, license=_LIC_MOCO,
                description="MoCoGAN-HD's Sky Time-lapse StyleGAN2 128² (FID 10.80)", source=_DRIVE), ()),
]:
    register_weights(_spec, aliases=_aliases)


__all__ = [
    "StyleGAN2Config",
    "Generator",
    "Discriminator",
    "tiny_config",
    "upfirdn2d",
    "fused_leaky_relu",
    "load_rosinality_checkpoint",
    "load_rosinality_discriminator",
    "to_rosinality_state_dict",
    "rosinality_generator_shapes",
    "infer_config",
]
