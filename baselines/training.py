"""Training-loop plumbing shared by the clean-room baselines (TGANv2, DTVNet).

:class:`BaselineTrainer` owns what is not model-specific: the real-data stream (a seeded permutation per epoch,
drop_last, the data position kept in the checkpoint), atomic checkpoints (``checkpoints/latest.pt`` and
``step_XXXXXXX.pt`` with models, optimisers, step, data position and every RNG state, so a resumed run continues
exactly like the uninterrupted one), ``train_log.csv`` (truncated to the resumed step), sample grids and the tqdm
loop. RNG state save/restore reuses MoCoGAN-HD's trainer utilities (``vidbench.models`` public names).

A subclass sets ``name``, ``CKPT_FORMAT``, ``LOG_FIELDS`` and implements ``build()`` (its networks and optimisers),
``modules()``, ``optimizers()``, ``train_step_impl(real)`` and ``sample_uint8(n, seed)``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
from vidbench.models.mocogan_hd.sampling import grid_video
from vidbench.models.mocogan_hd.trainer import rng_state, set_rng_state

from vidbench.errors import VidbenchError


def seed_all(seed: int) -> None:
    """Seed torch, numpy and Python's RNGs (the global streams the training loop draws from)."""
    import random

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """Float video [B, 3, T, H, W] in about [-1, 1] -> uint8 [B, T, H, W, 3] (clamp, (x+1)·127.5, round)."""
    x = ((video.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 4, 1).cpu().numpy()


def from_uint8(clips: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> float [B, 3, T, H, W] in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device).float().div(127.5).sub(1.0)
    return x.permute(0, 4, 1, 2, 3).contiguous()


def linear_lr(base: float, step: int, total: int, start: int = 0) -> float:
    """Learning rate ``base`` kept until ``start``, then decayed linearly to 0 at ``total`` (TGANv2 LinearShift,
    DTVNet lr_policy=linear)."""
    if total <= start or step <= start:
        return base
    return base * max(0.0, 1.0 - (step - start) / (total - start))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def resolve_checkpoint(checkpoint: str | Path) -> Path:
    """A run folder (its ``checkpoints/latest.pt``) or a ``.pt`` file -> the file path; bad input -> VidbenchError."""
    p = Path(checkpoint)
    if p.is_dir():
        p = p / "checkpoints" / "latest.pt"
    if not p.is_file():
        raise VidbenchError(f"{checkpoint}: no checkpoint file; pass a run folder of `vidbench train` or its "
                            "checkpoints/latest.pt")
    return p


def load_checkpoint(path: Path, fmt: str) -> dict:
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is one user error
        raise VidbenchError(f"{path}: cannot read with torch.load(weights_only=True): {type(e).__name__}") from None
    if not isinstance(sd, dict) or sd.get("format") != fmt:
        got = sd.get("format") if isinstance(sd, dict) else type(sd).__name__
        raise VidbenchError(f"{path}: not a {fmt} checkpoint (format {got!r}); train one with `vidbench train`")
    return sd


class BaselineTrainer:
    """Base class: data stream, checkpoints, CSV log, sample grids and the ``fit`` loop of a baseline."""

    name = "baseline"
    CKPT_FORMAT = ""
    LOG_FIELDS: list[str] = ["step", "epoch", "time_s", "iter_s"]

    def __init__(self, cfg, dataset=None, run_dir: str | Path | None = None, device: str | torch.device = "cpu",
                 progress: bool = True, meta: dict | None = None):
        cfg.validate()
        self.cfg = cfg
        self.dataset = dataset
        self.device = torch.device(device)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.meta = dict(meta or {})
        self.step = 0
        self.epoch = 0
        self.data_pos = 0
        self.elapsed = 0.0
        seed_all(cfg.seed)  # the initial weights depend on the seed only
        self.build()
        seed_all(cfg.seed + 1)  # training draws start from the same state whatever building consumed

    # ------------------------------------------------------------------------------------------ subclass API
    def build(self) -> None:
        """Create the networks (on ``self.device``) and their optimisers from ``self.cfg``."""
        raise NotImplementedError

    def modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step_impl(self) -> dict:
        raise NotImplementedError

    def sample_uint8(self, n: int, seed: int) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------ data
    def next_indices(self, batch: int) -> np.ndarray:
        """Indices of the next real batch: a seeded permutation per epoch, drop_last (the position is checkpointed)."""
        if self.dataset is None:
            raise RuntimeError("the trainer has no dataset")
        n = len(self.dataset)
        nb = n // batch
        if nb == 0:
            raise VidbenchError(f"dataset has {n} videos, fewer than one batch of {batch}; lower batch_size")
        if self.data_pos >= nb:
            self.epoch += 1
            self.data_pos = 0
        perm = np.random.default_rng([int(self.cfg.seed) & 0xFFFFFFFF, self.epoch]).permutation(n)
        idx = perm[self.data_pos * batch:(self.data_pos + 1) * batch]
        self.data_pos += 1
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        return idx

    def next_clips(self, batch: int) -> np.ndarray:
        """uint8 [B, T, H, W, 3] of the next real batch."""
        return np.stack([self.dataset[int(i)].video for i in self.next_indices(batch)])

    # ------------------------------------------------------------------------------------------ iteration
    def train_step(self) -> dict:
        t0 = time.perf_counter()
        for m in self.modules().values():
            m.train()
        logs = self.train_step_impl()
        self.step += 1
        dt = time.perf_counter() - t0
        self.elapsed += dt
        return {"step": self.step, "epoch": self.epoch, "time_s": round(self.elapsed, 4), "iter_s": round(dt, 4),
                **logs}

    # ------------------------------------------------------------------------------------------ state
    def state_dict(self, with_rng: bool = True) -> dict:
        sd = {"format": self.CKPT_FORMAT, "config": dataclasses.asdict(self.cfg), "step": self.step,
              "epoch": self.epoch, "data_pos": self.data_pos, "elapsed": self.elapsed, "meta": self.meta,
              "models": {k: m.state_dict() for k, m in self.modules().items()},
              "optim": {k: o.state_dict() for k, o in self.optimizers().items()}}
        if with_rng:
            sd["rng"] = rng_state()
        return sd

    def load_state_dict(self, sd: dict) -> None:
        if sd.get("format") != self.CKPT_FORMAT:
            raise VidbenchError(f"not a {self.CKPT_FORMAT} checkpoint (format {sd.get('format')!r})")
        try:
            for k, m in self.modules().items():
                m.load_state_dict(sd["models"][k])
            for k, o in self.optimizers().items():
                o.load_state_dict(sd["optim"][k])
        except (KeyError, RuntimeError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise VidbenchError(f"the checkpoint does not fit this config (an architecture setting was changed on "
                                f"resume?): {first}") from None
        self.step, self.epoch, self.data_pos = int(sd["step"]), int(sd["epoch"]), int(sd["data_pos"])
        self.elapsed = float(sd.get("elapsed", 0.0))
        if sd.get("rng") is not None:
            set_rng_state(sd["rng"])

    def save_checkpoint(self, path: str | Path | None = None, keep: bool = True) -> Path | None:
        """Atomically write ``checkpoints/latest.pt`` (and ``step_XXXXXXX.pt`` when ``keep``), or ``path``."""
        from vidbench.cache import atomic_path

        if self.run_dir is None and path is None:
            return None
        target = Path(path) if path is not None else self.run_dir / "checkpoints" / "latest.pt"
        sd = self.state_dict()
        with atomic_path(target) as tmp:
            torch.save(sd, tmp)
        if keep and path is None:
            with atomic_path(target.parent / f"step_{self.step:07d}.pt") as tmp:
                torch.save(sd, tmp)
        return target

    def resume(self, path: str | Path) -> None:
        self.load_state_dict(load_checkpoint(Path(path), self.CKPT_FORMAT))

    # ------------------------------------------------------------------------------------------ outputs
    def sample_grid(self, path: str | Path | None = None, n: int | None = None) -> np.ndarray:
        """A grid video of ``num_grid`` samples from a fixed seed (a private RNG; training RNG untouched)."""
        from vidbench.video import write_video

        modes = {k: m.training for k, m in self.modules().items()}
        with torch.no_grad():
            v = self.sample_uint8(n or self.cfg.num_grid, seed=int(self.cfg.seed) + 424242)
        for k, m in self.modules().items():
            m.train(modes[k])
        grid = grid_video(v)
        if path is not None:
            write_video(path, grid, fps=self.cfg.fps)
        return grid

    def _log_csv(self, row: dict) -> None:
        if self.run_dir is None:
            return
        path = self.run_dir / "train_log.csv"
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=self.LOG_FIELDS, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: row.get(k, "") for k in self.LOG_FIELDS})

    def truncate_log(self) -> None:
        """Drop log rows after the current step (after a resume), rewriting the file atomically."""
        from vidbench.cache import atomic_write_text

        if self.run_dir is None or not (self.run_dir / "train_log.csv").exists():
            return
        path = self.run_dir / "train_log.csv"
        with open(path, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("step") and int(r["step"]) <= self.step]
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.LOG_FIELDS, extrasaction="ignore", lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(path, buf.getvalue())

    def fit(self, total_steps: int | None = None, callback: Callable[[dict], None] | None = None,
            postfix: tuple[str, ...] = ()) -> list[dict]:
        """Train until ``total_steps`` (default ``cfg.total_steps``): log, sample and checkpoint on schedule."""
        from tqdm import tqdm

        cfg = self.cfg
        total = cfg.total_steps if total_steps is None else total_steps
        rows: list[dict] = []
        bar = tqdm(total=total, initial=self.step, desc=f"train {self.name}", disable=not self.progress,
                   dynamic_ncols=True)
        try:
            while self.step < total:
                row = self.train_step()
                rows.append(row)
                bar.update(1)
                last = self.step == total
                if self.step % cfg.log_every == 0 or last:
                    self._log_csv(row)
                    bar.set_postfix({k: f"{row[k]:.3f}" for k in postfix if k in row})
                if callback is not None:
                    callback(row)
                if self.run_dir is not None and cfg.sample_every > 0 and (self.step % cfg.sample_every == 0 or last):
                    self.sample_grid(self.run_dir / "samples" / f"step_{self.step:07d}.mp4")
                if self.run_dir is not None and cfg.ckpt_every > 0 and (self.step % cfg.ckpt_every == 0 or last):
                    self.save_checkpoint()
        finally:
            bar.close()
        return rows


__all__ = [
    "BaselineTrainer",
    "count_parameters",
    "from_uint8",
    "linear_lr",
    "load_checkpoint",
    "resolve_checkpoint",
    "seed_all",
    "sha256_file",
    "to_uint8",
]
