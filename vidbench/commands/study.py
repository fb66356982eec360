"""`vidbench study build|serve|analyze`: human 2AFC preference studies (paper Tables 2, 5 and 8)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from vidbench.errors import VidbenchError


@click.group("study")
def command():
    """Human 2AFC preference studies: build a static site, serve it, analyse the answers.

    \b
    Example:
      vidbench study build --a runs/mocohd-run --b runs/tganv2-run --pairs 50 --out study1
      vidbench study serve study1 --port 8000
      vidbench study analyze study1 --format md
    """


def _grid(value: str) -> int:
    m = re.fullmatch(r"\s*(\d)\s*[xX]\s*(\d)\s*", value or "")
    if not m or m.group(1) != m.group(2) or m.group(1) not in ("1", "3"):
        raise VidbenchError(f"--grid must be 1x1 or 3x3, got {value!r}")
    return int(m.group(1))


@command.command("build")
@click.option("--a", "a", required=True, help="Method A: a run folder (its samples/*.mp4), samples:PATH or a folder.")
@click.option("--b", "b", required=True, help="Method B, as --a.")
@click.option("--pairs", type=int, required=True, help="A-vs-B trials per rater.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New (or empty) folder for the site.")
@click.option("--question", default=None, help="Question above each pair (default: which looks more realistic; "
              "with --grid 3x3: which shows more diverse motion).")
@click.option("--grid", "grid", default="1x1", show_default=True,
              help="3x3: each side shows nine videos of one content code (Table 5 motion-diversity study).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of pair order, sides and sampling.")
@click.option("--real", default=None, help="Real videos for the attention checks (default: clips of A and B).")
@click.option("--checks", type=int, default=None, help="Attention checks (default: max(1, pairs/10)).")
@click.option("--identical", type=int, default=None, help="Identical pairs for left/right bias (default: "
              "max(1, pairs/20)).")
@click.option("--label-a", default=None, help="Name of method A in the analysis (default: the run's label/model).")
@click.option("--label-b", default=None, help="Name of method B.")
@click.option("--match", type=click.Choice(["random", "id"]), default="random", show_default=True,
              help="id: pair videos with the same file name (e.g. predictions from the same test clip).")
@click.option("--fps", type=float, default=8.0, show_default=True, help="Playback frame rate.")
@click.option("--max-frames", type=int, default=None, help="Keep the first N frames of each clip.")
@click.option("--display-px", type=int, default=256, show_default=True, help="Width of one side on the page.")
def build_cmd(a, b, pairs, out, question, grid, seed, real, checks, identical, label_a, label_b, match, fps,
              max_frames, display_px):
    """Build a self-contained 2AFC study site (HTML + H.264 videos + manifest).

    \b
    Example:
      vidbench study build --a runs/A --b runs/B --pairs 30 --seed 1 --out study-r1
      vidbench study build --a samples:full/ --b samples:no_lm/ --grid 3x3 --pairs 50 --out md-study
    """
    from vidbench.study.build import StudyConfig, build_study

    cfg = StudyConfig(a=a, b=b, pairs=pairs, question=question, grid=_grid(grid), seed=seed, real=real, checks=checks,
                      identical=identical, label_a=label_a, label_b=label_b, match=match, fps=fps,
                      max_frames=max_frames, display_px=display_px)
    path = build_study(cfg, out)
    m = json.loads((path / "manifest.json").read_text())
    c = m["counts"]
    click.echo(f"study {m['study_id']}: {c['trials']} trials ({c['pair']} pairs, {c['check']} attention checks, "
               f"{c['identical']} identical) with {c['videos']} videos -> {path}")
    click.echo(f"  A = {m['labels']['A']}, B = {m['labels']['B']}; open {path / 'index.html'} or run "
               f"`vidbench study serve {path}`")


@command.command("serve")
@click.argument("study_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--port", type=int, default=8000, show_default=True, help="TCP port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def serve_cmd(study_dir, port, host, quiet):
    """Serve a study and store POSTed results in STUDY_DIR/results/ (Ctrl-C stops).

    \b
    Example:
      vidbench study serve study-r1 --port 8000
    """
    from vidbench.study.server import make_server

    srv = make_server(study_dir, host=host, port=port, quiet=quiet)
    click.echo(f"serving study {srv.study_id} at {srv.url} (results -> {srv.results_dir}); Ctrl-C to stop",
               err=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
        click.echo(f"stopped: {srv.counts['stored']} results stored, {srv.counts['refused']} requests refused",
                   err=True)


@command.command("analyze")
@click.argument("results", nargs=-1, required=True)
@click.option("--study", "studies", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="Study folder whose manifest decodes downloaded result files (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "latex"]), default="md", show_default=True)
@click.option("--rounds", type=click.Choice(["pool", "average"]), default="pool", show_default=True,
              help="average: mean of per-round percentages (the paper's '5 rounds averaged'; one study = a round).")
@click.option("--min-check-accuracy", type=float, default=1.0, show_default=True,
              help="Exclude raters below this attention-check accuracy.")
@click.option("--bootstrap", "n_boot", type=int, default=2000, show_default=True, help="Bootstrap draws.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--paper", type=click.Choice(["2", "5", "8"]), default=None,
              help="Also print paper table N with these numbers (measured-only block) via vidbench.tables.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for analysis.json, the table, the bar chart PNG and a run record per comparison.")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON instead of the table.")
def analyze_cmd(results, studies, fmt, rounds, min_check_accuracy, n_boot, seed, paper, out, as_json):
    """Preference % per method with rater-clustered 95 % intervals (RESULTS: study folders or result files).

    \b
    Example:
      vidbench study analyze study-r1 study-r2 study-r3 study-r4 study-r5 --rounds average --out analysis/
      vidbench study analyze downloads/*.json --study study-r1 --format latex
    """
    from vidbench.study.analyze import AnalyzeConfig, analyze, bar_chart, render_table, study_records, to_json

    if n_boot < 100:
        raise VidbenchError("--bootstrap must be >= 100")
    res = analyze(list(results), list(studies), AnalyzeConfig(rounds=rounds, min_check_accuracy=min_check_accuracy,
                                                              n_boot=n_boot, seed=seed))
    text = render_table(res, fmt)
    if as_json:
        click.echo(to_json(res), nl=False)
    else:
        click.echo(text, nl=False)
    if paper:
        from vidbench import tables

        pt = tables.render(tables.build_table(paper, study_records(res)), fmt)
        if not as_json:
            click.echo("\n" + pt, nl=False)
    for item in res["rejected_files"]:
        click.echo(f"rejected {item['path']}: {item['reason']}", err=True)
    for item in res["duplicate_files"]:
        click.echo(f"ignored {item['path']}: {item['reason']}", err=True)
    if out is not None:
        from vidbench.cache import atomic_write_text
        from vidbench.records import new_run_dir, write_result

        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "analysis.json", to_json(res))
        ext = {"md": "md", "csv": "csv", "latex": "tex"}[fmt]
        atomic_write_text(out / f"preference.{ext}", text)
        if res["comparisons"]:
            bar_chart(res, out / "preference.png")
        for _, rec in study_records(res):
            d = new_run_dir(out / "records", "study", "2afc")
            write_result(d, rec)
        click.echo(f"wrote {out / 'analysis.json'}, {out / f'preference.{ext}'}"
                   + (f", {out / 'preference.png'}" if res["comparisons"] else "") + f", {out / 'records'}/", err=True)
