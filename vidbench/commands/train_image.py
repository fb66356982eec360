"""`vidbench train image --dataset D [--data-root DIR] [--set k=v] [--out DIR] [--resume RUN_DIR]` — StyleGAN2."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from vidbench.errors import VidbenchError


def build_fid_callback(trainer, n: int, *, weights_dir=None, random_init=False, progress=False):
    """``fid(G_ema) -> float``: FID of ``n`` G_ema samples vs the trainer's real frames (metrics FID module).

    models/ never imports metrics/, so the hook is built here from ``vidbench.metrics.fid.make_fid_callback``.
    Raises a one-line error before training when the metric or the InceptionV3 weights are unavailable.
    """
    import torch

    try:
        from vidbench.metrics.fid import make_fid_callback
    except ImportError as e:
        raise VidbenchError(f"FID tracking needs vidbench.metrics.fid ({e}); set fid_every_kimg=0") from None
    if not random_init:
        from vidbench.weights import resolve_weights

        resolve_weights("inception_v3.fid", weights_dir=weights_dir)  # WeightsMissingError names the file + fix
    sampler = trainer.sampler
    if sampler.pool is not None:
        real = sampler.pool.numpy()
        reals = (real[i:i + 256] for i in range(0, len(real), 256))
    else:
        gen = torch.Generator().manual_seed(12345)
        reals = (sampler.ds[int(torch.randint(0, len(sampler.ds), (1,), generator=gen))].video for _ in range(n))
    cb = make_fid_callback(reals, n, device=str(trainer.device), weights_dir=weights_dir, random_init=random_init,
                           progress=progress)
    gen = torch.Generator().manual_seed(2024)

    def fid(G_ema) -> float:
        return cb(lambda b: G_ema.sample(b, generator=gen).cpu())

    return fid


@click.command()
@click.option("--dataset", required=True, help="Dataset name (moving_mnist, synthetic_sky, ucf101, folder:PATH, ...).")
@click.option("--data-root", default=None, help="Folder holding the dataset (or $VIDBENCH_DATA).")
@click.option("--preset", type=click.Choice(["paper", "tiny"]), default=None,
              help="paper: rosinality/StyleGAN2 config-f defaults; tiny: 32² CPU preset (default for embedded sets).")
@click.option("--set", "overrides", multiple=True, help="Config override key=value (repeatable), e.g. --set size=64.")
@click.option("--out", default="runs", show_default=True, help="Parent folder of the run folder.")
@click.option("--resume", "resume", default=None, help="Run folder to resume (its checkpoint.pt).")
@click.option("--fid-images", type=int, default=5000, show_default=True,
              help="Generated images per FID evaluation (used when fid_every_kimg > 0).")
@click.option("--weights-dir", default=None, help="Folder with the FID InceptionV3 weights (inception_v3.fid).")
@click.option("--fid-random-init", is_flag=True, help="Smoke use only: FID with a random-init InceptionV3.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def command(dataset, data_root, preset, overrides, out, resume, fid_images, weights_dir, fid_random_init, no_progress,
            as_json):
    """Train a StyleGAN2 image generator on image or video-frame data.

    \b
    Example:
      vidbench train image --dataset moving_mnist --preset tiny --out runs/
      vidbench train image --dataset ucf101 --data-root /data/UCF101 --set size=256 --out runs/
      vidbench train image --dataset moving_mnist --resume runs/stylegan2-moving_mnist-... --set iters=3000
    """
    import torch

    from vidbench.config import apply_overrides, config_keys
    from vidbench.models.image_train import (
        ImageTrainConfig,
        StyleGAN2Trainer,
        build_frame_dataset,
        resume_trainer,
        tiny_preset,
    )
    from vidbench.records import new_run_dir, write_config

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 8)))
    if resume:
        run_dir = Path(resume)
        changes = {}
        if overrides:
            base = ImageTrainConfig()
            for item in overrides:
                key = item.split("=", 1)[0].strip()
                if key not in config_keys(base):
                    raise VidbenchError(f"unknown config key {key!r}; valid keys: {', '.join(config_keys(base))}")
            new = apply_overrides(base, overrides)
            changes = {k.split("=", 1)[0].strip(): getattr(new, k.split("=", 1)[0].strip()) for k in overrides}
        trainer = resume_trainer(run_dir, progress=not no_progress, overrides=changes)
        cfg = trainer.cfg
    else:
        embedded = dataset in ("moving_mnist", "synthetic_sky")
        preset = preset or ("tiny" if embedded else "paper")
        base = tiny_preset() if preset == "tiny" else ImageTrainConfig()
        base = dataclasses.replace(base, dataset=dataset, data_root=data_root or "")
        cfg = apply_overrides(base, list(overrides))
        if cfg.fid_every_kimg > 0 and not fid_random_init:  # fail before creating the run folder
            from vidbench.weights import resolve_weights

            resolve_weights("inception_v3.fid", weights_dir=weights_dir)
        ds = build_frame_dataset(cfg)  # a bad dataset fails before a run folder exists
        run_dir = new_run_dir(out, "stylegan2", dataset.replace(":", "_").replace("/", "_"))
        write_config(run_dir, {"__class__": "ImageTrainConfig", "preset": preset, **dataclasses.asdict(cfg)})
        trainer = StyleGAN2Trainer(cfg, run_dir, dataset=ds, progress=not no_progress)
    if cfg.fid_every_kimg > 0:
        trainer.fid_callback = build_fid_callback(trainer, fid_images, weights_dir=weights_dir,
                                                  random_init=fid_random_init)
    row = trainer.train()
    grid = trainer.save_samples("final.png")
    summary = {
        "run_dir": str(run_dir),
        "checkpoint": str(Path(run_dir) / "checkpoint.pt"),
        "samples": str(grid),
        "step": trainer.step,
        "kimg": trainer.step * cfg.batch / 1000,
        "d_loss": row.get("d_loss"),
        "g_loss": row.get("g_loss"),
        "train_log": str(Path(run_dir) / "train_log.csv"),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"trained {trainer.step} steps -> {summary['checkpoint']} (samples: {grid})")
