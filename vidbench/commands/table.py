"""`vidbench table --paper N [--runs DIR ...] --format md|csv|latex|html` — a paper table with your runs beside it."""

from __future__ import annotations

import click

from vidbench.tables import FORMATS, TABLES


@click.command()
@click.option("--paper", "paper", required=True, type=click.Choice(list(TABLES)), help="Paper table number.")
@click.option("--runs", "runs", multiple=True, type=click.Path(exists=True),
              help="Run folder(s) or result.json files to add as measured rows (repeatable; searched recursively).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="md", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="Write to this file (else stdout).")
def command(paper, runs, fmt, out):
    """Print paper table N: published numbers (†, with citations) beside measured rows from run records.

    A measured value sits in a published column only if its protocol name, split, N, resolution and dataset match a
    published number and its record says comparable; anything else is listed in a measured-only block under its own
    protocol name, with the reasons as footnotes. Runs with the same label merge as mean ± std (n_runs).

    \b
    Example:
      vidbench table --paper 1
      vidbench eval --model mocohd --checkpoint run/ --dataset ucf101 --split all --label mocohd-ucf101 --out runs/
      vidbench table --paper 1 --runs runs/ --format latex --out table1.tex
    """
    from vidbench.cache import atomic_write_text
    from vidbench.tables import paper_table

    text = paper_table(paper, runs, fmt)
    if out:
        atomic_write_text(out, text)
        click.echo(out)
    else:
        click.echo(text, nl=False)
