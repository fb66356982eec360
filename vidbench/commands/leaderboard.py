"""`vidbench leaderboard export --runs DIR --format csv|latex|md|html` — every run record under DIR as one table."""

from __future__ import annotations

import click

FORMATS = ("csv", "latex", "md", "html")


@click.group()
def command():
    """Leaderboards built from run records.

    \b
    Example:
      vidbench quickstart --out runs/
      vidbench leaderboard export --runs runs/ --format md --include-uncomparable
    """


@command.command("export")
@click.option("--runs", "runs", multiple=True, type=click.Path(exists=True), default=("runs",), show_default=True,
              help="Folder(s) searched recursively for result.json (repeatable).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--include-uncomparable", is_flag=True,
              help="Also list values marked comparable: false (flagged with *, and comparable=False in CSV).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="Write to this file (else stdout).")
def export(runs, fmt, include_uncomparable, out):
    """One row per (label or model+checkpoint, dataset), one column per metric protocol.

    CSV keeps raw values with, per protocol, std, N, protocol ids, weights hash and comparable flag; rows also give
    split, seeds and the number of merged runs. Output is sorted and stably formatted so it diffs cleanly.

    \b
    Example:
      vidbench leaderboard export --runs runs/ --format csv --out leaderboard.csv
    """
    from vidbench.cache import atomic_write_text
    from vidbench.tables import export_leaderboard

    text = export_leaderboard(runs, fmt, include_uncomparable=include_uncomparable)
    if out:
        atomic_write_text(out, text)
        click.echo(out)
    else:
        click.echo(text, nl=False)
