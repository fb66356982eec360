"""DTVNet (Zhang et al., "DTVNet: Dynamic Time-lapse Video Generation via Single Still Image", ECCV 2020) —
clean-room PyTorch.

Written from ``../shared/BASELINES.md`` §2 (facts from the authors' code zhangzjn/DTVNet@9cdf259, read for facts
only; the paper's full text was not retrievable). Registered in ``vidbench.registry.MODELS`` as ``dtvnet``
(``meta.video=True``, ``task="predict"``): one still frame in, ``num_frames`` (32) frames at 128² out.

Model
  * Optical-flow encoder (:class:`FlowEncoder`): flows [B, 2, T, S, S] (pixel units) → Conv3d k(3,4,4) s(1,2,2)
    (no norm/act) → ``log2(S)−3`` × [Conv3d k4 s2 + BN3d + LReLU 0.2] → Conv3d k(2,4,4) → Linear → v [B, 512].
    Widths ndf, 2ndf, … (32 → 512 at 128²).
  * Motion-vector normalisation (:func:`normalize_motion`): v̂ = (v − mean_batch)/√(var_batch + 1e-5), no affine.
  * Dynamic video generator (:class:`DTVGenerator`): shared encoder (ReflPad2 conv5 → conv3 s2 → conv3; BN, ReLU) of
    the first frame → [2ngf, S/2, S/2]; content stream = 9 ResnetBlocks; motion stream = conv3 (2ngf → ngf) and 6 ×
    [ResnetBlock → AdaIN(x, Aᵢ(mapping(v̂)))] (mapping = 3 EqualLinear+LReLU, Aᵢ = 2 EqualLinear+LReLU, AdaIN's
    [γ, β] = EqualLinear(512 → 2ngf) with bias γ = 1, β = 0) → conv3 → LReLU 0.1 = x_opt, the 2T flow channels at
    S/2 (channel 2t + c); decoder on concat(content, x_opt): conv3 ×2 (→ 3T), ConvT ×2 up, ReflPad2 conv5, tanh →
    [3T, S, S] viewed as [3, T, S, S] (channel c·T + t).
  * Discriminator (:class:`DTVDiscriminator`): Conv3d k(3,4,4) s(1,2,2) + LReLU 0.2, then k4 s2 convs with
    InstanceNorm3d + LReLU 0.2 (the last one LReLU 0.01), Conv3d k(2,4,4) → [B, 1]; bias-free.

Objective (BASELINES.md §2.5–2.6; one forward, then a D step, then a G + encoder step on the same forward)
  L_D = ½·[MSE(D(x̂), 0) + MSE(D(x), 1)] + 10·E[(‖∇D(x̃)‖₂ − 1)²]     (LSGAN + WGAN-GP, :func:`d_loss`, :func:`gradient_penalty`)
  L_G = MSE(D(x̂), 1) + 100·‖x̂ − x‖₁ + 1·‖x_opt − flow↓2‖₁          (:func:`g_loss`)
  Adam: G 3e-4, encoder 3e-4, D 3e-5, β = (0.9, 0.999), eps 1e-7; lr constant for the first half of the run, then
  linearly to 0 (niter 100 + niter_decay 100 epochs, here counted in steps).

Decisions (the official code's bugs and this project's constraints; BASELINES.md §2.7)
  * (a) Ground-truth frames are in [0, 1] in the official trainer while G ends in tanh and the input frame is in
    [−1, 1]: here every frame (input, target, D input) is in [−1, 1] — the intended behaviour.
  * (b) The official test script runs a freshly initialised flow encoder (it is never saved); ours is saved with
    G and D in the checkpoint.
  * (c) The official normalisation uses batch statistics also at test time, so a batch of one gives v̂ = 0. Training
    uses batch statistics (as released) and also tracks running statistics (momentum 0.1) that eval uses when the
    encoder is run on flows.
  * **Test-time motion input.** The paper's setting is a single still frame; flows of the ground-truth clip would leak
    the future into a prediction benchmark. Since v̂ is normalised to zero mean and unit variance per dimension during
    training, :meth:`DTVNetSampler.predict` draws v̂ ~ N(0, I) (seeded), which is also how the paper obtains different
    motions from one image. ``motion="flow"`` (GT flows through the encoder) exists for reconstruction diagnostics
    only and is recorded as leaking the future.
  * Optical flow: OpenCV Farnebäck (``flow_*`` config fields) instead of the ARFlow network the official code uses,
    whose Sky-fine-tuned weights cannot be obtained here (a recorded deviation). flow_t = flow(frame t−1 → t), zero
    for t = 0; the flow target is the flow field resized to S/2 (bilinear, align_corners=True, vectors ÷ 2).
  * (d) Six AdaIN blocks in the motion stream regardless of ``n_blocks`` (as released); (e) the encoder's first conv
    has no activation (as released). (f) Any clip of the dataset is used (the official loader keeps only the first 32
    frames of each short video).
  * Depth follows the size (log2(S) − 3 stride-2 stages) and needs ``num_frames = S/4`` (32 at 128², 16 at 64²), as
    the fixed final k(2,4,4) convolution implies. Decoder width 3T and x_opt width 2T (96 and 64 in the release).
  * Init: G's Conv/ConvT/Linear N(0, 0.02), BN weight N(1, 0.02), biases 0, EqualLinear weights N(0, 1) with the
    runtime scale √(2/fan_in); D N(0, 0.02); the flow encoder keeps PyTorch's default init (as released).
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

CKPT_FORMAT = "vidbench.dtvnet.train.v1"
LOG_FIELDS = ["step", "epoch", "time_s", "iter_s", "lr_g", "loss_g", "g_gan", "l1_rgb", "l1_flow", "loss_d",
              "d_real", "d_fake", "gp"]


@dataclass(frozen=True)
class DTVNetConfig:
    """DTVNet hyper-parameters; defaults = ``configs/sky_timelapse.json`` of the release (BASELINES.md §2.1)."""

    recipe: Literal["released"] = "released"
    preset: str = "sky_timelapse"
    num_frames: int = 32  # nframes
    size: int = 128  # imageSize
    ngf: int = 64  # generator width
    ndf: int = 32  # discriminator and flow-encoder width
    dlatent: int = 512  # motion vector size (dlatent_size)
    n_content_blocks: int = 9  # n_blocks of the content stream
    n_motion_blocks: int = 6  # G_synthesis default (config's 9 is not passed; §2.7 d)
    n_mapping: int = 3  # EqualLinear layers mapping v̂
    lambda_l1_rgb: float = 100.0
    lambda_l1_flow: float = 1.0
    lambda_d: float = 0.5
    lambda_gp: float = 10.0
    lr_g: float = 3e-4
    lr_flow: float = 3e-4
    lr_d: float = 3e-5
    betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-7
    decay_start: float = 0.5  # fraction of total_steps after which lr decays linearly to 0 (niter 100, decay 100)
    batch_size: int = 4
    total_steps: int = 200_000
    seed: int = 0
    # ---- optical flow (OpenCV Farnebäck; ARFlow in the release, a recorded deviation)
    flow_pyr_scale: float = 0.5
    flow_levels: int = 3
    flow_winsize: int = 9
    flow_iterations: int = 3
    flow_poly_n: int = 5
    flow_poly_sigma: float = 1.1
    # ---- outputs
    log_every: int = 10
    sample_every: int = 1000
    ckpt_every: int = 1000
    num_grid: int = 4
    fps: float = 25.0  # the release encodes 25 fps

    @property
    def n_down(self) -> int:
        """Stride-2 3D stages of the flow encoder and D: log2(size) − 3 (4 at 128²)."""
        return int(round(math.log2(self.size))) - 3

    def validate(self) -> None:
        if self.size < 16 or self.size & (self.size - 1):
            raise ConfigError(f"size must be a power of two >= 16, got {self.size}")
        if self.num_frames * 4 != self.size:
            raise ConfigError(f"num_frames must be size/4 = {self.size // 4} (the encoder/D depth follows the size; "
                              f"got {self.num_frames})")
        if min(self.ngf, self.ndf, self.dlatent, self.batch_size) < 1 or self.n_motion_blocks < 1:
            raise ConfigError("ngf, ndf, dlatent, batch_size and n_motion_blocks must be >= 1")
        if self.batch_size < 2:
            raise ConfigError("batch_size must be >= 2 (the motion vector is normalised with batch statistics)")
        if not 0.0 <= self.decay_start <= 1.0:
            raise ConfigError("decay_start must be in [0, 1]")


PRESETS: dict[str, dict] = {
    "sky_timelapse": {},
    "tiny": dict(preset="tiny", num_frames=16, size=64, ngf=16, ndf=8, dlatent=64, n_content_blocks=3,
                 n_motion_blocks=3, batch_size=4, total_steps=300, log_every=5, sample_every=100, ckpt_every=100),
    "micro": dict(preset="micro", num_frames=8, size=32, ngf=8, ndf=4, dlatent=16, n_content_blocks=1,
                  n_motion_blocks=1, batch_size=2, total_steps=20, log_every=1, sample_every=0, ckpt_every=10),
}
DEFAULT_PRESETS = {"sky_timelapse": "sky_timelapse"}  # dataset -> preset of `--preset auto`


def preset_config(name: str, **overrides) -> DTVNetConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown DTVNet preset {name!r}; choose one of {', '.join(PRESETS)}")
    cfg = DTVNetConfig(**{**PRESETS[name], **overrides})
    cfg.validate()
    return cfg


# ------------------------------------------------------------------------------------------------ optical flow
def farneback_flows(clip: np.ndarray, cfg: DTVNetConfig) -> np.ndarray:
    """uint8 [T, H, W, 3] → float32 [T, H, W, 2] (dx, dy) pixels: flow_t = flow(frame t−1 → t), flow_0 = 0."""
    import cv2

    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in clip]
    out = np.zeros((len(clip), *clip.shape[1:3], 2), np.float32)
    for t in range(1, len(clip)):
        out[t] = cv2.calcOpticalFlowFarneback(gray[t - 1], gray[t], None, cfg.flow_pyr_scale, cfg.flow_levels,
                                              cfg.flow_winsize, cfg.flow_iterations, cfg.flow_poly_n,
                                              cfg.flow_poly_sigma, 0)
    return out


def flow_target(flows: torch.Tensor) -> torch.Tensor:
    """Flows [B, 2, T, S, S] → target of x_opt [B, 2T, S/2, S/2] (bilinear, align_corners=True, vectors ÷ 2;
    channel 2t + c)."""
    b, c, t, s, _ = flows.shape
    flat = flows.permute(0, 2, 1, 3, 4).reshape(b * t, c, s, s)
    small = F.interpolate(flat, size=(s // 2, s // 2), mode="bilinear", align_corners=True) / 2.0
    return small.reshape(b, t * c, s // 2, s // 2)


# ------------------------------------------------------------------------------------------------ building blocks
class EqualLinear(nn.Module):
    """Linear with weights ~ N(0, 1) scaled at run time by √(2/fan_in); bias 0 (StyleGAN's equalised lr)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.scale = math.sqrt(2.0 / in_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class AdaIN(nn.Module):
    """InstanceNorm2d (no affine) then γ·x̂ + β with [γ, β] = EqualLinear(style) (bias init γ = 1, β = 0)."""

    def __init__(self, ch: int, style_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(ch, affine=False, eps=1e-5)
        self.style = EqualLinear(style_dim, 2 * ch)
        with torch.no_grad():
            self.style.bias[:ch] = 1.0

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.style(style)[:, :, None, None].chunk(2, dim=1)
        return gamma * self.norm(x) + beta


class ResnetBlock(nn.Module):
    """ReflPad1, conv3 (no bias), BN, ReLU, ReflPad1, conv3 (no bias), BN, + identity."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False), nn.BatchNorm2d(ch),
                                  nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, bias=False),
                                  nn.BatchNorm2d(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, pad: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


def normalize_motion(v: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Batch normalisation of the motion vector without affine (BASELINES.md §2.3): (v − μ_B)/√(σ²_B + eps), biased
    variance over the batch."""
    mu = v.mean(0, keepdim=True)
    var = (v - mu).pow(2).mean(0, keepdim=True)
    return (v - mu) / torch.sqrt(var + eps)


class FlowEncoder(nn.Module):
    """Flows [B, 2, T, S, S] → motion vector v [B, dlatent] (and running statistics of v for eval)."""

    def __init__(self, cfg: DTVNetConfig):
        super().__init__()
        w = [cfg.ndf * 2 ** i for i in range(cfg.n_down + 1)]  # 32, 64, 128, 256, 512 at 128²
        layers: list[nn.Module] = [nn.Conv3d(2, w[0], (3, 4, 4), (1, 2, 2), 1, bias=False)]  # no norm, no act
        for i in range(cfg.n_down):
            layers += [nn.Conv3d(w[i], w[i + 1], 4, 2, 1, bias=False), nn.BatchNorm3d(w[i + 1]),
                       nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv3d(w[-1], w[-1], (2, 4, 4), 1, 0, bias=False))  # → [B, w, 1, 1, 1]
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(w[-1], cfg.dlatent)
        self.register_buffer("running_mean", torch.zeros(cfg.dlatent))
        self.register_buffer("running_var", torch.ones(cfg.dlatent))
        self.momentum = 0.1

    def forward(self, flows: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(flows).flatten(1))

    def normalized(self, flows: torch.Tensor) -> torch.Tensor:
        """v̂: batch statistics in training (updating running ones), running statistics in eval (decision (c))."""
        v = self(flows)
        if self.training:
            with torch.no_grad():
                n = v.shape[0]
                self.running_mean.lerp_(v.mean(0), self.momentum)
                self.running_var.lerp_(v.var(0, unbiased=n > 1), self.momentum)
            return normalize_motion(v)
        return (v - self.running_mean) / torch.sqrt(self.running_var + 1e-5)


class MotionStream(nn.Module):
    """G_synthesis: x [B, 2ngf, S/2, S/2], v̂ [B, d] → x_opt [B, 2T, S/2, S/2]."""

    def __init__(self, cfg: DTVNetConfig):
        super().__init__()
        ngf, d = cfg.ngf, cfg.dlatent
        self.conv = nn.Sequential(*_conv_bn_relu(2 * ngf, ngf, 3))
        mapping: list[nn.Module] = []
        for _ in range(cfg.n_mapping):
            mapping += [EqualLinear(d, d), nn.LeakyReLU(0.2)]
        self.mapping = nn.Sequential(*mapping)
        self.blocks = nn.ModuleList([ResnetBlock(ngf) for _ in range(cfg.n_motion_blocks)])
        self.affine = nn.ModuleList([nn.Sequential(EqualLinear(d, d), nn.LeakyReLU(0.2), EqualLinear(d, d),
                                                   nn.LeakyReLU(0.2)) for _ in range(cfg.n_motion_blocks)])
        self.adain = nn.ModuleList([AdaIN(ngf, d) for _ in range(cfg.n_motion_blocks)])
        self.out = nn.Sequential(nn.Conv2d(ngf, 2 * cfg.num_frames, 3, 1, 1, bias=True), nn.LeakyReLU(0.1, True))

    def forward(self, x: torch.Tensor, v_hat: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        m = self.mapping(v_hat)
        for blk, a, ada in zip(self.blocks, self.affine, self.adain):
            x = ada(blk(x), a(m))
        return self.out(x)


class DTVGenerator(nn.Module):
    """(first frame [B, 3, S, S] in [−1, 1], v̂ [B, d]) → (video [B, 3, T, S, S], x_opt [B, 2T, S/2, S/2])."""

    def __init__(self, cfg: DTVNetConfig):
        super().__init__()
        self.cfg = cfg
        ngf, t = cfg.ngf, cfg.num_frames
        self.shared = nn.Sequential(nn.ReflectionPad2d(2), *_conv_bn_relu(3, ngf, 5, 1, 0),
                                    *_conv_bn_relu(ngf, 2 * ngf, 3, 2, 1), *_conv_bn_relu(2 * ngf, 2 * ngf, 3))
        self.content = nn.Sequential(*[ResnetBlock(2 * ngf) for _ in range(cfg.n_content_blocks)])
        self.motion = MotionStream(cfg)
        dec = 3 * t  # 96 in the release
        self.decoder = nn.Sequential(
            *_conv_bn_relu(2 * ngf + 2 * t, dec, 3), *_conv_bn_relu(dec, dec, 3),
            nn.ConvTranspose2d(dec, dec, 3, 2, 1, output_padding=1, bias=False), nn.BatchNorm2d(dec), nn.ReLU(True),
            nn.ReflectionPad2d(2), nn.Conv2d(dec, dec, 5), nn.Tanh())
        self.apply(_init_g)

    def forward(self, frame: torch.Tensor, v_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.shared(frame)  # [B, 2ngf, S/2, S/2]
        x_img = self.content(x)
        x_opt = self.motion(x, v_hat)  # [B, 2T, S/2, S/2]
        out = self.decoder(torch.cat([x_img, x_opt], 1))  # [B, 3T, S, S], channel c·T + t
        b, _, s, _ = out.shape
        return out.view(b, 3, self.cfg.num_frames, s, s), x_opt


def _init_g(m: nn.Module) -> None:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DTVDiscriminator(nn.Module):
    """Video [B, 3, T, S, S] → [B, 1] (LSGAN scores)."""

    def __init__(self, cfg: DTVNetConfig):
        super().__init__()
        w = [cfg.ndf * 2 ** i for i in range(cfg.n_down + 1)]
        layers: list[nn.Module] = [nn.Conv3d(3, w[0], (3, 4, 4), (1, 2, 2), 1, bias=False), nn.LeakyReLU(0.2, True)]
        for i in range(cfg.n_down):
            slope = 0.01 if i == cfg.n_down - 1 else 0.2  # the last one: LeakyReLU() default slope (as released)
            layers += [nn.Conv3d(w[i], w[i + 1], 4, 2, 1, bias=False), nn.InstanceNorm3d(w[i + 1]),
                       nn.LeakyReLU(slope, True)]
        layers.append(nn.Conv3d(w[-1], 1, (2, 4, 4), 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1, 1)


# ------------------------------------------------------------------------------------------------ losses
def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP on random interpolates (per-sample α): weight · mean_b (‖∇D(x̃_b) + 1e-16‖₂ − 1)²."""
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator).to(real.device)
    x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    norm = (g.flatten(1) + 1e-16).norm(2, dim=1)
    return weight * (norm - 1).pow(2).mean()


def d_loss(d_real: torch.Tensor, d_fake: torch.Tensor, lambda_d: float = 0.5) -> tuple[torch.Tensor, ...]:
    """LSGAN D loss: λ_D·[MSE(D(x̂), 0) + MSE(D(x), 1)] → (total, real part, fake part)."""
    lr = F.mse_loss(d_real, torch.ones_like(d_real))
    lf = F.mse_loss(d_fake, torch.zeros_like(d_fake))
    return lambda_d * (lr + lf), lr, lf


def g_loss(d_fake: torch.Tensor, video: torch.Tensor, target: torch.Tensor, x_opt: torch.Tensor,
           flow_tgt: torch.Tensor, cfg: DTVNetConfig) -> tuple[torch.Tensor, dict]:
    """L_G = MSE(D(x̂), 1) + λ_rgb·L1(x̂, x) + λ_flow·L1(x_opt, flow target) (BASELINES.md §2.5)."""
    gan = F.mse_loss(d_fake, torch.ones_like(d_fake))
    l1 = F.l1_loss(video, target)
    lfl = F.l1_loss(x_opt, flow_tgt)
    total = gan + cfg.lambda_l1_rgb * l1 + cfg.lambda_l1_flow * lfl
    return total, {"g_gan": gan.item(), "l1_rgb": l1.item(), "l1_flow": lfl.item()}


# ------------------------------------------------------------------------------------------------ trainer
class DTVNetTrainer(BaselineTrainer):
    """Trains the flow encoder, G and D of DTVNet on clips uint8 [T, S, S, 3] (T = num_frames)."""

    name = "dtvnet"
    CKPT_FORMAT = CKPT_FORMAT
    LOG_FIELDS = LOG_FIELDS

    cfg: DTVNetConfig

    def build(self) -> None:
        cfg = self.cfg
        self.E = FlowEncoder(cfg).to(self.device)
        self.G = DTVGenerator(cfg).to(self.device)
        self.D = DTVDiscriminator(cfg).to(self.device)
        kw = dict(betas=tuple(cfg.betas), eps=cfg.adam_eps)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, **kw)
        self.opt_e = torch.optim.Adam(self.E.parameters(), lr=cfg.lr_flow, **kw)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, **kw)

    def modules(self):
        return {"E": self.E, "G": self.G, "D": self.D}

    def optimizers(self):
        return {"E": self.opt_e, "G": self.opt_g, "D": self.opt_d}

    def batch_tensors(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 clips [B, T, S, S, 3] → (video [B, 3, T, S, S] in [−1, 1], flows [B, 2, T, S, S])."""
        cfg = self.cfg
        if clips.shape[1] < cfg.num_frames or clips.shape[2] != cfg.size:
            raise VidbenchError(f"clips are {clips.shape[1]}x{clips.shape[2]}², DTVNet needs "
                                f"{cfg.num_frames}x{cfg.size}²")
        clips = clips[:, : cfg.num_frames]
        flows = np.stack([farneback_flows(c, cfg) for c in clips])  # [B, T, S, S, 2]
        return from_uint8(clips, self.device), torch.from_numpy(flows).permute(0, 4, 1, 2, 3).to(self.device)

    def set_lrs(self) -> float:
        cfg = self.cfg
        start = int(cfg.decay_start * cfg.total_steps)
        f = linear_lr(1.0, self.step, cfg.total_steps, start)
        for o, base in ((self.opt_g, cfg.lr_g), (self.opt_e, cfg.lr_flow), (self.opt_d, cfg.lr_d)):
            for g in o.param_groups:
                g["lr"] = base * f
        return cfg.lr_g * f

    def forward_batch(self, video: torch.Tensor, flows: torch.Tensor):
        v_hat = self.E.normalized(flows)
        fake, x_opt = self.G(video[:, :, 0], v_hat)
        return fake, x_opt

    def train_step_impl(self) -> dict:
        cfg = self.cfg
        lr = self.set_lrs()
        video, flows = self.batch_tensors(self.next_clips(cfg.batch_size))
        fake, x_opt = self.forward_batch(video, flows)
        # D step (on the detached fake), GP back-propagated with the LSGAN loss
        total_d, d_real, d_fake = d_loss(self.D(video), self.D(fake.detach()), cfg.lambda_d)
        gp = gradient_penalty(self.D, video, fake.detach(), cfg.lambda_gp)
        self.opt_d.zero_grad(set_to_none=True)
        (total_d + gp).backward()
        self.opt_d.step()
        # G + flow-encoder step on the same forward
        self.D.requires_grad_(False)
        total_g, parts = g_loss(self.D(fake), fake, video, x_opt, flow_target(flows), cfg)
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_e.zero_grad(set_to_none=True)
        total_g.backward()
        self.opt_g.step()
        self.opt_e.step()
        self.D.requires_grad_(True)
        return {"lr_g": lr, "loss_g": total_g.item(), **parts, "loss_d": total_d.item(), "d_real": d_real.item(),
                "d_fake": d_fake.item(), "gp": gp.item()}

    def sample_uint8(self, n: int, seed: int) -> np.ndarray:
        """Predictions from the first frames of the first ``n`` dataset clips (v̂ ~ N(0, I))."""
        clips = np.stack([self.dataset[i].video for i in range(min(n, len(self.dataset)))])
        sampler = DTVNetSampler(self.G, self.E)
        out = sampler.predict(clips[:, 0], self.cfg.num_frames, seed=seed)
        return np.concatenate([clips[:, : self.cfg.num_frames], out], axis=3)  # real | predicted side by side


# ------------------------------------------------------------------------------------------------ sampler
class DTVNetSampler:
    """Video prediction sampler: ``predict(first_frames uint8 [B, H, W, 3], num_frames) → uint8 [B, T, H, W, 3]``.

    ``motion="normal"`` (default): v̂ ~ N(0, I), seeded — the single-still-image setting. ``motion="flow"`` needs
    ``flows`` of the ground-truth clips and leaks the future (diagnostics only). ``start_frame_source`` is a label
    the caller passes ("inverted G(ẑ1)" for Table 3, "raw first frame" for Table 8); the sampler records it.
    """

    def __init__(self, generator: DTVGenerator, encoder: FlowEncoder, *, checkpoint_hash: str | None = None,
                 info: dict | None = None):
        self.G = generator.eval()
        self.E = encoder.eval()
        self.cfg = generator.cfg
        self.checkpoint_hash = checkpoint_hash
        self.recipe = self.cfg.recipe
        self._info = dict(info or {})
        self._calls: dict = {"motion": "normal", "start_frame_source": None, "input_resolution": None}

    frame_stride = 1  # trained on consecutive frames (as released)

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    @torch.no_grad()
    def predict(self, first_frames: np.ndarray, num_frames: int, *, seed: int = 0, options: dict | None = None,
                motion: str = "normal", flows: np.ndarray | None = None,
                start_frame_source: str | None = None) -> np.ndarray:
        """``num_frames`` (<= cfg.num_frames) frames from each still frame; frame 0 is the model's reconstruction.

        ``options`` is the dict `vidbench eval --task predict` passes (MoCoGAN-HD inversion settings; DTVNet inverts
        nothing: its ``start_frame_source`` key, if any, is recorded). The frames are resized to the model's size.
        """
        cfg = self.cfg
        start_frame_source = start_frame_source or (options or {}).get("start_frame_source")
        x = np.asarray(first_frames)
        if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
            raise VidbenchError(f"dtvnet.predict needs first frames uint8 [B, H, W, 3], got {x.dtype} {x.shape}")
        if not 1 <= num_frames <= cfg.num_frames:
            raise VidbenchError(f"dtvnet generates {cfg.num_frames} frames per still image; ask for 1..{cfg.num_frames}"
                                f" (got {num_frames})")
        self._calls.update(start_frame_source=start_frame_source or "the frame the caller supplied (`vidbench eval "
                                                                    "--task predict`: the clip's raw first frame)",
                           input_resolution=list(x.shape[1:3]), motion=motion)
        frame = from_uint8(x[:, None], self.device)[:, :, 0]  # [B, 3, H, W]
        h, w = frame.shape[-2:]
        if (h, w) != (cfg.size, cfg.size):
            frame = F.interpolate(frame, size=(cfg.size, cfg.size), mode="bilinear", antialias=True,
                                  align_corners=False)
        b = frame.shape[0]
        if motion == "normal":
            g = torch.Generator().manual_seed(int(seed))
            v_hat = torch.randn(b, cfg.dlatent, generator=g).to(self.device)
        elif motion == "flow":
            if flows is None:
                raise VidbenchError("motion='flow' needs the ground-truth flows [B, T, S, S, 2]")
            f = torch.as_tensor(np.asarray(flows), dtype=torch.float32).permute(0, 4, 1, 2, 3).to(self.device)
            v_hat = self.E.normalized(f)
        else:
            raise VidbenchError(f"motion must be 'normal' or 'flow', got {motion!r}")
        video, _ = self.G(frame, v_hat)
        return to_uint8(video[:, :, :num_frames])

    def sample(self, n: int, *, num_frames: int, seed: int, batch_size: int) -> Iterator[np.ndarray]:
        raise VidbenchError("dtvnet is a video-prediction model (one still frame in): evaluate it with "
                            "`vidbench eval --task predict`")

    def predict_settings(self, num_frames: int, options: dict | None = None) -> dict:
        """What `vidbench eval --task predict` records in the protocol for this model's predictions."""
        return {"model": "dtvnet", "motion_input": "v_hat ~ N(0, I), seeded per batch (no ground-truth flow)",
                "start_frame": "the clip's first frame as supplied, resized to the model size",
                "model_frames": self.cfg.num_frames, "model_resolution": self.cfg.size,
                "optical_flow_training": "opencv-farneback"}

    def info(self) -> dict:
        return {"model": "dtvnet", "recipe": self.recipe, "task": "predict", "num_frames": self.cfg.num_frames,
                "resolution": self.cfg.size, "optical_flow": "opencv-farneback (ARFlow in the release)",
                "motion_input": {"normal": "v̂ ~ N(0, I) (single still image; no future information)",
                                 "flow": "encoder on ground-truth flows (leaks the future)"}[self._calls["motion"]],
                **{k: v for k, v in self._calls.items() if k != "motion"}, **self._info}


def load_model(checkpoint: str | Path, device: str = "cpu") -> tuple[DTVGenerator, FlowEncoder, dict, Path]:
    from vidbench.config import config_from_dict

    path = resolve_checkpoint(checkpoint)
    sd = load_checkpoint(path, CKPT_FORMAT)
    cfg = config_from_dict(DTVNetConfig, sd["config"])
    G, E = DTVGenerator(cfg), FlowEncoder(cfg)
    G.load_state_dict(sd["models"]["G"])
    E.load_state_dict(sd["models"]["E"])
    return G.to(device).eval(), E.to(device).eval(), sd, path


def load_sampler(checkpoint: str | Path | None, *, device: str = "cpu", **kw) -> DTVNetSampler:
    if checkpoint is None:
        raise VidbenchError("dtvnet needs --checkpoint (a run folder of `vidbench train dtvnet`)")
    G, E, sd, path = load_model(checkpoint, device)
    return DTVNetSampler(G, E, checkpoint_hash=sha256_file(path),
                         info={"checkpoint_step": int(sd["step"]), "dataset": (sd.get("meta") or {}).get("dataset")})


def config_summary(cfg: DTVNetConfig) -> dict:
    return dataclasses.asdict(cfg)


def _register() -> None:
    from vidbench.registry import MODELS

    MODELS.add("dtvnet", load_sampler,
               description="DTVNet (Zhang et al., ECCV 2020): still frame + motion vector -> 32 frames, clean-room",
               video=True, task="predict", needs_checkpoint=True, config=DTVNetConfig, recipes=("released",))


_register()

__all__ = [
    "CKPT_FORMAT",
    "PRESETS",
    "AdaIN",
    "DTVDiscriminator",
    "DTVGenerator",
    "DTVNetConfig",
    "DTVNetSampler",
    "DTVNetTrainer",
    "EqualLinear",
    "FlowEncoder",
    "MotionStream",
    "ResnetBlock",
    "d_loss",
    "farneback_flows",
    "flow_target",
    "g_loss",
    "gradient_penalty",
    "load_model",
    "load_sampler",
    "normalize_motion",
    "preset_config",
]
