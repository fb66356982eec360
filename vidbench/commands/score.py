"""`vidbench score --metric NAME [--real PATH] --fake PATH` — score videos on disk with one metric protocol."""

from __future__ import annotations

import json
import shlex
import sys

import click

from vidbench.metrics.base import MetricOptions
from vidbench.records import format_metric_line, new_record


@click.command()
@click.option("--metric", "metric_name", required=True, help="Metric protocol name (see `vidbench list metrics`).")
@click.option("--real", type=click.Path(exists=True), default=None, help="Real/target videos: folder, npz or file.")
@click.option("--fake", type=click.Path(exists=True), required=True, help="Generated videos: folder, npz or file.")
@click.option("--detector", default=None, help="Override the detector, e.g. 'i3d[random-init]' (smoke tests only).")
@click.option("--detector-weights", type=click.Path(exists=True), default=None,
              help="A detector weights file/folder not in the registry (recorded; comparable only if hash known).")
@click.option("--weights-dir", type=click.Path(), default=None, help="Folder holding weight files.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, show_default=True,
              help="Bootstrap resamples for a 95% CI (0 = none, else at least 2).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N videos of each set.")
@click.option("--fast", is_flag=True, help="Opt-in fast mode where the metric has one (recorded in the protocol id).")
@click.option("--out", type=click.Path(), default=None, help="Write a run folder (result.json, per_video.jsonl) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON on stdout.")
def command(metric_name, real, fake, detector, detector_weights, weights_dir, bootstrap, batch_size, device, seed,
            limit, fast, out, as_json):
    """Score videos on disk with one metric protocol.

    \b
    Examples:
      vidbench score --metric psnr_ssim_rgb --real gt/ --fake pred/
      vidbench score --metric acd256_dlib --fake samples.npz
      vidbench score --metric fvd2048_16f --real real/ --fake fake/ --detector 'i3d[random-init]'
    """
    from vidbench.runner import score_paths, write_score_run

    if bootstrap == 1:
        raise click.BadParameter("use 0 (no CI) or at least 2 resamples", param_hint="'--bootstrap'")
    options = MetricOptions(device=device, batch_size=batch_size, detector=detector,
                            detector_weights=detector_weights, weights_dir=weights_dir, bootstrap=bootstrap,
                            seed=seed, fast=fast, progress=not as_json and sys.stderr.isatty())
    result, per_video = score_paths(metric_name, fake=fake, real=real, options=options, limit=limit)
    _warn_small_n(metric_name, result)
    shown_name = metric_name
    det = result.get("detector") or ""
    if det.endswith("[random-init]") and not shown_name.endswith("[random-init]"):
        shown_name += "[random-init]"
    cmdline = "vidbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if out:
        run_dir = write_score_run(out, shown_name, result, per_video, fake=fake, real=real, seed=seed,
                                  command=cmdline)
        if not as_json:
            click.echo(f"run record: {run_dir}/result.json", err=True)
    if as_json:
        rec = new_record(model=f"samples:{fake}", dataset={"name": f"folder:{real or fake}", "split": None,
                                                         "fingerprint": None},
                         seed=seed, metrics={shown_name: result}, command=cmdline)
        click.echo(json.dumps(rec, indent=2))
    else:
        click.echo(format_metric_line(shown_name, result))


# feature dimension of each distribution metric family (I3D logits, InceptionV3 pool3)
_FEATURE_DIM = {"fvd": 400, "fid": 2048}


def _warn_small_n(metric_name: str, result: dict) -> None:
    """Record a warning when a distribution metric ran on so few clips that its covariance is degenerate.

    With N samples the sample covariance has rank <= N - 1; below the feature dimension the Fréchet distance depends
    strongly on N itself (a value at N = 2 is not comparable with any other N).
    """
    from vidbench.registry import METRICS

    if METRICS.get(metric_name).meta.get("kind") != "distribution":
        return
    ns = [result.get(k) for k in ("n_real", "n_fake") if isinstance(result.get(k), int)]
    if not ns:
        return
    n = min(ns)
    dim = next((d for fam, d in _FEATURE_DIM.items() if metric_name.startswith(fam)), None)
    warnings = result.setdefault("warnings", [])
    if any("singular" in w or "rank" in w for w in warnings):  # the metric already says so
        return
    if dim is not None and n - 1 < dim:
        warnings.append(f"N={n} samples per set: the covariance has rank <= {n - 1} < {dim} features, so the value "
                        f"depends strongly on N (compare only at equal N; use N >= {dim})")
