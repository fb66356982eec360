"""`vidbench eval --model M --dataset D --checkpoint C [--metrics a,b] ...`."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option("--model", required=True, help="Registered video model, or samples:PATH for exported videos.")
@click.option("--dataset", required=True, help="Dataset name (real videos for distribution metrics).")
@click.option("--checkpoint", default=None, help="Checkpoint file or folder (required except for samples:).")
@click.option("--split", default=None)
@click.option("--metrics", "metrics", default="fvd2048_16f", show_default=True, help="Comma-separated protocols.")
@click.option("--num-videos", type=int, default=None, help="Default: the metric protocol's N.")
@click.option("--frames", "num_frames", type=int, default=16, show_default=True)
@click.option("--resolution", type=int, default=128, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--data-root", type=click.Path(), default=None)
@click.option("--out", type=click.Path(), default="runs", show_default=True)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--detector", default=None, help="e.g. 'i3d[random-init]' (smoke tests only; not comparable).")
@click.option("--detector-weights", type=click.Path(exists=True), default=None)
@click.option("--weights-dir", type=click.Path(), default=None)
@click.option("--yes", is_flag=True, help="Run even when the estimated time is above one hour.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
def command(model, dataset, checkpoint, split, metrics, num_videos, num_frames, resolution, seed, batch_size,
            data_root, out, device, detector, detector_weights, weights_dir, yes, as_json):
    """Evaluate a model on a dataset with named metric protocols; writes a run folder.

    \b
    Example:
      vidbench eval --model samples:my_videos/ --dataset ucf101 --data-root /data --metrics fvd2048_16f
    """
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.records import format_metric_line, read_result

    cfg = EvalConfig(model=model, dataset=dataset, checkpoint=checkpoint, split=split,
                     metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()), num_videos=num_videos,
                     num_frames=num_frames, resolution=resolution, seed=seed, batch_size=batch_size, device=device,
                     data_root=data_root, detector=detector, detector_weights=detector_weights,
                     weights_dir=weights_dir)
    run_dir = evaluate(cfg, out, yes=yes, progress=not as_json and sys.stderr.isatty())
    rec = read_result(run_dir)
    if as_json:
        click.echo(json.dumps(rec, indent=2))
        return
    click.echo(f"run: {run_dir}")
    for name, m in rec["metrics"].items():
        click.echo(format_metric_line(name, m))
