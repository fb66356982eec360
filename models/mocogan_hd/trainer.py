"""MoCoGAN-HD trainer: full objective of Eqn. 7 with the paper's and the released recipes (App. B).

    min_{G_M} ( max_{D_V} L_DV + max_{D_I} L_DI ) + max_{G_M}(λ_m L_m + λ_f L_f) + min_{D_I} λ_contr L_contr   (Eqn. 7)

(L_m and L_f are similarities written as "max"; the code minimises their negatives.) Only G_M, D_V and D_I are
trained; the image generator (including its mapping network) is frozen. One *iteration* (= one ``step``) takes a real
batch, does ``g_steps_per_d`` generator updates (each with fresh z, ε and StyleGAN2 noise) and one discriminator
update (D_V, then D_I; EMA key encoder and memory bank as the recipe says) on freshly generated clips, or with
``d_fake="reuse"`` on the last G update's clips (detached; one render of the image generator fewer per iteration). See
:mod:`.config` for the recipe table.

Data parallel training uses ``torch.distributed`` (gloo on CPU, nccl on GPU; launch with ``torchrun``): every rank
draws its own z/ε, takes its shard of each epoch's permutation (the DistributedSampler rule, drop_last), and after
every backward the gradients of the trained network are averaged with one flattened all-reduce (the scheme of
NVIDIA's stylegan2-ada-pytorch, which also trains GANs with several forwards and a double-backward gradient penalty per
update); parameters and buffers are broadcast from rank 0 at start, memory-bank keys are all-gathered.

Checkpoints (``checkpoints/latest.pt`` and ``step_XXXXXXX.pt``) hold models, optimisers, memory banks, the data
position and every RNG state, so a resumed run reproduces the uninterrupted one exactly (same device and world size).
"""

from __future__ import annotations

import csv
import dataclasses
import random
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from vidbench.models.mocogan_hd.augment import augment
from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config
from vidbench.models.mocogan_hd.discriminators import (
    MemoryBank,
    PatchImageDiscriminator,
    VideoDiscriminator,
    build_biggan_image_discriminator,
    ema_update,
    image_pair_input,
    make_ema,
    time_reverse,
    video_d_input,
)
from vidbench.models.mocogan_hd.losses import (
    d_loss,
    feature_matching_loss,
    g_loss,
    gradient_penalty,
    info_nce_loss,
    mutual_information_loss,
)
from vidbench.models.mocogan_hd.motion_generator import build_motion_generator
from vidbench.models.mocogan_hd.sampling import MoCoGANHD, grid_video, to_uint8_video

from vidbench.errors import VidbenchError

CKPT_FORMAT = "vidbench.mocohd.train.v1"


def dataset_name(ds) -> str:
    return str(getattr(ds, "name", None) or type(ds).__name__)


def load_checkpoint_file(path: Path, map_location="cpu") -> dict:
    """``torch.load(weights_only=True)`` with one clear error for a missing, truncated or foreign file."""
    try:
        sd = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise VidbenchError(f"{path}: checkpoint not found") from None
    except Exception as e:  # noqa: BLE001 - truncated zip, pickle of another kind, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise VidbenchError(f"{path}: cannot read the checkpoint, it is truncated or corrupt ({type(e).__name__}: "
                            f"{first[:160]}); resume from an earlier checkpoints/step_*.pt copied to latest.pt") from None
    if not isinstance(sd, dict):
        raise VidbenchError(f"{path}: not a checkpoint (a {type(sd).__name__}, expected a dict)")
    return sd


def check_resumable(sd: dict, path: Path, world: int) -> None:
    """A MoCoGAN-HD training checkpoint written with the same world size (exact resume needs both)."""
    if sd.get("format") != CKPT_FORMAT:
        raise VidbenchError(f"{path}: not a MoCoGAN-HD training checkpoint (format {sd.get('format')!r}); "
                            "resume a `vidbench train motion` run folder")
    saved = int(sd.get("world_size", 1))
    if saved != world:
        raise VidbenchError(f"{path}: checkpoint was written with world size {saved}, now {world}; exact resume "
                            f"needs the same world size (torchrun --nproc_per_node {saved})")


def truncate_csv_log(path: Path, fields: list[str], step: int) -> None:
    """Rewrite a training log keeping complete rows with strictly increasing ``step`` <= ``step`` (atomic).

    A process killed while appending can leave a partial last line, and rows past the last checkpoint would be logged
    twice after a resume; both are dropped here.
    """
    from vidbench.cache import atomic_path

    if not path.exists():
        return
    kept, last = [], -1
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if any(r.get(k) is None for k in fields) or None in r:  # short or overlong (partial) line
                continue
            try:
                s = int(r["step"])
            except (TypeError, ValueError):
                continue
            if last < s <= step:
                kept.append(r)
                last = s
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(kept)
LOG_FIELDS = [
    "step", "epoch", "time_s", "iter_s", "g_total", "g_adv_v", "g_adv_i", "l_m", "l_f",
    "d_v", "gp", "d_i", "l_contr",
]


# ------------------------------------------------------------------------------------------------ distributed
def dist_info() -> tuple[int, int]:
    """(rank, world_size); (0, 1) when torch.distributed is not initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def allreduce_grads(module: nn.Module | None) -> None:
    """Average the gradients of ``module`` over ranks (one flattened all-reduce); no-op when not distributed."""
    rank, world = dist_info()
    if module is None or world == 1:
        return
    params = [p for p in module.parameters() if p.requires_grad and p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    torch.distributed.all_reduce(flat)
    flat /= world
    off = 0
    for p in params:
        n = p.numel()
        p.grad.copy_(flat[off:off + n].view_as(p.grad))
        off += n


def broadcast_module(module: nn.Module | None) -> None:
    """Copy parameters and buffers of rank 0 to every rank."""
    if module is None or dist_info()[1] == 1:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(t.data, 0)


def all_gather_cat(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` [N, C] from every rank (rank order); identity when not distributed."""
    _, world = dist_info()
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    torch.distributed.all_gather(parts, x.contiguous())
    return torch.cat(parts, 0)


# ------------------------------------------------------------------------------------------------ RNG state
def rng_state() -> dict:
    st = np.random.get_state()
    py = random.getstate()
    out = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": st[0], "keys": torch.from_numpy(st[1].astype(np.int64)), "pos": int(st[2]),
                  "has_gauss": int(st[3]), "cached": float(st[4])},
        "python": {"version": py[0], "state": torch.tensor(py[1], dtype=torch.int64)},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(st: dict) -> None:
    torch.set_rng_state(st["torch"])
    n = st["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = st["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["state"].tolist()), None))
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


# ------------------------------------------------------------------------------------------------ trainer
class Trainer:
    """Trains G_M (and D_V, D_I) of MoCoGAN-HD on ``dataset`` with a frozen ``image_generator``.

    Args:
        cfg: :class:`MoCoGANHDConfig` (resolved here).
        image_generator: frozen StyleGAN2 ``Generator`` (``vidbench.models.stylegan2``).
        basis, std: PCA components V [>= n_pca, D] and per-component std σ (from the W-space PCA file).
        dataset: a ``vidbench.datasets`` dataset (``ds[i].video`` uint8 [T, H, W, 3], ``set_epoch``); its clips need
            ``num_frames * frame_stride`` frames.
        run_dir: folder for ``train_log.csv``, ``checkpoints/``, ``samples/`` (None: nothing is written).
    """

    def __init__(self, cfg: MoCoGANHDConfig, image_generator: nn.Module, basis: torch.Tensor, std: torch.Tensor,
                 dataset=None, run_dir: str | Path | None = None, device: str | torch.device = "cpu",
                 progress: bool = True, meta: dict | None = None):
        cfg.validate()
        self.cfg = cfg = resolve_config(cfg)
        self.device = torch.device(device)
        self.rank, self.world = dist_info()
        if cfg.batch_size % self.world:
            raise VidbenchError(f"batch_size {cfg.batch_size} is not divisible by the world size {self.world}; "
                                f"pass --set batch_size=<a multiple of {self.world}>")
        self.batch = cfg.batch_size // self.world  # per-rank batch
        self.dataset = dataset
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None and self.rank == 0:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress and self.rank == 0
        self.meta = dict(meta or {})

        seed_everything(cfg.seed)  # identical initialisation on every rank
        basis = torch.as_tensor(basis, dtype=torch.float32)[: cfg.n_pca]
        std = torch.as_tensor(std, dtype=torch.float32)[: cfg.n_pca]
        gm = build_motion_generator(cfg, basis, std)
        self.model = MoCoGANHD(image_generator, gm, recipe=cfg.recipe, config=cfg).to(self.device)
        self.gm = gm
        self.image_size = int(getattr(image_generator, "size", cfg.frame_size))

        self.dv = VideoDiscriminator(cfg.domain, cfg.d_ndf, cfg.d_scales).to(self.device) if cfg.use_video_d else None
        self.di = self.di_ema = None
        self.banks = nn.ModuleDict()
        if cfg.use_image_d:
            if cfg.image_d == "patch":
                self.di = PatchImageDiscriminator(cfg.d_ndf, cfg.d_scales)
            else:
                self.di = build_biggan_image_discriminator(cfg.frame_size, cfg.biggan_ch, cfg.proj_dim,
                                                           cfg.projection_head)
                if cfg.use_contrastive:
                    self.di_ema = make_ema(self.di).to(self.device)
                    names = ("real", "fake") if cfg.bank_mode == "released" else ("fake",)
                    for n in names:
                        self.banks[n] = MemoryBank(cfg.bank_size, cfg.proj_dim)
            self.di = self.di.to(self.device)
        self.banks = self.banks.to(self.device)

        self.opt_g = torch.optim.Adam(gm.parameters(), lr=cfg.lr, betas=tuple(cfg.g_betas), eps=1e-8)
        self.opt_dv = (torch.optim.Adam(self.dv.parameters(), lr=cfg.d_lr, betas=tuple(cfg.dv_betas), eps=1e-8)
                       if self.dv is not None else None)
        self.opt_di = (torch.optim.Adam(self.di.parameters(), lr=cfg.d_lr, betas=tuple(cfg.di_betas), eps=cfg.di_eps)
                       if self.di is not None else None)
        for m in (gm, self.dv, self.di, self.di_ema, self.banks):
            broadcast_module(m)

        self.step = 0
        self.epoch = 0
        self.data_pos = 0
        self.elapsed = 0.0
        self._last_fake: torch.Tensor | None = None  # d_fake="reuse": the last G update's clips for the D update
        seed_everything(cfg.seed + 1_000_003 * self.rank)  # each rank its own z / ε / augmentation stream

    # ------------------------------------------------------------------------------------------ data
    def _shard(self, epoch: int) -> np.ndarray:
        n = len(self.dataset)
        perm = np.random.default_rng([self.cfg.seed & 0xFFFFFFFF, epoch]).permutation(n)
        per_rank = n // self.world
        return perm[: per_rank * self.world][self.rank:: self.world]

    def next_real(self) -> torch.Tensor:
        """Next real batch [B, T, 3, fs, fs] in [-1, 1] (epoch permutation, drop_last, rank shard)."""
        if self.dataset is None:
            raise RuntimeError("the trainer has no dataset")
        shard = self._shard(self.epoch)
        nb = len(shard) // self.batch
        if nb == 0:
            raise VidbenchError(f"{dataset_name(self.dataset)} has {len(self.dataset)} video(s), fewer than one batch of "
                                f"{self.cfg.batch_size} (batch_size) over {self.world} rank(s); use more videos or "
                                f"--set batch_size=<smaller>")
        if self.data_pos >= nb:
            self.epoch += 1
            self.data_pos = 0
            shard = self._shard(self.epoch)
        idx = shard[self.data_pos * self.batch:(self.data_pos + 1) * self.batch]
        self.data_pos += 1
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        if self.cfg.num_workers > 0:  # decode clips in threads (PyAV / PIL release the GIL)
            if getattr(self, "_pool", None) is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.cfg.num_workers)
            clips = np.stack([c.video for c in self._pool.map(lambda i: self.dataset[int(i)], idx)])
        else:
            clips = np.stack([self.dataset[int(i)].video for i in idx])  # uint8 [B, T', H, W, 3]
        clips = clips[:, :: self.cfg.frame_stride][:, : self.cfg.num_frames]
        if clips.shape[1] < self.cfg.num_frames:
            raise ValueError(f"clips have {clips.shape[1]} frames after stride {self.cfg.frame_stride}; "
                             f"need {self.cfg.num_frames} (build the dataset with num_frames·frame_stride frames)")
        x = torch.from_numpy(clips).to(self.device).float().div(127.5).sub(1.0).permute(0, 1, 4, 2, 3)
        return self._to_d_res(x)

    def _to_d_res(self, video: torch.Tensor) -> torch.Tensor:
        """[B, T, 3, S, S] -> [B, T, 3, fs, fs]: average pooling by S/fs (released) or antialiased resize."""
        b, t, c, h, w = video.shape
        fs = self.cfg.frame_size
        if h == fs and w == fs:
            return video
        flat = video.reshape(b * t, c, h, w)
        if h % fs == 0 and w % fs == 0 and h // fs == w // fs:
            flat = F.avg_pool2d(flat, h // fs)
        else:
            flat = F.interpolate(flat, size=(fs, fs), mode="bilinear", antialias=True, align_corners=False)
        return flat.reshape(b, t, c, fs, fs)

    # ------------------------------------------------------------------------------------------ generation
    def generate(self, b: int):
        """b fake clips at D resolution [B, T, 3, fs, fs] and the G_M output (fresh z, ε, noise)."""
        z = torch.randn(b, self.cfg.latent_dim, device=self.device)
        out = self.model.latents(z, self.cfg.num_frames)
        video = self.model.render(out.latents, noise_mode=self.cfg.noise_mode)
        return self._to_d_res(video), out

    def _aug(self, x: torch.Tensor) -> torch.Tensor:
        return augment(x, self.cfg.augment)

    def _rand_k(self) -> int:
        return int(torch.randint(1, self.cfg.num_frames, ()).item())

    @staticmethod
    def _set_requires_grad(modules, flag: bool) -> None:
        for m in modules:
            if m is not None:
                m.requires_grad_(flag)

    # ------------------------------------------------------------------------------------------ G step
    def g_step(self, real: torch.Tensor) -> dict:
        cfg = self.cfg
        self._set_requires_grad([self.dv, self.di], False)
        fake, mo = self.generate(real.shape[0])
        self._last_fake = fake.detach() if cfg.d_fake == "reuse" else None
        logs: dict[str, float] = {}
        total = fake.new_zeros(())
        if self.dv is not None:
            with torch.no_grad():
                r_out = self.dv(time_reverse(video_d_input(real, cfg.domain), cfg.time_reverse_p))
            f_out = self.dv(time_reverse(video_d_input(fake, cfg.domain), cfg.time_reverse_p))
            l = g_loss(cfg.gan_loss, r_out, f_out)
            total = total + cfg.video_d_weight * l
            logs["g_adv_v"] = l.item()
        if self.di is not None:
            k = self._rand_k()
            if cfg.image_d == "patch":
                with torch.no_grad():
                    r_out = self.di(image_pair_input(real, k))
                f_out = self.di(image_pair_input(fake, k))
                l = g_loss(cfg.image_gan_loss, r_out, f_out)
            else:
                x1, xk = fake[:, 0], fake[:, k]
                if cfg.augment == "released":  # released warps both D_I inputs
                    x1, xk = self._aug(x1), self._aug(xk)
                logit_1, proj_1 = self.di(x1)
                logit_k, proj_k = self.di(xk)
                l = g_loss(cfg.image_gan_loss, logit_1.detach(), logit_k)  # Eqn. 5: frame 1 plays "real"
                if cfg.match_weight > 0:
                    lf = feature_matching_loss(proj_k, proj_1.detach())
                    total = total + cfg.match_weight * lf
                    logs["l_f"] = lf.item()
                if self.di_ema is not None and cfg.bank_mode == "released":  # released: queues filled in G steps
                    with torch.no_grad():
                        _, key_1 = self.di_ema(self._aug(fake[:, 0].detach()))
                        _, key_k = self.di_ema(self._aug(fake[:, k].detach()))
                        self.banks["real"].enqueue(all_gather_cat(F.normalize(key_1, dim=1)))
                        self.banks["fake"].enqueue(all_gather_cat(F.normalize(key_k, dim=1)))
            total = total + cfg.image_d_weight * l
            logs["g_adv_i"] = l.item()
        if cfg.use_mi_loss:
            lm = mutual_information_loss(mo.eps_hat, mo.eps)  # Eqn. 3
            total = total + cfg.mi_weight * lm
            logs["l_m"] = lm.item()
        self.opt_g.zero_grad(set_to_none=True)
        if total.requires_grad:
            total.backward()
            allreduce_grads(self.gm)
            self.opt_g.step()
        logs["g_total"] = total.item()
        self._set_requires_grad([self.dv, self.di], True)
        return logs

    # ------------------------------------------------------------------------------------------ D step
    def d_step(self, real: torch.Tensor) -> dict:
        cfg = self.cfg
        logs: dict[str, float] = {}
        fake = self._last_fake  # d_fake="reuse": set by this iteration's G update on the same real batch
        if fake is None:
            with torch.no_grad():
                fake, _ = self.generate(real.shape[0])
        self._last_fake = None  # each G update's clips serve one D update
        if self.dv is not None:
            r_in, f_in = video_d_input(real, cfg.domain), video_d_input(fake, cfg.domain)
            r_out = self.dv(time_reverse(r_in, cfg.time_reverse_p))
            f_out = self.dv(time_reverse(f_in, cfg.time_reverse_p))
            l = d_loss(cfg.gan_loss, r_out, f_out)  # Eqn. 4 (or RaLSGAN)
            logs["d_v"] = l.item()
            if cfg.gp_weight > 0:
                gp = gradient_penalty(self.dv, r_in, f_in, cfg.gp_weight)
                l = l + gp
                logs["gp"] = gp.item()
            self.opt_dv.zero_grad(set_to_none=True)
            l.backward()
            allreduce_grads(self.dv)
            self.opt_dv.step()
        if self.di is not None:
            k = self._rand_k()
            if cfg.image_d == "patch":
                l = d_loss(cfg.image_gan_loss, self.di(image_pair_input(real, k)), self.di(image_pair_input(fake, k)))
                logs["d_i"] = l.item()
            else:
                x1, xk = fake[:, 0], fake[:, k]
                a1, ak = (self._aug(x1), self._aug(xk)) if cfg.augment == "released" else (x1, xk)
                logit_1, _ = self.di(a1)
                logit_k, _ = self.di(ak)
                l = d_loss(cfg.image_gan_loss, logit_1, logit_k)  # Eqn. 5
                logs["d_i"] = l.item()
                if cfg.use_contrastive:
                    lc = self._contrastive_loss(real, fake)  # Eqn. 6
                    l = l + cfg.contr_weight * lc
                    logs["l_contr"] = lc.item()
            self.opt_di.zero_grad(set_to_none=True)
            l.backward()
            allreduce_grads(self.di)
            self.opt_di.step()
            if self.di_ema is not None:
                ema_update(self.di_ema, self.di, cfg.moco_m)
                if cfg.bank_mode == "paper":  # EMA-D outputs of fake frames become negatives (App. A.2.2)
                    with torch.no_grad():
                        _, key = self.di_ema(self._aug(xk))
                        self.banks["fake"].enqueue(all_gather_cat(F.normalize(key, dim=1)))
        return logs

    def _contrastive_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, t = fake.shape[:2]
        ar = torch.arange(b, device=fake.device)
        if cfg.bank_mode == "released":  # two sets (frame 1, frame k), each with its own queue
            k = self._rand_k()
            lc = fake.new_zeros(())
            for name, x in (("real", fake[:, 0]), ("fake", fake[:, k])):
                _, qa = self.di(self._aug(x))
                _, qb = self.di(self._aug(x))
                lc = lc + info_nce_loss(qa, qb, self.banks[name].queue, cfg.tau, cfg.contr_self_logit)
            return lc
        if cfg.domain == "cross":  # positives: two augmentations of one generated frame (§3.2)
            ti = torch.randint(0, t, (b,), device=fake.device)
            frames = fake[ar, ti]
            va, vb = self._aug(frames), self._aug(frames)
        else:  # in-domain: two different frames of one real video (§3.2)
            ta = torch.randint(0, t, (b,), device=real.device)
            tb = (ta + torch.randint(1, t, (b,), device=real.device)) % t
            va, vb = self._aug(real[ar, ta]), self._aug(real[ar, tb])
        _, qa = self.di(va)
        _, qb = self.di(vb)
        return info_nce_loss(qa, qb, self.banks["fake"].queue, cfg.tau, cfg.contr_self_logit)

    # ------------------------------------------------------------------------------------------ iteration
    def train_step(self) -> dict:
        """One iteration: ``g_steps_per_d`` G updates and one D update on one real batch."""
        t0 = time.perf_counter()
        real = self.next_real()
        self.model.train()
        for _ in range(self.cfg.g_steps_per_d):
            g_logs = self.g_step(real)
        d_logs = self.d_step(real)
        self.step += 1
        dt = time.perf_counter() - t0
        self.elapsed += dt
        return {"step": self.step, "epoch": self.epoch, "time_s": round(self.elapsed, 4), "iter_s": round(dt, 4),
                **g_logs, **d_logs}

    # ------------------------------------------------------------------------------------------ state
    def _modules(self) -> dict[str, nn.Module | None]:
        return {"motion_generator": self.gm, "video_d": self.dv, "image_d": self.di, "image_d_ema": self.di_ema,
                "banks": self.banks}

    def state_dict(self, with_rng: bool = True) -> dict:
        sd = {
            "format": CKPT_FORMAT,
            "config": dataclasses.asdict(self.cfg),
            "step": self.step,
            "epoch": self.epoch,
            "data_pos": self.data_pos,
            "elapsed": self.elapsed,
            "world_size": self.world,
            "meta": self.meta,
        }
        for k, m in self._modules().items():
            sd[k] = m.state_dict() if m is not None else None
        sd["optim"] = {k: o.state_dict() if o is not None else None
                       for k, o in (("g", self.opt_g), ("dv", self.opt_dv), ("di", self.opt_di))}
        if with_rng:
            sd["rng"] = rng_state()
        return sd

    def load_state_dict(self, sd: dict, rng: dict | None = None) -> None:
        if sd.get("format") != CKPT_FORMAT:
            raise ValueError(f"not a MoCoGAN-HD training checkpoint (format {sd.get('format')!r})")
        for k, m in self._modules().items():
            if m is None:
                continue
            if sd.get(k) is None:
                raise ValueError(f"checkpoint has no {k!r} but this config builds one")
            m.load_state_dict(sd[k])
        for k, o in (("g", self.opt_g), ("dv", self.opt_dv), ("di", self.opt_di)):
            if o is not None:
                o.load_state_dict(sd["optim"][k])
        self.step, self.epoch, self.data_pos = int(sd["step"]), int(sd["epoch"]), int(sd["data_pos"])
        self.elapsed = float(sd.get("elapsed", 0.0))
        state = rng if rng is not None else sd.get("rng")
        if state is not None:
            set_rng_state(state)

    def save_checkpoint(self, path: str | Path | None = None, keep: bool = True) -> Path | None:
        """Write ``checkpoints/latest.pt`` (+ ``step_XXXXXXX.pt``); rank r > 0 writes only its RNG state."""
        from vidbench.cache import atomic_path

        if self.run_dir is None and path is None:
            return None
        ckdir = Path(path).parent if path is not None else self.run_dir / "checkpoints"
        ckdir.mkdir(parents=True, exist_ok=True)
        if self.world > 1:
            with atomic_path(ckdir / f"rng_rank{self.rank}.pt") as tmp:
                torch.save({"step": self.step, "rng": rng_state()}, tmp)
        if self.rank != 0:
            return None
        target = Path(path) if path is not None else ckdir / "latest.pt"
        sd = self.state_dict(with_rng=self.world == 1)
        with atomic_path(target) as tmp:
            torch.save(sd, tmp)
        if keep and path is None:
            with atomic_path(ckdir / f"step_{self.step:07d}.pt") as tmp:
                torch.save(sd, tmp)
        return target

    def resume(self, path: str | Path) -> None:
        """Continue from a checkpoint written by :meth:`save_checkpoint` (same config and world size)."""
        path = Path(path)
        if self.run_dir is not None and self.rank == 0:  # temp files of writes a kill interrupted
            from vidbench.cache import remove_interrupted_writes

            remove_interrupted_writes(self.run_dir, self.run_dir / "checkpoints", self.run_dir / "samples")
        sd = load_checkpoint_file(path, self.device)
        check_resumable(sd, path, self.world)
        rng = None
        if self.world > 1:
            rng_file = path.parent / f"rng_rank{self.rank}.pt"
            if rng_file.exists():
                rng = load_checkpoint_file(rng_file, "cpu").get("rng")
        try:
            self.load_state_dict(sd, rng)
        except (ValueError, RuntimeError, KeyError) as e:  # another config's shapes, a missing module, ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise VidbenchError(f"{path}: does not match this config ({first}); resume with the run's own "
                                "config or start a new run") from None

    # ------------------------------------------------------------------------------------------ outputs
    @torch.no_grad()
    def sample_grid(self, path: str | Path | None = None) -> np.ndarray:
        """A grid GIF of ``num_grid`` videos from a fixed z / ε / noise (private RNG; training RNG untouched)."""
        from vidbench.video import write_video

        was = self.gm.training
        self.model.eval()
        v = to_uint8_video(self.model.sample(self.cfg.num_grid, self.cfg.num_frames, seed=self.cfg.seed + 424242))
        self.model.train(was)
        grid = grid_video(v)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_video(path, grid, fps=self.cfg.fps)
        return grid

    def _log_csv(self, row: dict) -> None:
        if self.run_dir is None or self.rank != 0:
            return
        path = self.run_dir / "train_log.csv"
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=LOG_FIELDS, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: row.get(k, "") for k in LOG_FIELDS})

    def truncate_log(self) -> None:
        """Keep only the complete log rows up to the current step (used when resuming); rewritten atomically."""
        if self.run_dir is None or self.rank != 0:
            return
        truncate_csv_log(self.run_dir / "train_log.csv", LOG_FIELDS, self.step)

    def fit(self, total_steps: int | None = None, callback: Callable[[dict], None] | None = None) -> list[dict]:
        """Train until ``total_steps`` iterations (default ``cfg.total_steps``); returns the logged rows."""
        from tqdm import tqdm

        cfg = self.cfg
        total = cfg.total_steps if total_steps is None else total_steps
        rows = []
        bar = tqdm(total=total, initial=self.step, desc="train motion", disable=not self.progress, dynamic_ncols=True)
        try:
            while self.step < total:
                row = self.train_step()
                rows.append(row)
                bar.update(1)
                if self.step % cfg.log_every == 0 or self.step == total:
                    self._log_csv(row)
                    bar.set_postfix({k: f"{row[k]:.3f}" for k in ("g_total", "d_v", "d_i") if k in row})
                if callback is not None:
                    callback(row)
                if self.run_dir is not None and self.rank == 0 and cfg.sample_every > 0 and (
                        self.step % cfg.sample_every == 0 or self.step == total):
                    self.sample_grid(self.run_dir / "samples" / f"step_{self.step:07d}.gif")
                if self.run_dir is not None and cfg.ckpt_every > 0 and (
                        self.step % cfg.ckpt_every == 0 or self.step == total):
                    self.save_checkpoint()
        finally:
            bar.close()
        return rows


__all__ = ["CKPT_FORMAT", "LOG_FIELDS", "Trainer", "allreduce_grads", "dist_info", "rng_state", "set_rng_state"]
