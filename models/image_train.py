"""StyleGAN2 training (Karras et al. 2020; rosinality/stylegan2-pytorch train.py recipe) on image or video-frame data.

Losses (one function each): non-saturating logistic loss for D and G, lazy R1 penalty on reals every
``d_reg_every`` steps, optional path-length regularisation every ``g_reg_every`` steps, style mixing, EMA generator,
Adam with the lazy-regularisation corrected lr/betas. Optional augmentation (x-flips of reals, DiffAugment-style
translation of reals and fakes — the paper's in-house generators used DiffAugment, App. B).

Video datasets are used as frame sets: frames are sampled uniformly from random clips (``pool_clips`` clips are
decoded once and kept as uint8; 0 streams from the dataset each batch).

Run folder: ``config.json``, ``train_log.csv``, ``samples/{step:06d}.png`` (fixed z), ``checkpoints/{step:06d}.pt``
and ``checkpoint.pt`` (latest). Checkpoints use rosinality key names for ``g``, ``g_ema`` and ``d`` (so
``load_rosinality_checkpoint`` and ``vidbench pca`` read them) plus optimiser states, step, every RNG state and the
config; they are written atomically and hold only tensors/plain containers (``torch.load(weights_only=True)``).
Resume is exact: continuing from a checkpoint reproduces the uninterrupted run on the same device.

models/ never imports metrics/: FID tracking is a callback ``fid_callback(G_ema) -> float`` passed by the caller.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import autograd
from vidbench.models.stylegan2 import (
    Discriminator,
    Generator,
    StyleGAN2Config,
    remap_rosinality_state_dict,
    to_rosinality_state_dict,
)

from vidbench.cache import atomic_path
from vidbench.config import config_from_dict, config_to_dict
from vidbench.errors import VidbenchError

Augment = Literal["none", "flip", "translation", "flip+translation"]


@dataclass(frozen=True)
class ImageTrainConfig:
    """StyleGAN2 training; defaults = rosinality train.py (config-f, 256²), which MoCoGAN-HD's generators follow."""

    dataset: str = "moving_mnist"
    split: str = "train"
    data_root: str = ""
    dataset_kwargs: str = ""  # extra dataset options "k=v,k=v" (e.g. num_digits=1)
    num_frames: int = 16  # frames per clip read from a video dataset
    pool_clips: int = 1024  # clips decoded once into the frame pool (0: read clips every batch)
    size: int = 256  # image resolution (paper App. B: 256 for UCF/FaceForensics, 128 Sky)
    style_dim: int = 512
    n_mlp: int = 8
    channel_multiplier: int = 2
    channel_max: int = 512
    lr_mlp: float = 0.01
    batch: int = 16
    iters: int = 800_000
    lr: float = 0.002
    r1: float = 10.0  # R1 weight (gamma)
    d_reg_every: int = 16  # lazy R1
    path_regularize: float = 2.0  # 0 disables path-length regularisation
    path_batch_shrink: int = 2
    g_reg_every: int = 4
    mixing: float = 0.9  # style-mixing probability
    ema_half_life_kimg: float = 10.0  # G_ema half-life in thousands of images (rosinality: 10k at batch 32)
    ema_rampup: float = 0.0  # >0: half-life limited to ema_rampup * images seen (helps short runs)
    augment: Augment = "none"
    translation_frac: float = 0.125  # DiffAugment translation range (fraction of the side)
    n_sample: int = 64  # images in the sample grid
    sample_every: int = 1000
    ckpt_every: int = 10_000
    log_every: int = 50
    fid_every_kimg: float = 0.0  # 0 disables the fid_callback
    seed: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        if self.size < 8 or self.size & (self.size - 1):
            raise VidbenchError(f"size must be a power of two >= 8, got {self.size}")
        if self.batch < 2:
            raise VidbenchError("batch must be >= 2 (minibatch stddev)")
        if self.augment not in ("none", "flip", "translation", "flip+translation"):
            raise VidbenchError(f"augment must be none, flip, translation or flip+translation, got {self.augment!r}")

    def generator_config(self) -> StyleGAN2Config:
        return StyleGAN2Config(size=self.size, style_dim=self.style_dim, n_mlp=self.n_mlp,
                               channel_multiplier=self.channel_multiplier, lr_mlp=self.lr_mlp,
                               channel_max=self.channel_max)

    def dataset_options(self) -> dict:
        out: dict = {}
        for item in filter(None, (s.strip() for s in self.dataset_kwargs.split(","))):
            if "=" not in item:
                raise VidbenchError(f"dataset_kwargs item {item!r}: use k=v")
            k, v = item.split("=", 1)
            for cast in (int, float):
                try:
                    out[k.strip()] = cast(v)
                    break
                except ValueError:
                    continue
            else:
                out[k.strip()] = v.strip()
        return out


def tiny_preset(**overrides) -> ImageTrainConfig:
    """CPU preset: 32² moving_mnist frames, 32 channels, 128-d style, 2-layer mapping; a few minutes on one core."""
    cfg = ImageTrainConfig(
        dataset="moving_mnist", size=32, style_dim=128, n_mlp=2, channel_max=32, batch=16, iters=3000, lr=0.0025,
        r1=2.0, path_regularize=0.0, mixing=0.0, ema_half_life_kimg=1.0, ema_rampup=0.05, n_sample=36,
        sample_every=500, ckpt_every=500, log_every=25, pool_clips=256, num_frames=16,
    )
    return dataclasses.replace(cfg, **overrides)


PRESETS = {"paper": ImageTrainConfig, "tiny": tiny_preset}


# --------------------------------------------------------------------------------------------- losses
def d_logistic_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic D loss: softplus(-D(x)) + softplus(D(G(z)))  (Goodfellow et al. 2014)."""
    return F.softplus(-real_pred).mean() + F.softplus(fake_pred).mean()


def g_nonsaturating_loss(fake_pred: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss: softplus(-D(G(z)))."""
    return F.softplus(-fake_pred).mean()


def d_r1_penalty(real_pred: torch.Tensor, real_img: torch.Tensor) -> torch.Tensor:
    """R1 = E ||∇_x D(x)||² on reals (Mescheder et al. 2018); weighted by r1/2 · d_reg_every (lazy)."""
    (grad,) = autograd.grad(real_pred.sum(), real_img, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def g_path_length_penalty(fake_img: torch.Tensor, latents: torch.Tensor, mean_path_length: torch.Tensor,
                          decay: float = 0.01) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Path-length regulariser (StyleGAN2 §3.2): (||J_w^T y||₂ − a)², y ~ N(0,I)/sqrt(HW), a = EMA of the lengths."""
    noise = torch.randn_like(fake_img) / math.sqrt(fake_img.shape[2] * fake_img.shape[3])
    (grad,) = autograd.grad((fake_img * noise).sum(), latents, create_graph=True)
    lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))  # [B]
    new_mean = mean_path_length + decay * (lengths.mean().detach() - mean_path_length)
    return (lengths - new_mean).pow(2).mean(), new_mean.detach(), lengths.detach().mean()


# --------------------------------------------------------------------------------------------- augmentation
def augment_batch(x: torch.Tensor, mode: str, frac: float, gen: torch.Generator, flip_ok: bool) -> torch.Tensor:
    """x-flip (reals only) and DiffAugment-style integer translation with zero fill. x [B,3,H,W]."""
    if "flip" in mode and flip_ok:
        m = torch.rand(x.shape[0], generator=gen) < 0.5
        x = torch.where(m.view(-1, 1, 1, 1).to(x.device), x.flip(3), x)
    if "translation" in mode:
        b, _, h, w = x.shape
        sh, sw = int(h * frac + 0.5), int(w * frac + 0.5)
        tx = torch.randint(-sh, sh + 1, (b,), generator=gen).to(x.device)
        ty = torch.randint(-sw, sw + 1, (b,), generator=gen).to(x.device)
        gy = (torch.arange(h, device=x.device)[None, :] - tx[:, None])  # [B,H] source rows
        gx = (torch.arange(w, device=x.device)[None, :] - ty[:, None])  # [B,W]
        valid = ((gy >= 0) & (gy < h))[:, :, None] & ((gx >= 0) & (gx < w))[:, None, :]  # [B,H,W]
        gy, gx = gy.clamp(0, h - 1), gx.clamp(0, w - 1)
        idx = (gy[:, :, None] * w + gx[:, None, :]).view(b, 1, h * w).expand(-1, x.shape[1], -1)
        x = torch.gather(x.reshape(b, x.shape[1], h * w), 2, idx).view_as(x) * valid[:, None].to(x.dtype)
    return x


# --------------------------------------------------------------------------------------------- data
class FrameSampler:
    """Uniform random frames from random clips of a vidbench video dataset, as float [-1,1] [B,3,S,S]."""

    def __init__(self, ds, pool_clips: int, gen: torch.Generator, progress: bool = True):
        self.ds, self.gen = ds, gen
        self.pool = None
        if pool_clips > 0:
            from tqdm import tqdm

            n = min(pool_clips, len(ds))
            idx = torch.randperm(len(ds), generator=gen)[:n].tolist()
            frames = [ds[i].video for i in tqdm(idx, desc="frame pool", disable=not progress, leave=False)]
            self.pool = torch.from_numpy(np.concatenate(frames, 0))  # uint8 [N,H,W,3]

    def sample(self, batch: int) -> torch.Tensor:
        if self.pool is not None:
            idx = torch.randint(0, len(self.pool), (batch,), generator=self.gen)
            x = self.pool[idx]
        else:
            clips = torch.randint(0, len(self.ds), (batch,), generator=self.gen).tolist()
            frames = []
            for c in clips:
                v = self.ds[c].video
                frames.append(torch.from_numpy(v[int(torch.randint(0, len(v), (1,), generator=self.gen))]))
            x = torch.stack(frames)
        return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # [B,3,H,W] in [-1,1]


def build_frame_dataset(cfg: ImageTrainConfig):
    from vidbench.datasets import build_dataset

    return build_dataset(cfg.dataset, split=cfg.split or None, num_frames=cfg.num_frames, size=cfg.size,
                         seed=cfg.seed, data_root=cfg.data_root or None, **cfg.dataset_options())


def save_image_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> Path:
    """Save [N,3,H,W] images in [-1,1] as one PNG grid (atomic)."""
    from PIL import Image

    n, c, h, w = images.shape
    nrow = nrow or int(math.ceil(math.sqrt(n)))
    ncol = int(math.ceil(n / nrow))
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    grid = torch.zeros(3, ncol * (h + 2) + 2, nrow * (w + 2) + 2, dtype=torch.uint8)
    for i in range(n):
        r, k = divmod(i, nrow)
        grid[:, 2 + r * (h + 2): 2 + r * (h + 2) + h, 2 + k * (w + 2): 2 + k * (w + 2) + w] = x[i]
    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(grid.permute(1, 2, 0).numpy()).save(tmp, format="PNG")
    return path


# --------------------------------------------------------------------------------------------- trainer
LOG_FIELDS = ["step", "kimg", "d_loss", "g_loss", "r1", "path_loss", "path_length", "real_score", "fake_score",
              "ema_beta", "elapsed_s", "fid"]


class StyleGAN2Trainer:
    """Owns G, D, G_ema, optimisers, data and RNG; ``train()`` runs until ``cfg.iters`` (resumable)."""

    def __init__(self, cfg: ImageTrainConfig, run_dir: str | os.PathLike, *, dataset=None,
                 fid_callback: Callable[[Generator], float] | None = None, progress: bool = True):
        cfg.validate()
        self.cfg, self.run_dir, self.progress = cfg, Path(run_dir), progress
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.gen = torch.Generator().manual_seed(cfg.seed)  # data, z, mixing, augmentation
        gcfg = cfg.generator_config()
        self.G = Generator(gcfg).to(self.device)
        self.D = Discriminator(gcfg).to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        g_ratio = cfg.g_reg_every / (cfg.g_reg_every + 1)
        d_ratio = cfg.d_reg_every / (cfg.d_reg_every + 1)
        self.g_optim = torch.optim.Adam(self.G.parameters(), lr=cfg.lr * g_ratio, betas=(0.0, 0.99**g_ratio))
        self.d_optim = torch.optim.Adam(self.D.parameters(), lr=cfg.lr * d_ratio, betas=(0.0, 0.99**d_ratio))
        self.step = 0
        self.mean_path_length = torch.zeros((), device=self.device)
        self.sample_z = torch.randn(cfg.n_sample, cfg.style_dim, generator=self.gen)
        self.ds = dataset if dataset is not None else build_frame_dataset(cfg)
        self.sampler = FrameSampler(self.ds, cfg.pool_clips, self.gen, progress)
        self.fid_callback = fid_callback
        self.next_fid_kimg = cfg.fid_every_kimg
        self.log_path = self.run_dir / "train_log.csv"
        self.last: dict = {}

    # --------------------------------------------------------------------------- pieces
    def _z(self, n):
        return torch.randn(n, self.cfg.style_dim, generator=self.gen).to(self.device)

    def _latents(self, G: Generator, n: int) -> torch.Tensor:
        """w+ [n,n_latent,D] with style mixing at probability cfg.mixing."""
        w = G.mapping(self._z(n))[:, None].expand(-1, G.n_latent, -1)
        if self.cfg.mixing > 0 and float(torch.rand((), generator=self.gen)) < self.cfg.mixing:
            w2 = G.mapping(self._z(n))[:, None].expand(-1, G.n_latent, -1)
            cut = int(torch.randint(1, G.n_latent, (), generator=self.gen))
            w = torch.cat([w[:, :cut], w2[:, cut:]], 1)
        return w

    def _real(self) -> torch.Tensor:
        x = self.sampler.sample(self.cfg.batch).to(self.device)
        return self._aug(x, real=True)

    def _aug(self, x, real: bool):
        if self.cfg.augment == "none":
            return x
        return augment_batch(x, self.cfg.augment, self.cfg.translation_frac, self.gen, flip_ok=real)

    def ema_beta(self) -> float:
        cfg = self.cfg
        half = cfg.ema_half_life_kimg * 1000
        if cfg.ema_rampup > 0:
            half = min(half, (self.step + 1) * cfg.batch * cfg.ema_rampup)
        return 0.5 ** (cfg.batch / max(half, 1e-8))

    @torch.no_grad()
    def _update_ema(self):
        beta = self.ema_beta()
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p, 1 - beta)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)
        return beta

    def train_step(self) -> dict:
        cfg, G, D = self.cfg, self.G, self.D
        row: dict = {"r1": float("nan"), "path_loss": float("nan"), "path_length": float("nan")}
        # ---- D: logistic loss
        G.requires_grad_(False)
        D.requires_grad_(True)
        real = self._real()
        with torch.no_grad():
            fake = G.synthesis(self._latents(G, cfg.batch))
        fake_pred, real_pred = D(self._aug(fake, real=False)), D(real)
        d_loss = d_logistic_loss(real_pred, fake_pred)
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optim.step()
        row.update(d_loss=float(d_loss.detach()), real_score=float(real_pred.detach().mean()),
                   fake_score=float(fake_pred.detach().mean()))
        # ---- lazy R1
        if cfg.r1 > 0 and self.step % cfg.d_reg_every == 0:
            real = self._real().requires_grad_(True)
            real_pred = D(real)
            r1 = d_r1_penalty(real_pred, real)
            self.d_optim.zero_grad(set_to_none=True)
            (cfg.r1 / 2 * r1 * cfg.d_reg_every + 0 * real_pred[0].sum()).backward()
            self.d_optim.step()
            row["r1"] = float(r1.detach())
        # ---- G: non-saturating loss
        G.requires_grad_(True)
        D.requires_grad_(False)
        fake = G.synthesis(self._latents(G, cfg.batch))
        g_loss = g_nonsaturating_loss(D(self._aug(fake, real=False)))
        self.g_optim.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optim.step()
        row["g_loss"] = float(g_loss.detach())
        # ---- lazy path-length regularisation
        if cfg.path_regularize > 0 and self.step % cfg.g_reg_every == 0:
            n = max(1, cfg.batch // cfg.path_batch_shrink)
            latents = self._latents(G, n)
            fake = G.synthesis(latents)
            pl, self.mean_path_length, plen = g_path_length_penalty(fake, latents, self.mean_path_length)
            self.g_optim.zero_grad(set_to_none=True)
            (cfg.path_regularize * cfg.g_reg_every * pl + 0 * fake[0, 0, 0, 0]).backward()
            self.g_optim.step()
            row.update(path_loss=float(pl.detach()), path_length=float(plen))
        row["ema_beta"] = self._update_ema()
        self.step += 1
        return row

    # --------------------------------------------------------------------------- outputs
    @torch.no_grad()
    def save_samples(self, name: str | None = None) -> Path:
        imgs = torch.cat([self.G_ema(z.to(self.device), noise_mode="const") for z in self.sample_z.split(16)])
        return save_image_grid(imgs, self.run_dir / "samples" / (name or f"{self.step:06d}.png"))

    def state_dict(self) -> dict:
        return {
            "g": to_rosinality_state_dict(self.G),
            "g_ema": to_rosinality_state_dict(self.G_ema),
            "d": self.D.state_dict(),
            "g_optim": self.g_optim.state_dict(),
            "d_optim": self.d_optim.state_dict(),
            "step": self.step,
            "mean_path_length": self.mean_path_length.detach().cpu(),
            "sample_z": self.sample_z,
            "rng": {"train": self.gen.get_state(), "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "next_fid_kimg": self.next_fid_kimg,
            "train_config": config_to_dict(self.cfg),
            "vidbench_config": dataclasses.asdict(self.cfg.generator_config()),
            "format": "vidbench-stylegan2-train-v1",
        }

    def save_checkpoint(self) -> Path:
        sd = self.state_dict()
        ck = self.run_dir / "checkpoints" / f"{self.step:06d}.pt"
        for path in (ck, self.run_dir / "checkpoint.pt"):
            with atomic_path(path) as tmp:
                torch.save(sd, tmp)
        return ck

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        ck = _read_checkpoint(Path(path))
        gcfg = self.cfg.generator_config()
        self.G.load_state_dict(remap_rosinality_state_dict(ck["g"], gcfg))
        self.G_ema.load_state_dict(remap_rosinality_state_dict(ck["g_ema"], gcfg))
        self.D.load_state_dict(ck["d"])
        self.g_optim.load_state_dict(ck["g_optim"])
        self.d_optim.load_state_dict(ck["d_optim"])
        self.step = int(ck["step"])
        self.mean_path_length = ck["mean_path_length"].to(self.device)
        self.sample_z = ck["sample_z"]
        self.next_fid_kimg = float(ck["next_fid_kimg"])
        self.gen.set_state(ck["rng"]["train"])
        torch.set_rng_state(ck["rng"]["torch"])
        if ck["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
        self._truncate_log()

    def _truncate_log(self) -> None:
        """After a resume: keep the complete log rows up to the checkpoint's step (rows logged after it by a killed
        run would otherwise appear twice); the file is rewritten atomically."""
        if not self.log_path.exists():
            return
        kept, last = [], -1
        with open(self.log_path, newline="") as f:
            for r in csv.DictReader(f):
                if None in r or any(r.get(k) is None for k in LOG_FIELDS):
                    continue  # a line cut short by the kill
                try:
                    s = int(r["step"])
                except (TypeError, ValueError):
                    continue
                if last < s <= self.step:
                    kept.append(r)
                    last = s
        with atomic_path(self.log_path) as tmp:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
                w.writeheader()
                w.writerows(kept)

    def _log(self, row: dict) -> None:
        new = not self.log_path.exists()
        with open(self.log_path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=LOG_FIELDS, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def train(self, iters: int | None = None) -> dict:
        """Train until step ``iters`` (default cfg.iters); returns the last logged row."""
        from tqdm import tqdm

        cfg = self.cfg
        end = cfg.iters if iters is None else iters
        t0 = time.time()
        bar = tqdm(total=end, initial=self.step, desc="stylegan2", disable=not self.progress, unit="it")
        row: dict = {}
        try:
            while self.step < end:
                row = self.train_step()
                bar.update(1)
                kimg = self.step * cfg.batch / 1000
                row.update(step=self.step, kimg=kimg, elapsed_s=time.time() - t0, fid="")
                if self.fid_callback is not None and cfg.fid_every_kimg > 0 and kimg >= self.next_fid_kimg:
                    row["fid"] = float(self.fid_callback(self.G_ema))
                    self.next_fid_kimg += cfg.fid_every_kimg
                if self.step % cfg.log_every == 0 or row["fid"] != "" or self.step == end:
                    self._log(row)
                    bar.set_postfix(d=f"{row['d_loss']:.3f}", g=f"{row['g_loss']:.3f}")
                if cfg.sample_every and self.step % cfg.sample_every == 0:
                    self.save_samples()
                if cfg.ckpt_every and (self.step % cfg.ckpt_every == 0):
                    self.save_checkpoint()
        finally:
            bar.close()
        if row and (not cfg.ckpt_every or self.step % cfg.ckpt_every):
            self.save_checkpoint()
        self.last = row
        return row


def _read_checkpoint(path: Path) -> dict:
    """A `vidbench train image` checkpoint, or one clear error (missing, truncated, another model's file)."""
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated zip, foreign pickle, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise VidbenchError(f"{path}: cannot read the checkpoint, it is truncated or corrupt ({type(e).__name__}: "
                            f"{first[:160]}); copy an earlier checkpoints/NNNNNN.pt over it") from None
    if not isinstance(ck, dict) or ck.get("format") != "vidbench-stylegan2-train-v1":
        fmt = ck.get("format") if isinstance(ck, dict) else type(ck).__name__
        raise VidbenchError(f"{path}: not a `vidbench train image` checkpoint (format {fmt!r}); resume an image "
                            "training run folder (a StyleGAN2 .pt is used as --image-generator instead)")
    return ck


def resume_trainer(run_dir: str | os.PathLike, *, dataset=None, fid_callback=None, progress: bool = True,
                   overrides: dict | None = None) -> StyleGAN2Trainer:
    """Rebuild the trainer of ``run_dir`` from its latest checkpoint (config from the checkpoint; ``overrides`` may
    change e.g. ``iters``)."""
    run_dir = Path(run_dir)
    ck_path = run_dir / "checkpoint.pt"
    if not ck_path.exists():
        raise VidbenchError(f"{run_dir}: no checkpoint.pt to resume from (is it a `vidbench train image` run folder?)")
    from vidbench.cache import remove_interrupted_writes

    remove_interrupted_writes(run_dir, run_dir / "checkpoints", run_dir / "samples")  # left by a killed write
    ck = _read_checkpoint(ck_path)
    cfg = config_from_dict(ImageTrainConfig, ck["train_config"])
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    tr = StyleGAN2Trainer(cfg, run_dir, dataset=dataset, fid_callback=fid_callback, progress=progress)
    tr.load_checkpoint(ck_path)
    return tr


EXPORT_FORMAT = "vidbench-stylegan2-g_ema-v1"


def export_generator(checkpoint: str | os.PathLike, out: str | os.PathLike, provenance: dict | None = None) -> Path:
    """Write the frozen-generator file of a `vidbench train image` checkpoint: its EMA generator only.

    Keeps ``g_ema`` (rosinality key names), ``vidbench_config`` (the architecture), ``train_config``, ``step`` and a
    ``provenance`` dict (how it was made: command, machine, wall time, ...; JSON values only); drops G, D, the
    optimisers and the RNG states. The file is what MoCoGAN-HD uses as its image generator
    (``load_rosinality_checkpoint`` reads it) and loads with ``torch.load(weights_only=True)``. Written atomically.
    """
    ck = _read_checkpoint(Path(checkpoint))
    small = {"g_ema": ck["g_ema"], "vidbench_config": ck["vidbench_config"], "train_config": ck["train_config"],
             "step": int(ck["step"]), "format": EXPORT_FORMAT,
             "provenance": json.loads(json.dumps(provenance or {}))}  # plain JSON types only (weights_only loads)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        torch.save(small, tmp)
    return out


__all__ = [
    "ImageTrainConfig",
    "tiny_preset",
    "StyleGAN2Trainer",
    "resume_trainer",
    "export_generator",
    "d_logistic_loss",
    "g_nonsaturating_loss",
    "d_r1_penalty",
    "g_path_length_penalty",
    "save_image_grid",
]
