"""`vidbench train dtvnet` — train the clean-room DTVNet baseline (vidbench.baselines.dtvnet).

Same run folder as `vidbench train tganv2`; ``samples/final/*.mp4`` show each real test clip (left) next to the
prediction from its first frame with a random normalised motion vector (right).
"""

from __future__ import annotations

import json

import click

from vidbench.commands._train_options import baseline_train_options


@click.command("dtvnet")
@baseline_train_options(
    dataset_help="Video dataset (synthetic_sky, sky_timelapse, folder:PATH, ...).",
    presets=("tiny", "micro", "sky_timelapse"),
    preset_help="auto: tiny (64², 16 frames, CPU) for embedded sets, the released 128²/32-frame recipe for "
                "sky_timelapse.",
    set_example="--set total_steps=300 --set lr_g=1e-4",
    num_final=4, num_final_help="Test clips predicted into samples/final/ at the end.")
def command(dataset, data_root, preset, overrides, out, resume, num_final, no_progress, as_json):
    """Train DTVNet (Zhang et al., ECCV 2020): one still frame -> a time-lapse video (video prediction).

    \b
    Example:
      vidbench train dtvnet --dataset synthetic_sky --set total_steps=300 --out runs/
      vidbench train dtvnet --dataset sky_timelapse --data-root /data/sky --preset sky_timelapse
      vidbench train dtvnet --dataset synthetic_sky --resume runs/dtvnet-synthetic_sky-... --set total_steps=600
    """
    from vidbench.baselines import dtvnet
    from vidbench.commands.train_tganv2 import train_baseline

    def dataset_kw(cfg):
        return cfg.num_frames, cfg.size

    summary = train_baseline(model="dtvnet", module=dtvnet, trainer_cls=dtvnet.DTVNetTrainer,
                             config_cls=dtvnet.DTVNetConfig, dataset=dataset, data_root=data_root, preset=preset,
                             overrides=overrides, out=out, resume=resume, no_progress=no_progress,
                             num_final=num_final, final_split="test", dataset_kw=dataset_kw)
    click.echo(json.dumps(summary, indent=2, default=str) if summary and as_json else summary["run_dir"])
