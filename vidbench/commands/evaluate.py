"""`vidbench eval --model M --dataset D --checkpoint C [--metrics a,b] [--task unconditional|predict] [--gt] ...`."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option("--model", default=None, help="Registered video model, or samples:PATH for exported videos "
              "(not needed with --gt).")
@click.option("--dataset", default=None, help="Dataset name (real videos for distribution metrics); required "
              "except with --resume.")
@click.option("--checkpoint", default=None, help="Checkpoint file or folder (required except for samples:).")
@click.option("--split", default=None, help="Default: the dataset's default split; 'test' for --task predict.")
@click.option("--metrics", "metrics", default=None,
              help="Comma-separated protocols. Default: the paper's set for the dataset (ucf101: is10k_c3d, "
                   "fvd2048_16f; faceforensics: fvd2048_16f, acd256_facenet; sky_timelapse: fvd2048_16f, and "
                   "psnr_ssim_rgb with --task predict; others: fvd2048_16f).")
@click.option("--task", type=click.Choice(["unconditional", "predict"]), default="unconditional", show_default=True,
              help="predict: invert each real clip's first frame (Eqn. 8) and score the prediction against that "
                   "clip (paired metrics, plus the UP-B row <metric>_upb).")
@click.option("--gt", is_flag=True, help="The paper's GT rows: real-vs-real Fréchet distances on two disjoint "
              "random real sets of the same N, and sample metrics (ACD) on real clips. No model.")
@click.option("--label", default=None, help="Free row name recorded in the run (tables use it).")
@click.option("--resume", "resume", type=click.Path(exists=True, file_okay=False), default=None,
              help="Continue a killed eval in this run folder from its last completed batch (same result).")
@click.option("--num-videos", type=click.IntRange(min=1), default=None,
              help="Cap on N (default: each metric's protocol N; below it the value is not comparable).")
@click.option("--frames", "num_frames", type=int, default=None,
              help="Frames per video (default: the protocols' 16; 31 for --task predict).")
@click.option("--stride", type=int, default=None,
              help="Real-clip frame stride (default: the model's training stride; 1 for samples:).")
@click.option("--resolution", type=int, default=128, show_default=True,
              help="Evaluation size of generated and real frames (the paper's 128²).")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampler seed and real-clip draw seed.")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--data-root", type=click.Path(), default=None)
@click.option("--out", type=click.Path(), default="runs", show_default=True)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--detector", default=None, help="e.g. 'i3d[random-init]' (smoke tests only; not comparable).")
@click.option("--detector-weights", type=click.Path(exists=True), default=None)
@click.option("--weights-dir", type=click.Path(), default=None)
@click.option("--save-npz/--no-save-npz", "save_npz", default=None,
              help="Write samples.npz (default: only when it is at most 64 MiB).")
@click.option("--invert-iterations", type=int, default=20_000, show_default=True,
              help="--task predict: Eqn. 8 iterations (App. B: 20,000; fewer is recorded as not comparable).")
@click.option("--lambda-vgg", type=float, default=1.0, show_default=True,
              help="--task predict: Eqn. 8 VGG weight (App. B: 1; 0 runs without VGG16 and is flagged).")
@click.option("--vgg-weights", default="vgg16.imagenet", show_default=True,
              help="--task predict: VGG16 weights name or file for Eqn. 8.")
@click.option("--resume-files/--no-resume-files", "resumable", default=True, show_default=True,
              help="Keep each generated batch on disk until the run ends so a killed run can --resume "
                   "(N·T·S²·3 bytes, 1.6 GB for 2,048×16×128²).")
@click.option("--bootstrap", type=int, default=0, show_default=True,
              help="Resamples for a 95 % confidence interval of distribution metrics (0: none).")
@click.option("--fast", is_flag=True,
              help="Metrics' opt-in fast mode where they have one (FVD: bf16 I3D trunk on CPUs with AVX512-BF16/AMX; "
                   "a separate protocol id, never comparable with fp32 values).")
@click.option("--yes", is_flag=True, help="Run even when the estimated time is above one hour.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
def command(model, dataset, checkpoint, split, metrics, task, gt, label, resume, num_videos, num_frames, stride,
            resolution, seed, batch_size, data_root, out, device, detector, detector_weights, weights_dir, save_npz,
            invert_iterations, lambda_vgg, vgg_weights, resumable, bootstrap, fast, yes, as_json):
    """Evaluate a model on a dataset with named metric protocols; writes a run folder.

    \b
    Example:
      vidbench eval --model samples:my_videos/ --dataset ucf101 --data-root /data --metrics fvd2048_16f
      vidbench eval --model mocohd --checkpoint runs/mocohd-sky --dataset sky_timelapse --task predict
      vidbench eval --gt --dataset faceforensics --data-root /data --label GT
      vidbench eval --resume runs/mocohd-ucf101-20261201-101500-a1b2c3
    """
    from vidbench.errors import VidbenchError
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.records import format_metric_line, read_result

    if model is None and not gt and not resume:
        raise VidbenchError("--model is required (or --gt for the real-vs-real GT rows)")
    if dataset is None and not resume:
        raise VidbenchError("--dataset is required (the real videos to compare with)")
    cfg = EvalConfig(model=model or "gt", dataset=dataset or "", checkpoint=checkpoint, split=split,
                     metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None,
                     num_videos=num_videos, num_frames=num_frames, resolution=resolution, seed=seed,
                     batch_size=batch_size, device=device, data_root=data_root, detector=detector,
                     detector_weights=detector_weights, weights_dir=weights_dir, label=label, task=task, gt=gt,
                     stride=stride, save_npz=save_npz, inversion_iterations=invert_iterations,
                     lambda_vgg=lambda_vgg, vgg_weights=vgg_weights, bootstrap=bootstrap, resumable=resumable,
                     fast=fast)
    run_dir = evaluate(cfg, out, yes=yes, progress=not as_json and sys.stderr.isatty(), resume=resume)
    rec = read_result(run_dir)
    if as_json:
        click.echo(json.dumps(rec, indent=2))
        return
    click.echo(f"run: {run_dir}")
    for name, m in rec["metrics"].items():
        click.echo(format_metric_line(name, m))
