"""TGANv2 (Saito, Saito, Koyama & Kobayashi, "Train Sparsely, Generate Densely", IJCV 2020) — clean-room PyTorch.

Written from the facts collected in ``../shared/BASELINES.md`` §1 (the paper's full text was not retrievable; the
facts come from the authors' Chainer code, pfnet-research/tgan2@f892bc4, read for facts only). Registered in
``vidbench.registry.MODELS`` as ``tganv2`` (``meta.video=True``, unconditional).

Model
  * z ~ U(−1, 1)^256 → Linear → [clstm_ch, t, t] → ``n_clstm_layers`` ConvLSTMs (gates [i, f, o, c̃], no peepholes,
    zero state; input fc(z) at t = 0 and **zeros** afterwards; one step per frame) → frames folded into the batch.
  * Six pre-activation up-blocks (BN → ReLU → nearest ×2 → conv3 → BN → ReLU → conv3, shortcut nearest ×2 → conv1),
    widths clstm_ch → 16ch → 8ch → 4ch → 2ch → ch → ch. Rendering heads (BN → ReLU → conv3 → tanh) after blocks 3,
    4, 5 and 6 form four *levels*.
  * **Subsampling layers** (training only) sit before blocks 4, 5, 6: each keeps frames ``offset::2`` with one random
    offset for the whole batch (and, if ``subsample_batch``, samples ``::2``). Level l therefore renders
    16/8/4/2 frames at 24/48/96/192 px (UCF-101 recipe); in eval mode nothing is subsampled and only the level-4
    head renders all 16 frames densely (:func:`level_schedule` lists this).
  * Four independent 3D ResNet discriminators (one per level; OptimizedDisBlock 3→64, DisBlocks ×2 channels up to
    1024, ReLU, sum over (T, H, W), Linear → 1; no normalisation). Their down-sampling replicates Chainer's average
    pooling with pad 1 on every odd-sized axis and zeros counted in the mean (:func:`chainer_downsample`), so a T = 1
    axis becomes T = 3.
  * Real data pyramid (:func:`real_pyramid`): level 1 = all frames avg-pooled 8×8; level l+1 = frames ``o::2`` of
    level l's frames (own offset per sample) pooled by 2^(4−l−1) — the generator's frames/resolutions exactly.

Objective (BASELINES.md §1.4, DiracUpdater of the released recipe)
  L_G = mean softplus(−D(G(z)))  (:func:`generator_loss`), updated *before* D in each iteration;
  L_D = mean softplus(−D(x)) + mean softplus(D(G(z))) + λ·Σ_levels Σ_{batch, elements} (∂ΣD(x)/∂x_l)²
  (:func:`discriminator_loss`, :func:`r1_penalty`) with λ = 0.5 **summed over the batch** (= R1 with γ/2 = λ·N).
  Adam lr 1e-4, β = (0, 0.9), eps 8e-8 for G and D; lr decays linearly to 0 over the run (LinearShift).

Recipes (:data:`PRESETS`)
  ``ucf101`` (README command: 192², t=3, clstm 1×1024, λ 0.5, n_dis 1, batch 128, no batch subsampling, 100k iters),
  ``faceforensics`` (same with t=4 → 256²), ``yaml`` (the YAML defaults the README overrides: CLSTM 3×512, λ 10,
  n_dis 3, batch subsampling — kept for ablations, not the released recipe) and ``tiny`` (64², t=1, CPU).
  The MoCoGAN-HD paper evaluates TGANv2 at 128² (``eval_resolution``); the sampler resizes to it on request.

Decisions and deviations (recorded here and in the checkpoint's config)
  * Synchronised multi-GPU BatchNorm → plain BatchNorm2d (one process; the statistics of a single-process batch are
    the same thing). Chainer BN decay 0.9 / eps 2e-5 → momentum 0.1 / eps 2e-5.
  * Chainer's Adam adds eps to √v before bias correction, PyTorch after; with eps = 8e-8 the difference is far below
    float32 resolution of typical updates, so torch.optim.Adam is used as is.
  * The OptimizedDisBlock pools with a plain (1, 2, 2) average pool; the odd-axis padding quirk applies to the
    DisBlocks' down-sampling (the shapes in BASELINES.md §1.3 are reproduced; tested).
  * ``n_dis > 1``: the G update runs only in the first D pass, as in the updater.
  * Init: GenBlock 3×3 convs Glorot-uniform(√2), shortcuts Glorot-uniform(1); ConvLSTM, fc and render convs
    LeCun-normal; D 3³ convs Glorot-uniform(√2), 1³ convs and Linear Glorot-uniform(1); biases 0.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from vidbench.baselines.training import (
    BaselineTrainer,
    from_uint8,
    linear_lr,
    load_checkpoint,
    resolve_checkpoint,
    sha256_file,
    to_uint8,
)

from vidbench.config import ConfigError
from vidbench.errors import VidbenchError

CKPT_FORMAT = "vidbench.tganv2.train.v1"
N_LEVELS = 4  # rendering levels (blocks 3, 4, 5, 6)
BN_EPS = 2e-5  # Chainer BatchNormalization eps
LOG_FIELDS = ["step", "epoch", "time_s", "iter_s", "lr", "loss_g", "loss_d", "loss_d_real", "loss_d_fake", "r1"]


@dataclass(frozen=True)
class TGANv2Config:
    """TGANv2 hyper-parameters; defaults = the README UCF-101 command (BASELINES.md §1.1)."""

    recipe: Literal["released", "yaml"] = "released"  # README command vs the YAML defaults it overrides
    preset: str = "ucf101"  # label of the preset these values came from (PRESETS)
    # ---- generator (§1.2)
    z_dim: int = 256  # z_slow_dim, z ~ U(-1, 1)
    t_size: int = 3  # side of the CLSTM maps: 3 -> 192² (UCF-101), 4 -> 256² (FaceForensics)
    clstm_ch: int = 1024  # README: clstm_ch 1024 (YAML 512)
    n_clstm_layers: int = 1  # README: n_layers 1 (YAML 3)
    ch: int = 32  # base width: blocks clstm_ch -> 16ch -> 8ch -> 4ch -> 2ch -> ch -> ch
    num_frames: int = 16  # frames per training clip
    subsample_frame: int = 2  # subsampling layers keep every k-th frame (README [2,2,2])
    subsample_batch: bool = False  # README: false (YAML / tgan-v41: true)
    # ---- discriminator (§1.3)
    d_mid_ch: int = 64  # ResNetVideoDiscriminator(mid_ch=64): widths 64, 128, 256, 512, 1024
    # ---- objective and optimiser (§1.4)
    lam: float = 0.5  # R1 weight, summed over the batch (README lam 0.5; YAML 10)
    n_dis: int = 1  # D passes per iteration (README 1; YAML 3)
    lr: float = 1e-4  # Adam alpha for G and D
    betas: tuple[float, float] = (0.0, 0.9)
    adam_eps: float = 8e-8
    linear_decay: bool = True  # lr -> 0 linearly over total_steps (README linear_decay.start 0)
    batch_size: int = 128  # global batch (README: 4 GPUs x 32)
    total_steps: int = 100_000  # iterations; README evaluates generator_iter_82000
    seed: int = 1701
    # ---- evaluation / outputs
    eval_resolution: int = 128  # MoCoGAN-HD evaluates TGANv2 at 128² (HD paper §4.1)
    log_every: int = 10
    sample_every: int = 2000
    ckpt_every: int = 2000
    num_grid: int = 8
    fps: float = 10.0

    @property
    def resolution(self) -> int:
        """Output side: t_size · 2^6 (six ×2 up-blocks)."""
        return self.t_size * 64

    def channels(self) -> list[int]:
        """Widths [in of block 1, out of blocks 1..6]."""
        c = self.ch
        return [self.clstm_ch, 16 * c, 8 * c, 4 * c, 2 * c, c, c]

    def validate(self) -> None:
        if self.t_size < 1 or self.ch < 1 or self.clstm_ch < 1 or self.z_dim < 1 or self.d_mid_ch < 1:
            raise ConfigError("t_size, ch, clstm_ch, z_dim and d_mid_ch must be >= 1")
        if self.subsample_frame < 1:
            raise ConfigError("subsample_frame must be >= 1")
        min_frames = self.subsample_frame ** (N_LEVELS - 1)
        if self.num_frames < min_frames or self.num_frames % min_frames:
            raise ConfigError(f"num_frames ({self.num_frames}) must be a multiple of subsample_frame^3 = {min_frames}")
        if self.subsample_batch and self.batch_size % 2 ** (N_LEVELS - 1):
            raise ConfigError("subsample_batch needs batch_size divisible by 8")
        if self.n_dis < 1 or self.batch_size < 1 or self.total_steps < 0:
            raise ConfigError("n_dis and batch_size must be >= 1, total_steps >= 0")


_RELEASED = dict(recipe="released", clstm_ch=1024, n_clstm_layers=1, lam=0.5, n_dis=1, subsample_batch=False,
                 batch_size=128)
PRESETS: dict[str, dict] = {
    "ucf101": dict(preset="ucf101", t_size=3, **_RELEASED),  # README UCF-101 command, 192²
    "faceforensics": dict(preset="faceforensics", t_size=4, **_RELEASED),  # README FaceForensics command, 256²
    "yaml": dict(preset="yaml", recipe="yaml", t_size=3, clstm_ch=512, n_clstm_layers=3, lam=10.0, n_dis=3,
                 subsample_batch=True, batch_size=8, linear_decay=False),  # YAML defaults (not the released recipe)
    # 64², CPU demo budget: G widths 128→128→64→32→16→8→8, D 4…64 (a D as wide as G's 4-channel blocks won every
    # step in a 300-step trial), lr 2e-4 instead of 1e-4 for a few hundred steps (like the quickstart's demo budget)
    "tiny": dict(preset="tiny", t_size=1, z_dim=64, clstm_ch=128, ch=8, d_mid_ch=4, lr=2e-4, batch_size=8,
                 total_steps=400, seed=0, log_every=5, sample_every=100, ckpt_every=50, num_grid=8),
}
DEFAULT_PRESETS = {"ucf101": "ucf101", "faceforensics": "faceforensics"}  # dataset -> preset of `--preset auto`


def preset_config(name: str, **overrides) -> TGANv2Config:
    """The config of preset ``name`` (ucf101, faceforensics, yaml, tiny) with field overrides."""
    if name not in PRESETS:
        raise ConfigError(f"unknown TGANv2 preset {name!r}; choose one of {', '.join(PRESETS)}")
    cfg = TGANv2Config(**{**PRESETS[name], **overrides})
    cfg.validate()
    return cfg


# ------------------------------------------------------------------------------------------------ init helpers
def _glorot(m: nn.Module, gain: float) -> None:
    nn.init.xavier_uniform_(m.weight, gain=gain)
    if m.bias is not None:
        nn.init.zeros_(m.bias)


def _lecun(m: nn.Module) -> None:
    fan_in = m.weight[0].numel()
    nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(fan_in))
    if m.bias is not None:
        nn.init.zeros_(m.bias)


# ------------------------------------------------------------------------------------------------ generator
class ConvLSTMCell(nn.Module):
    """ConvLSTM: x-conv 3×3 (in→4·out, bias) + h-conv 3×3 (out→4·out, no bias); gates [i, f, o, c̃]; no peepholes."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.out_ch = out_ch
        self.wx = nn.Conv2d(in_ch, 4 * out_ch, 3, padding=1, bias=True)
        self.wh = nn.Conv2d(out_ch, 4 * out_ch, 3, padding=1, bias=False)
        _lecun(self.wx)
        _lecun(self.wh)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None):
        # x [B, in, t, t]; state (h, c) [B, out, t, t] or None (zero state)
        gates = self.wx(x)
        if state is not None:
            gates = gates + self.wh(state[0])
        i, f, o, g = gates.chunk(4, dim=1)
        c = torch.sigmoid(i) * torch.tanh(g)
        if state is not None:
            c = c + torch.sigmoid(f) * state[1]
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class GenBlock(nn.Module):
    """Pre-activation up-block: BN→ReLU→nearest×2→conv3→BN→ReLU→conv3; shortcut nearest×2→conv1."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_ch, eps=BN_EPS)
        self.c1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_ch, eps=BN_EPS)
        self.c2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.sc = nn.Conv2d(in_ch, out_ch, 1)
        _glorot(self.c1, math.sqrt(2))
        _glorot(self.c2, math.sqrt(2))
        _glorot(self.sc, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, in, s, s] -> [N, out, 2s, 2s]
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest")
        h = self.c2(F.relu(self.bn2(self.c1(h))))
        return h + self.sc(F.interpolate(x, scale_factor=2, mode="nearest"))


class RenderHead(nn.Module):
    """BN → ReLU → conv3×3 (→ 3, bias) → tanh."""

    def __init__(self, in_ch: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_ch, eps=BN_EPS)
        self.conv = nn.Conv2d(in_ch, 3, 3, padding=1)
        _lecun(self.conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(F.relu(self.bn(x))))


def subsample(h: torch.Tensor, batch: int, frames: int, k: int, offset: int, sub_batch: bool):
    """Subsampling layer on folded frames [B·T, C, H, W] (index n·T + t): keep frames ``offset::k`` of every sample
    (one offset for the whole batch) and, if ``sub_batch``, samples ``::2``. Returns (h', B', T')."""
    c, hh, ww = h.shape[1:]
    v = h.reshape(batch, frames, c, hh, ww)
    if sub_batch:
        v = v[::2]
    v = v[:, offset::k]
    b2, t2 = v.shape[:2]
    return v.reshape(b2 * t2, c, hh, ww), b2, t2


def level_schedule(cfg: TGANv2Config, training: bool, batch: int | None = None) -> list[dict]:
    """Which (samples, frames, resolution) each level renders: training = sparse, eval = only level 4, dense."""
    b = cfg.batch_size if batch is None else batch
    t, s = cfg.num_frames, cfg.t_size * 8
    out = []
    for lvl in range(1, N_LEVELS + 1):
        if lvl > 1:
            s *= 2
            if training:
                t //= cfg.subsample_frame
                b = b // 2 if cfg.subsample_batch else b
        if training or lvl == N_LEVELS:
            out.append({"level": lvl, "batch": b, "frames": t, "resolution": s})
    return out


class TGANv2Generator(nn.Module):
    """z [B, z_dim] → training: list of 4 level videos [B_l, 3, T_l, S_l, S_l]; eval: one video [B, 3, T, S, S]."""

    def __init__(self, cfg: TGANv2Config):
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels()
        self.fc = nn.Linear(cfg.z_dim, cfg.clstm_ch * cfg.t_size ** 2)
        _lecun(self.fc)
        self.clstm = nn.ModuleList([ConvLSTMCell(cfg.clstm_ch, cfg.clstm_ch) for _ in range(cfg.n_clstm_layers)])
        self.blocks = nn.ModuleList([GenBlock(ch[i], ch[i + 1]) for i in range(6)])
        self.heads = nn.ModuleList([RenderHead(ch[i]) for i in (3, 4, 5, 6)])  # after blocks 3, 4, 5, 6

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.rand(n, self.cfg.z_dim, generator=generator) * 2 - 1  # U(-1, 1)

    def temporal(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """z → CLSTM maps folded to [B·T, clstm_ch, t, t] (fc(z) at t = 0, zero input afterwards)."""
        b, t = z.shape[0], self.cfg.t_size
        x0 = self.fc(z).view(b, self.cfg.clstm_ch, t, t)  # channel-major reshape
        zeros = torch.zeros_like(x0)
        states: list = [None] * len(self.clstm)
        outs = []
        for step in range(num_frames):
            x = x0 if step == 0 else zeros
            for li, cell in enumerate(self.clstm):
                h, c = cell(x, states[li])
                states[li] = (h, c)
                x = h
            outs.append(x)
        return torch.stack(outs, 1).reshape(b * num_frames, self.cfg.clstm_ch, t, t)

    @staticmethod
    def _unfold(x: torch.Tensor, b: int, t: int) -> torch.Tensor:  # [B·T, 3, S, S] -> [B, 3, T, S, S]
        return x.reshape(b, t, *x.shape[1:]).permute(0, 2, 1, 3, 4)

    def forward(self, z: torch.Tensor, num_frames: int | None = None, offsets: list[int] | None = None):
        cfg = self.cfg
        b, t = z.shape[0], num_frames or cfg.num_frames
        h = self.temporal(z, t)
        for blk in self.blocks[:3]:
            h = blk(h)
        if not self.training:  # dense: every block on every frame, only the last head renders
            for blk in self.blocks[3:]:
                h = blk(h)
            return self._unfold(self.heads[-1](h), b, t)
        if offsets is None:  # one random offset per subsampling layer for the whole batch
            offsets = [int(o) for o in torch.randint(0, cfg.subsample_frame, (N_LEVELS - 1,))]
        outs = [self._unfold(self.heads[0](h), b, t)]
        for lvl in range(1, N_LEVELS):
            h, b, t = subsample(h, b, t, cfg.subsample_frame, offsets[lvl - 1], cfg.subsample_batch)
            h = self.blocks[2 + lvl](h)
            outs.append(self._unfold(self.heads[lvl](h), b, t))
        return outs


# ------------------------------------------------------------------------------------------------ discriminator
def chainer_downsample(x: torch.Tensor) -> torch.Tensor:
    """Average pooling of [N, C, T, H, W] as Chainer's ``downsample`` in the TGANv2 D (BASELINES.md §1.3): kernel 2 on
    every axis of size > 1 (1 on size-1 axes), stride = kernel, zero padding 1 on every odd-sized axis (size 1 too),
    zeros counted in the mean. A T = 1 axis becomes T = 3."""
    sizes = x.shape[2:]
    ks = tuple(2 if s > 1 else 1 for s in sizes)
    pads = [1 if s % 2 else 0 for s in sizes]
    x = F.pad(x, (pads[2], pads[2], pads[1], pads[1], pads[0], pads[0]))  # zeros, counted in the mean
    return F.avg_pool3d(x, ks, stride=ks)


class OptimizedDisBlock(nn.Module):
    """conv3³ → ReLU → conv3³ → avgpool(1,2,2); shortcut avgpool(1,2,2) → conv1³."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.c1 = nn.Conv3d(in_ch, out_ch, 3, padding=1)
        self.c2 = nn.Conv3d(out_ch, out_ch, 3, padding=1)
        self.sc = nn.Conv3d(in_ch, out_ch, 1)
        _glorot(self.c1, math.sqrt(2))
        _glorot(self.c2, math.sqrt(2))
        _glorot(self.sc, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool3d(self.c2(F.relu(self.c1(x))), (1, 2, 2))
        return h + self.sc(F.avg_pool3d(x, (1, 2, 2)))


class DisBlock(nn.Module):
    """ReLU → conv3³(in→in) → ReLU → conv3³(in→out) → downsample; shortcut conv1³ → downsample."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.c1 = nn.Conv3d(in_ch, in_ch, 3, padding=1)
        self.c2 = nn.Conv3d(in_ch, out_ch, 3, padding=1)
        self.sc = nn.Conv3d(in_ch, out_ch, 1)
        _glorot(self.c1, math.sqrt(2))
        _glorot(self.c2, math.sqrt(2))
        _glorot(self.sc, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = chainer_downsample(self.c2(F.relu(self.c1(F.relu(x)))))
        return h + chainer_downsample(self.sc(x))


class ResNetVideoDiscriminator(nn.Module):
    """[N, 3, T, H, W] → [N, 1]: OptimizedDisBlock(3→m), DisBlocks m→2m→4m→8m→16m, ReLU, sum over (T,H,W), Linear."""

    def __init__(self, mid_ch: int = 64):
        super().__init__()
        w = [mid_ch * 2 ** i for i in range(5)]
        self.blocks = nn.ModuleList([OptimizedDisBlock(3, w[0])] + [DisBlock(w[i], w[i + 1]) for i in range(4)])
        self.fc = nn.Linear(w[-1], 1)
        _glorot(self.fc, 1.0)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for blk in self.blocks:
            x = blk(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)[-1]
        return self.fc(F.relu(h).sum(dim=(2, 3, 4)))


class MultiLevelDiscriminator(nn.Module):
    """Four independent discriminators, one per level; outputs concatenated along the batch → [ΣN_l, 1]."""

    def __init__(self, mid_ch: int = 64, n_levels: int = N_LEVELS):
        super().__init__()
        self.ds = nn.ModuleList([ResNetVideoDiscriminator(mid_ch) for _ in range(n_levels)])

    def forward(self, levels: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat([d(x) for d, x in zip(self.ds, levels)], 0)


# ------------------------------------------------------------------------------------------------ real data
def real_pyramid(x: torch.Tensor, cfg: TGANv2Config, generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """Real video [B, 3, T, S, S] → the 4 level inputs (MultiLevelDataset, BASELINES.md §1.5).

    Level 1: all T frames avg-pooled by 8 (2^(L−1)); level l+1: frames ``o::k`` of level l's frames, with its own
    random offset o per sample, pooled by 2^(L−l−1); level 4 at full resolution. With ``subsample_batch`` level l keeps
    samples ``::2^(l−1)``."""
    b, _, t = x.shape[:3]
    k = cfg.subsample_frame
    outs = []
    cur = x
    for lvl in range(1, N_LEVELS + 1):
        if lvl > 1:
            t_new = cur.shape[2] // k
            off = torch.randint(0, k, (cur.shape[0],), generator=generator)
            idx = off[:, None] + k * torch.arange(t_new)[None, :]  # [B, T'] frame indices per sample
            idx = idx.to(cur.device)[:, None, :, None, None].expand(-1, cur.shape[1], -1, *cur.shape[3:])
            cur = torch.gather(cur, 2, idx)
        f = 2 ** (N_LEVELS - lvl)
        lv = F.avg_pool3d(cur, (1, f, f)) if f > 1 else cur
        if cfg.subsample_batch:
            lv = lv[:: 2 ** (lvl - 1)]
        outs.append(lv)
    return outs


# ------------------------------------------------------------------------------------------------ losses
def generator_loss(y_fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss (BASELINES.md §1.4): mean softplus(−D(G(z))) over all levels' outputs."""
    return F.softplus(-y_fake).mean()


def discriminator_loss(y_real: torch.Tensor, y_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean softplus(−D(x)), mean softplus(D(G(z)))) (BASELINES.md §1.4)."""
    return F.softplus(-y_real).mean(), F.softplus(y_fake).mean()


def r1_penalty(y_real: torch.Tensor, reals: list[torch.Tensor], lam: float) -> torch.Tensor:
    """Zero-centred R1 on real data (BASELINES.md §1.4): λ·Σ_levels Σ_{batch, elements} (∂ΣD(x)/∂x_l)² — a sum over
    the batch, not a mean (= R1 with γ/2 = λ·N). ``reals`` must require grad and be the inputs of ``y_real``."""
    grads = torch.autograd.grad(y_real.sum(), reals, create_graph=True)
    return lam * sum(g.pow(2).sum() for g in grads)


# ------------------------------------------------------------------------------------------------ trainer
class TGANv2Trainer(BaselineTrainer):
    """Trains TGANv2's G and the four Ds on a video dataset (clips uint8 [T, S, S, 3] with T = num_frames)."""

    name = "tganv2"
    CKPT_FORMAT = CKPT_FORMAT
    LOG_FIELDS = LOG_FIELDS

    cfg: TGANv2Config

    def build(self) -> None:
        cfg = self.cfg
        self.G = TGANv2Generator(cfg).to(self.device)
        self.D = MultiLevelDiscriminator(cfg.d_mid_ch).to(self.device)
        kw = dict(lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.adam_eps)
        self.opt_g = torch.optim.Adam(self.G.parameters(), **kw)
        self.opt_d = torch.optim.Adam(self.D.parameters(), **kw)

    def modules(self):
        return {"G": self.G, "D": self.D}

    def optimizers(self):
        return {"G": self.opt_g, "D": self.opt_d}

    def current_lr(self) -> float:
        return linear_lr(self.cfg.lr, self.step, self.cfg.total_steps) if self.cfg.linear_decay else self.cfg.lr

    def real_levels(self) -> list[torch.Tensor]:
        clips = self.next_clips(self.cfg.batch_size)
        if clips.shape[1] < self.cfg.num_frames or clips.shape[2] != self.cfg.resolution:
            raise VidbenchError(f"clips are {clips.shape[1]}x{clips.shape[2]}², the model needs "
                                f"{self.cfg.num_frames}x{self.cfg.resolution}²")
        x = from_uint8(clips[:, : self.cfg.num_frames], self.device)
        return real_pyramid(x, self.cfg)

    def g_update(self) -> tuple[float, list[torch.Tensor]]:
        """One G step; returns its loss and the fake levels (cut from the graph) for the D step that follows."""
        self.D.requires_grad_(False)
        z = self.G.sample_z(self.cfg.batch_size).to(self.device)
        fake = self.G(z)
        loss = generator_loss(self.D(fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss.item(), [f.detach() for f in fake]

    def d_update(self, reals: list[torch.Tensor], fake: list[torch.Tensor] | None = None) -> dict:
        """One D step on ``reals`` and ``fake`` (the G step's samples, as in the updater; fresh ones if None)."""
        if fake is None:
            with torch.no_grad():
                fake = self.G(self.G.sample_z(self.cfg.batch_size).to(self.device))
        reals = [r.detach().requires_grad_(True) for r in reals]
        y_real = self.D(reals)
        l_real, l_fake = discriminator_loss(y_real, self.D(fake))
        r1 = r1_penalty(y_real, reals, self.cfg.lam)
        loss = l_real + l_fake + r1
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return {"loss_d": loss.item(), "loss_d_real": l_real.item(), "loss_d_fake": l_fake.item(), "r1": r1.item()}

    def train_step_impl(self) -> dict:
        lr = self.current_lr()
        for o in (self.opt_g, self.opt_d):
            for g in o.param_groups:
                g["lr"] = lr
        logs: dict = {"lr": lr}
        for i in range(self.cfg.n_dis):
            reals = self.real_levels()
            fake = None
            if i == 0:  # G update first, only in the first D pass; D then sees the same x_fake (DiracUpdater)
                logs["loss_g"], fake = self.g_update()
            logs.update(self.d_update(reals, fake))
        return logs

    def sample_uint8(self, n: int, seed: int) -> np.ndarray:
        self.G.eval()
        g = torch.Generator().manual_seed(int(seed))
        return to_uint8(self.G(self.G.sample_z(n, g).to(self.device)))


# ------------------------------------------------------------------------------------------------ sampler
class TGANv2Sampler:
    """``vidbench eval`` sampler (vidbench/sampler.py): eval-mode (dense) G, z ~ U(−1, 1), optional resize."""

    def __init__(self, generator: TGANv2Generator, *, checkpoint_hash: str | None = None, recipe: str | None = None,
                 resolution: int | None = None, info: dict | None = None):
        self.G = generator.eval()
        self.checkpoint_hash = checkpoint_hash
        self.recipe = recipe or generator.cfg.recipe
        self.resolution = resolution
        self._info = dict(info or {})

    frame_stride = 1  # trained on consecutive frames (BASELINES.md §1.5)

    @torch.no_grad()
    def generate(self, n: int, num_frames: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(seed))
        dev = next(self.G.parameters()).device
        v = self.G(self.G.sample_z(n, g).to(dev), num_frames)  # [n, 3, T, S, S]
        if self.resolution and self.resolution != v.shape[-1]:
            b, c, t, h, w = v.shape
            flat = v.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
            flat = F.interpolate(flat, size=(self.resolution, self.resolution), mode="bilinear", antialias=True,
                                 align_corners=False)
            v = flat.reshape(b, t, c, self.resolution, self.resolution).permute(0, 2, 1, 3, 4)
        return v

    def sample(self, n: int, *, num_frames: int, seed: int, batch_size: int) -> Iterator[np.ndarray]:
        """uint8 [B, T, H, W, 3]; batch i uses seed·1000003 + i (independent of the batch count before it)."""
        done, i = 0, 0
        while done < n:
            b = min(batch_size, n - done)
            yield to_uint8(self.generate(b, num_frames, int(seed) * 1_000_003 + i))
            done += b
            i += 1

    def info(self) -> dict:
        cfg = self.G.cfg
        return {"model": "tganv2", "recipe": self.recipe, "preset": cfg.preset,
                "native_resolution": cfg.resolution, "resolution": self.resolution or cfg.resolution,
                "z": "uniform(-1,1)", **self._info}


def load_generator(checkpoint: str | Path, device: str = "cpu") -> tuple[TGANv2Generator, dict, Path]:
    """Our training checkpoint (run folder or .pt) → (eval-mode generator, checkpoint dict, file path)."""
    from vidbench.config import config_from_dict

    path = resolve_checkpoint(checkpoint)
    sd = load_checkpoint(path, CKPT_FORMAT)
    cfg = config_from_dict(TGANv2Config, sd["config"])
    G = TGANv2Generator(cfg)
    G.load_state_dict(sd["models"]["G"])
    return G.to(device).eval(), sd, path


def load_sampler(checkpoint: str | Path | None, *, device: str = "cpu", resolution: int | None = None,
                 **kw) -> TGANv2Sampler:
    """MODELS loader: ``resolution`` None = native (e.g. 192), 0 = the config's ``eval_resolution``."""
    if checkpoint is None:
        raise VidbenchError("tganv2 needs --checkpoint (a run folder of `vidbench train tganv2`)")
    G, sd, path = load_generator(checkpoint, device)
    res = G.cfg.eval_resolution if resolution == 0 else resolution
    return TGANv2Sampler(G, checkpoint_hash=sha256_file(path), recipe=G.cfg.recipe, resolution=res,
                         info={"checkpoint_step": int(sd["step"]), "dataset": (sd.get("meta") or {}).get("dataset")})


def config_summary(cfg: TGANv2Config) -> dict:
    return {**dataclasses.asdict(cfg), "resolution": cfg.resolution,
            "train_levels": level_schedule(cfg, True), "eval_levels": level_schedule(cfg, False)}


def _register() -> None:
    from vidbench.registry import MODELS

    MODELS.add("tganv2", load_sampler,
               description="TGANv2 (Saito et al., IJCV 2020): CLSTM + multi-level subsampled rendering, clean-room",
               video=True, task="unconditional", needs_checkpoint=True, config=TGANv2Config,
               recipes=("released", "yaml"))


_register()

__all__ = [
    "CKPT_FORMAT",
    "PRESETS",
    "ConvLSTMCell",
    "DisBlock",
    "GenBlock",
    "MultiLevelDiscriminator",
    "OptimizedDisBlock",
    "RenderHead",
    "ResNetVideoDiscriminator",
    "TGANv2Config",
    "TGANv2Generator",
    "TGANv2Sampler",
    "TGANv2Trainer",
    "chainer_downsample",
    "config_summary",
    "discriminator_loss",
    "generator_loss",
    "level_schedule",
    "load_generator",
    "load_sampler",
    "preset_config",
    "r1_penalty",
    "real_pyramid",
    "subsample",
]
