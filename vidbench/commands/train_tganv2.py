"""`vidbench train tganv2` — train the clean-room TGANv2 baseline (vidbench.baselines.tgan_v2).

The run folder gets ``config.json``, ``train_log.csv``, ``checkpoints/latest.pt`` (+ ``step_XXXXXXX.pt``),
``samples/step_*.mp4`` grids, ``samples/final/*.mp4`` videos and a ``result.json`` (task "train").
:func:`train_baseline` is shared with `vidbench train dtvnet`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from vidbench.commands._train_options import baseline_train_options
from vidbench.errors import VidbenchError

EMBEDDED = ("moving_mnist", "synthetic_sky")


def train_baseline(*, model: str, module, trainer_cls, config_cls, dataset: str, data_root, preset, overrides, out, resume,
                   no_progress: bool, num_final: int, final_split: str | None, dataset_kw) -> dict:
    """Build/resume the trainer, train to ``total_steps``, write final videos and the run record; returns a summary.

    ``module`` is the baseline module (``preset_config``, ``DEFAULT_PRESETS``, ``config_summary``); ``dataset_kw(cfg)`` gives
    (num_frames, size) of the clips the model trains on.
    """
    import torch

    from vidbench.config import apply_overrides, config_from_dict
    from vidbench.datasets import build_dataset
    from vidbench.records import new_record, new_run_dir, write_config, write_result
    from vidbench.video import write_video

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 8)))
    if resume:
        run_dir = Path(resume)
        latest = run_dir / "checkpoints" / "latest.pt"
        if not latest.exists():
            raise VidbenchError(f"{run_dir}: no checkpoints/latest.pt to resume from")
        sd = torch.load(latest, map_location="cpu", weights_only=True)
        if sd.get("format") != trainer_cls.CKPT_FORMAT:
            raise VidbenchError(f"{latest}: not a {model} checkpoint (format {sd.get('format')!r})")
        cfg = apply_overrides(config_from_dict(config_cls, sd["config"]), list(overrides))
        meta = sd.get("meta") or {}
        trained_on = (meta.get("dataset") or {}).get("name")
        if trained_on not in (None, dataset):
            raise VidbenchError(f"{run_dir} was trained on {trained_on!r}, not {dataset!r}")
        data_root = data_root or (meta.get("dataset") or {}).get("data_root")
    else:
        if preset in (None, "auto"):
            preset = "tiny" if dataset in EMBEDDED else module.DEFAULT_PRESETS.get(dataset, "tiny")
        cfg = apply_overrides(module.preset_config(preset), list(overrides))
        sd = None
    num_frames, size = dataset_kw(cfg)
    ds = build_dataset(dataset, split=None, num_frames=num_frames, size=size, seed=cfg.seed, data_root=data_root)
    if not resume:
        run_dir = new_run_dir(out, model, dataset)
        meta = {"model": model, "recipe": cfg.recipe, "preset": cfg.preset,
                "dataset": {"name": dataset, "split": getattr(ds, "split", None), "fingerprint": ds.fingerprint(),
                            "data_root": str(data_root) if data_root else None}}
        write_config(run_dir, {**meta, "config": module.config_summary(cfg)})
    trainer = trainer_cls(cfg, ds, run_dir=run_dir, progress=not no_progress, meta=meta)
    if sd is not None:
        trainer.load_state_dict(sd)
        trainer.truncate_log()
    else:  # the step-0 model, the reference every trained baseline is judged against
        trainer.save_checkpoint(run_dir / "checkpoints" / "step_0000000.pt")
    trainer.fit()
    ckpt = run_dir / "checkpoints" / "latest.pt"
    if not ckpt.exists():
        trainer.save_checkpoint()
    # final videos: unconditional samples (TGANv2) or predictions next to the real clips (DTVNet)
    if final_split is not None:
        try:
            trainer.dataset = build_dataset(dataset, split=final_split, num_frames=num_frames, size=size,
                                            seed=cfg.seed, data_root=data_root)
        except VidbenchError:  # no such split (e.g. a folder): predict from training clips
            pass
    with torch.no_grad():
        videos = trainer.sample_uint8(num_final, seed=int(cfg.seed) + 777)
    trainer.dataset = ds
    final = []
    for i, v in enumerate(videos):
        final.append(str(write_video(run_dir / "samples" / "final" / f"{i:06d}.mp4", v, fps=cfg.fps)))
    from vidbench.baselines.training import sha256_file

    rec = new_record(model=model, dataset={k: v for k, v in meta["dataset"].items() if k != "data_root"},
                     seed=int(cfg.seed), checkpoint=str(ckpt), checkpoint_hash=sha256_file(ckpt), recipe=cfg.recipe,
                     command=f"train {model}", task="train")
    write_result(run_dir, rec)
    rows = []
    log = run_dir / "train_log.csv"
    if log.exists():
        import csv

        with open(log, newline="") as fh:
            rows = list(csv.DictReader(fh))
    return {"run_dir": str(run_dir), "checkpoint": str(ckpt), "step": trainer.step,
            "mean_iter_s": (trainer.elapsed / trainer.step) if trainer.step else None,
            "train_log": str(log), "final_videos": final, "last_log": rows[-1] if rows else None,
            "config": dataclasses.asdict(cfg)}


@click.command("tganv2")
@baseline_train_options(
    dataset_help="Video dataset (moving_mnist, synthetic_sky, ucf101, faceforensics, folder:PATH).",
    presets=("tiny", "ucf101", "faceforensics", "yaml"),
    preset_help="auto: tiny (64², CPU) for embedded sets, the released recipe for ucf101 / faceforensics.",
    set_example="--set total_steps=500 --set batch_size=16",
    num_final=8, num_final_help="Videos written to samples/final/ at the end.")
def command(dataset, data_root, preset, overrides, out, resume, num_final, no_progress, as_json):
    """Train TGANv2 (Saito et al., IJCV 2020; clean-room PyTorch of the released recipe).

    \b
    Example:
      vidbench train tganv2 --dataset moving_mnist --set total_steps=300 --out runs/
      vidbench train tganv2 --dataset ucf101 --data-root /data/UCF101 --preset ucf101 --set batch_size=32
      vidbench train tganv2 --dataset moving_mnist --resume runs/tganv2-moving_mnist-... --set total_steps=600
    """
    from vidbench.baselines import tgan_v2

    def dataset_kw(cfg):
        return cfg.num_frames, cfg.resolution

    summary = train_baseline(model="tganv2", module=tgan_v2, trainer_cls=tgan_v2.TGANv2Trainer,
                             config_cls=tgan_v2.TGANv2Config, dataset=dataset,
                             data_root=data_root, preset=preset, overrides=overrides, out=out, resume=resume,
                             no_progress=no_progress, num_final=num_final, final_split=None, dataset_kw=dataset_kw)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else summary["run_dir"])
