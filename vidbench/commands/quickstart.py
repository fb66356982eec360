"""`vidbench quickstart [--out DIR] [--smoke]` — offline end-to-end demo on embedded data."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--out", type=click.Path(), default="runs", show_default=True, help="Parent folder of the demo run.")
@click.option("--smoke", is_flag=True, help="Tiny budgets (< 60 s): checks the whole pipeline, numbers meaningless.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(out, smoke, seed, as_json):
    """Train a tiny StyleGAN2 and MoCoGAN-HD motion generator on moving_mnist, then generate and score videos.

    \b
    Example:
      vidbench quickstart --out runs/
    """
    from vidbench.quickstart import run_quickstart

    summary = run_quickstart(out, smoke=smoke, seed=seed, quiet=as_json)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
