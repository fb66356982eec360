"""`vidbench report RUN_DIR [--out HTML]` — a self-contained HTML page of a run folder."""

from __future__ import annotations

import click


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default RUN_DIR/report.html).")
@click.option("--max-videos", type=int, default=16, show_default=True,
              help="Generated (and real) clips shown per run in the sample grid.")
@click.option("--embed", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Embed the mp4 clips as data URIs (one portable file) or link them by relative path; auto embeds "
                   "up to 40 MB of video, then links.")
def command(run_dir, out, max_videos, embed):
    """Write an HTML report of a run folder: metric table with protocol ids and comparability reasons, looping
    sample videos (real beside generated), per-video values worst first, plots (training losses, FD vs N, PCA
    variance) and the configuration. Works for eval, score, training, quickstart and ablation folders; opens from
    file:// with no network.

    \b
    Example:
      vidbench report runs/mocohd-moving_mnist-20261201-101500-a1b2c3
      vidbench report runs/quickstart-20261201-101500 --out /tmp/quickstart.html
    """
    from vidbench.report import build_report

    path = build_report(run_dir, out, max_videos=max_videos, embed=embed)
    click.echo(str(path))
