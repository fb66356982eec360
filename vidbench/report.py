"""`vidbench report RUN_DIR [--out HTML]`: one self-contained HTML page per run folder.

Works on any folder vidbench writes: an eval/score run (``result.json``), a training run (``train_log.csv``,
``samples/``), the quickstart folder (``quickstart.json`` plus its sub-runs) or an ablation sweep (many runs below
one folder). The page holds: the metric table of every run record (protocol ids, ``comparable`` and the
``comparable_reasons`` of schema v2), generated videos in a looping grid with the real clips beside them when the run
saved some (``real_samples/*.mp4``), per-video values worst-first from ``per_video.jsonl``, FD-vs-N and PCA-variance
plots from metric ``extra``, training loss curves from ``train_log.csv``, and the configuration.

**Videos are embedded as ``data:video/mp4;base64,...`` URIs by default.** Reason: the page must work when opened from
``file://`` and stay valid when it is copied, mailed or attached to a pull request on its own; a data URI has no
path to break and no cross-origin rule to trip over. The grid caps the number of clips (``max_videos``) so a page
stays a few MB (a 16-frame 128² H.264 clip is ~20–80 kB). Above ``embed_limit_bytes`` of video the page links the
mp4 files by relative path instead (the page then has to stay beside the run folder) and says so. PNG plots are
always embedded. No external URL is ever written.

Reusable components (plain functions returning HTML fragments; the 2AFC study site in ``vidbench/study`` uses them):

``video_grid_html(videos, *, labels=None, columns=8, width=96, embed=True, base_dir=None, title=None) -> str``
    ``videos``: mp4/webm paths (or ``(mime, bytes)`` pairs). A ``<div class="vb-grid">`` of muted, looping,
    autoplaying ``<video playsinline>`` tiles; ``labels`` (same length) are captions. ``embed=False`` writes ``src``
    relative to ``base_dir`` (the folder the HTML file will live in).
``side_by_side_html(panels) -> str``
    ``panels``: list of ``(title, html_fragment)``; lays them out next to each other (real | generated).
``metric_table_html(record, *, title=None) -> str``
    ``record``: a run record dict (v1 or v2, as ``records.read_result`` returns). One row per metric: name, value
    ± std, 95 % CI, N real/fake, protocol id, detector, comparable and its reasons, warnings.
``per_video_table_html(rows, *, columns=None, limit=50, videos=None, embed=True, base_dir=None) -> str``
    ``rows``: ``per_video.jsonl`` dicts. Sorted worst first (see :func:`worst_first_key`); ``videos`` maps a row
    index to its mp4 to show a thumbnail clip in the row.
``image_html(path_or_png_bytes, *, alt, width=None) -> str``
    An ``<img>`` with the PNG/GIF embedded as a data URI.
``config_html(config, *, title="configuration") -> str``
    A collapsible ``<details>`` block with the JSON, sorted keys.
``page_html(title, body, *, subtitle=None) -> str``
    A whole HTML document with the shared stylesheet ``REPORT_CSS`` (no external resources).
``loss_curve_png(csv_path) -> bytes | None``, ``fd_vs_n_png(curve, name) -> bytes``, ``pca_curve_png(cum) -> bytes``
    Matplotlib (Agg) plots as PNG bytes.

The whole report: ``build_report(run_dir, out=None, *, max_videos=16, embed="auto") -> Path``.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import mimetypes
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from vidbench.cache import atomic_write_text
from vidbench.errors import VidbenchError

DEFAULT_EMBED_LIMIT = 40 * 1024 * 1024  # bytes of video embedded before switching to relative links

REPORT_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:16px 24px;
max-width:1400px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:8px 0 2px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 6px} .vb-sub{color:#555;margin:0 0 12px}
table.vb-table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
.vb-table th,.vb-table td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
.vb-table th{background:#f3f3f3} .vb-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.vb-ok{color:#11663a;font-weight:600} .vb-no{color:#a11;font-weight:600}
.vb-reasons{margin:0;padding-left:16px;color:#a11} .vb-warn{color:#8a5a00}
code,.vb-mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.vb-grid{display:grid;gap:4px;margin:4px 0 10px}
.vb-tile{margin:0;text-align:center;font-size:11px;color:#555}
.vb-tile video,.vb-tile img{display:block;image-rendering:pixelated;background:#000;border-radius:2px}
.vb-sbs{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
.vb-panel h4{margin:0 0 4px;font-size:14px}
details{margin:6px 0} summary{cursor:pointer;color:#333}
pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:420px;font-size:12px}
.vb-note{background:#fff8e1;border-left:4px solid #e0a800;padding:6px 10px;margin:8px 0}
img.vb-plot{max-width:100%;border:1px solid #eee}
"""


# ------------------------------------------------------------------------------------------------ small helpers
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _mime(path: Path) -> str:
    ext = path.suffix.lower()
    return {".mp4": "video/mp4", ".webm": "video/webm", ".png": "image/png", ".gif": "image/gif",
            ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(ext) or mimetypes.guess_type(path.name)[0] or \
        "application/octet-stream"


def _rel_src(path: Path, base_dir: str | os.PathLike | None) -> str:
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    rel = os.path.relpath(Path(path).resolve(), base.resolve())
    return "/".join(html.escape(p, quote=True) for p in Path(rel).parts)


def _video_src(video: Any, embed: bool, base_dir) -> str:
    if isinstance(video, tuple):  # (mime, bytes)
        return _data_uri(video[1], video[0])
    p = Path(video)
    if embed:
        return _data_uri(p.read_bytes(), _mime(p))
    return _rel_src(p, base_dir)


def _fmt(v: Any, digits: int = 5) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.{digits}g}"
    return str(v)


# ------------------------------------------------------------------------------------------------ components
def video_grid_html(videos: Sequence[Any], *, labels: Sequence[str] | None = None, columns: int = 8,
                    width: int = 96, embed: bool = True, base_dir: str | os.PathLike | None = None,
                    title: str | None = None) -> str:
    """A grid of muted, looping, autoplaying videos (see the module docstring)."""
    if labels is not None and len(labels) != len(videos):
        raise VidbenchError(f"video_grid_html: {len(labels)} labels for {len(videos)} videos")
    cols = max(1, min(int(columns), len(videos) or 1))
    tiles = []
    for i, v in enumerate(videos):
        src = _video_src(v, embed, base_dir)
        mime = v[0] if isinstance(v, tuple) else _mime(Path(v))
        cap = f"<figcaption>{_e(labels[i])}</figcaption>" if labels is not None else ""
        tiles.append(f'<figure class="vb-tile"><video width="{int(width)}" height="{int(width)}" autoplay loop muted '
                     f'playsinline preload="auto"><source src="{src}" type="{mime}"></video>{cap}</figure>')
    head = f"<h4>{_e(title)}</h4>" if title else ""
    return (f'{head}<div class="vb-grid" style="grid-template-columns:repeat({cols},{int(width)}px)">'
            + "".join(tiles) + "</div>")


def side_by_side_html(panels: Iterable[tuple[str, str]]) -> str:
    """Panels next to each other, e.g. ``[("real clips", grid1), ("generated", grid2)]``."""
    return '<div class="vb-sbs">' + "".join(
        f'<div class="vb-panel"><h4>{_e(t)}</h4>{body}</div>' for t, body in panels) + "</div>"


def comparable_reasons(m: dict) -> list[str]:
    """``comparable_reasons`` of a metric entry (v2); for a v1 entry, the reasons its warnings and detector give."""
    reasons = m.get("comparable_reasons")
    if isinstance(reasons, list):
        return [str(r) for r in reasons]
    if m.get("comparable"):
        return []
    out = []
    if str(m.get("detector") or "").endswith("[random-init]"):
        out.append("random-init detector")
    out.extend(str(w) for w in m.get("warnings", []) if "not comparable" in str(w).lower())
    return out or ["not comparable (v1 record: no reason recorded)"]


def metric_table_html(record: dict, *, title: str | None = None) -> str:
    """One row per metric of a run record (v1 or v2)."""
    metrics = record.get("metrics") or {}
    head = f"<h3>{_e(title)}</h3>" if title else ""
    if not metrics:
        return head + "<p>(no metrics in this record)</p>"
    rows = []
    for name, m in metrics.items():
        value = _fmt(m.get("value"))
        if m.get("std") is not None:
            value += f" ± {_fmt(m['std'], 3)}"
        extra = m.get("extra") or {}
        vals = extra.get("values") if isinstance(extra.get("values"), dict) else {}
        more = "; ".join(f"{_e(k)} = {_fmt(v)}" for k, v in vals.items() if k != extra.get("primary"))
        if more:
            value += f"<br><span class='vb-mono'>{more}</span>"
        ci = m.get("ci95")
        ci_s = f"{_fmt(ci[0])} – {_fmt(ci[1])}" if ci else ""
        n = f"{_fmt(m.get('n_real')) or '–'} / {_fmt(m.get('n_fake')) or '–'}"
        reasons = comparable_reasons(m)
        comp = ('<span class="vb-ok">yes</span>' if m.get("comparable") else '<span class="vb-no">no</span>')
        if reasons:
            comp += '<ul class="vb-reasons">' + "".join(f"<li>{_e(r)}</li>" for r in reasons) + "</ul>"
        warns = "".join(f'<div class="vb-warn">{_e(w)}</div>' for w in m.get("warnings", []))
        det = _e(m.get("detector") or "")
        if m.get("weights_hash"):
            det += f"<br><span class='vb-mono'>{_e(str(m['weights_hash'])[:12])}…"
            det += f" ({_e(m.get('weights_verified'))})</span>"
        rows.append(f"<tr><td><code>{_e(name)}</code></td><td class='num'>{value}</td><td class='num'>{ci_s}</td>"
                    f"<td class='num'>{n}</td><td><code>{_e(m.get('protocol_id', ''))}</code></td><td>{det}</td>"
                    f"<td>{comp}</td><td>{warns}</td></tr>")
    return (head + '<table class="vb-table vb-metrics"><thead><tr><th>metric (protocol name)</th><th>value</th>'
            "<th>95% CI</th><th>N real / fake</th><th>protocol id</th><th>detector</th><th>comparable</th>"
            "<th>warnings</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


_HIGHER_IS_WORSE = ("acd", "fvd", "fid", "lpips", "distance", "loss", "error", "mse")


def worst_first_key(column: str) -> bool:
    """True when larger values of ``column`` are worse (ACD, FVD, distances, losses): sort those descending."""
    c = column.lower()
    return any(k in c for k in _HIGHER_IS_WORSE)


def _numeric_columns(rows: Sequence[dict]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k in ("index", "seed") or k in cols:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cols.append(k)
    return cols


def per_video_table_html(rows: Sequence[dict], *, columns: Sequence[str] | None = None, limit: int = 50,
                         videos: dict[int, Any] | None = None, embed: bool = True,
                         base_dir: str | os.PathLike | None = None, width: int = 64) -> str:
    """Per-video values, worst first by the first value column (see :func:`worst_first_key`)."""
    cols = list(columns) if columns is not None else _numeric_columns(rows)
    if not rows:
        return "<p>(no per-video rows)</p>"
    if not cols:
        return f"<p>{len(rows)} videos; the metrics of this run give no per-video values.</p>"
    key = cols[0]
    desc = worst_first_key(key)

    def sort_key(r):
        v = r.get(key)
        if not isinstance(v, (int, float)) or (isinstance(v, float) and math.isnan(v)):
            return (1, 0.0)  # videos without a value last
        return (0, -v if desc else v)

    ordered = sorted(rows, key=sort_key)[: max(0, int(limit))]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for r in ordered:
        clip = ""
        if videos and r.get("index") in videos:
            clip = video_grid_html([videos[r["index"]]], columns=1, width=width, embed=embed, base_dir=base_dir)
        cells = "".join(f"<td class='num'>{_fmt(r.get(c))}</td>" for c in cols)
        body.append(f"<tr><td class='num'>{_e(r.get('index', ''))}</td><td><code>{_e(r.get('id', ''))}</code></td>"
                    f"<td>{clip}</td>{cells}</tr>")
    order = "largest" if desc else "smallest"
    note = (f"<p class='vb-sub'>{len(rows)} videos; sorted worst first by <code>{_e(key)}</code> ({order} first); "
            f"showing {len(ordered)}.</p>")
    return (note + '<table class="vb-table vb-pervideo"><thead><tr><th>index</th><th>id</th><th>clip</th>'
            + head + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def image_html(image: str | os.PathLike | bytes, *, alt: str, width: int | None = None) -> str:
    """An ``<img>`` with a PNG (bytes) or an image file embedded as a data URI."""
    if isinstance(image, bytes):
        data, mime = image, "image/png"
    else:
        p = Path(image)
        data, mime = p.read_bytes(), _mime(p)
    w = f' width="{int(width)}"' if width else ""
    return f'<img class="vb-plot" alt="{_e(alt)}"{w} src="{_data_uri(data, mime)}">'


def config_html(config: Any, *, title: str = "configuration", open_: bool = False) -> str:
    """A collapsible block with the configuration as sorted, indented JSON."""
    text = json.dumps(config, indent=2, sort_keys=True, default=str)
    return f"<details{' open' if open_ else ''}><summary>{_e(title)}</summary><pre>{_e(text)}</pre></details>"


def page_html(title: str, body: str, *, subtitle: str | None = None) -> str:
    """A complete HTML document; everything inline (no external resources)."""
    sub = f'<p class="vb-sub">{subtitle}</p>' if subtitle else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{REPORT_CSS}</style></head>"
            f"<body><h1>{_e(title)}</h1>{sub}{body}</body></html>\n")


# ------------------------------------------------------------------------------------------------ plots
def _fig_png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def read_train_log(csv_path: str | os.PathLike) -> tuple[list[float], dict[str, list[float]]]:
    """``train_log.csv`` → (steps, {column: values}) for every numeric column but the step (blank cells → nan)."""
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return [], {}
    step_col = "step" if "step" in rows[0] else ("iter" if "iter" in rows[0] else None)
    steps, series = [], {}
    for i, r in enumerate(rows):
        try:
            steps.append(float(r[step_col]) if step_col else float(i))
        except (TypeError, ValueError):
            steps.append(float(i))
        for k, v in r.items():
            if k == step_col or k is None:
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                x = float("nan")
            series.setdefault(k, []).append(x)
    series = {k: v for k, v in series.items() if any(not math.isnan(x) for x in v)}
    return steps, series


_NOT_CURVES = ("step", "epoch", "time", "time_s", "iter_s", "elapsed_s", "kimg", "lr", "sec", "ema_beta")


def loss_curve_png(csv_path: str | os.PathLike, *, max_panels: int = 12) -> bytes | None:
    """Every numeric column of a ``train_log.csv`` but step/time bookkeeping, one small panel each (losses and scores
    have different scales), against the step."""
    steps, series = read_train_log(csv_path)
    series = {k: v for k, v in series.items() if k.lower() not in _NOT_CURVES}
    if not steps or not series:
        return None
    names = list(series)[:max_panels]
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False)
    for ax, k in zip(axes.flat, names):
        pts = [(s, x) for s, x in zip(steps, series[k]) if not math.isnan(x)]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], linewidth=1.0, marker="." if len(pts) < 20 else None)
        ax.set_title(k, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{Path(csv_path).parent.name}/{Path(csv_path).name} (x: step)", fontsize=10)
    fig.tight_layout()
    return _fig_png(fig)


def fd_vs_n_png(curve: dict, name: str) -> bytes:
    """FD of fake subsets of size N against 1/N with the fitted line FD = a + b/N (``extra.fd_vs_n`` of FVD/FID)."""
    plt = _pyplot()
    ns = [float(n) for n in curve["n"]]
    fd = [float(x) for x in curve["fd"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    inv = [1.0 / n for n in ns]
    ax.plot(inv, fd, "o", label="FD of a random subset of N fake clips")
    if "fd_inf" in curve and "slope" in curve:
        xs = [0.0, max(inv)]
        ax.plot(xs, [curve["fd_inf"] + curve["slope"] * x for x in xs], "-", alpha=0.7,
                label=f"fit a + b/N; a (N→∞) = {curve['fd_inf']:.4g}")
    ax.set_xlabel("1 / N")
    ax.set_ylabel("Fréchet distance")
    ax.set_title(f"{name}: FD vs N")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _fig_png(fig)


def pca_curve_png(cumulative: Sequence[float], *, title: str = "W-space PCA: cumulative explained variance",
                  thresholds: Sequence[float] = (0.85, 0.9, 0.95)) -> bytes:
    plt = _pyplot()
    k = list(range(1, len(cumulative) + 1))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(k, cumulative, "-", linewidth=1.4)
    for th in thresholds:
        ax.axhline(th, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("number of principal components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _fig_png(fig)


# ------------------------------------------------------------------------------------------------ the report
_SKIP_DIRS = {"checkpoints", "samples", "real_samples", "__pycache__"}


def _walk_dirs(root: Path, max_depth: int = 4) -> list[Path]:
    out = [root]
    frontier = [root]
    for _ in range(max_depth):
        nxt = []
        for d in frontier:
            try:
                subs = sorted(p for p in d.iterdir() if p.is_dir() and p.name not in _SKIP_DIRS
                              and not p.name.startswith("."))
            except OSError:
                continue
            nxt.extend(subs)
        out.extend(nxt)
        frontier = nxt
    return out


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def _read_record(d: Path) -> dict | None:
    from vidbench import records

    reader = getattr(records, "read_result", None)
    try:
        return reader(d)
    except VidbenchError:
        return json.loads((d / "result.json").read_text())  # still show a record the schema rejects


def _sample_videos(d: Path, sub: str) -> list[Path]:
    folder = d / sub
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".mp4", ".webm"))


class _Budget:
    """Decides per video whether to embed it (data URI) or link it, keeping the page under a size limit."""

    def __init__(self, embed: str | bool, limit: int):
        self.mode = embed
        self.left = limit
        self.linked = 0

    def take(self, paths: Sequence[Path]) -> bool:
        if self.mode is True or self.mode == "always":
            return True
        if self.mode is False or self.mode == "never":
            self.linked += len(paths)
            return False
        size = sum(p.stat().st_size for p in paths)
        if size <= self.left:
            self.left -= size
            return True
        self.linked += len(paths)
        return False


def _record_section(d: Path, rec: dict, root: Path, out_dir: Path, max_videos: int, budget: _Budget,
                    level: str = "h2") -> str:
    parts = []
    rel = os.path.relpath(d, root) if d != root else "."
    ds = rec.get("dataset") or {}
    label = rec.get("label")
    parts.append(f"<{level}>run <code>{_e(rel)}</code>{(' — ' + _e(label)) if label else ''}</{level}>")
    info = [f"model <code>{_e(rec.get('model'))}</code>",
            f"dataset <code>{_e(ds.get('name'))}</code>" + (f" split <code>{_e(ds.get('split'))}</code>"
                                                            if ds.get("split") else ""),
            f"seed {_e(rec.get('seed'))}"]
    if rec.get("task"):
        info.append(f"task {_e(rec['task'])}")
    if rec.get("checkpoint"):
        info.append(f"checkpoint <code>{_e(rec['checkpoint'])}</code>")
    if rec.get("git_commit"):
        info.append(f"commit <code>{_e(str(rec['git_commit'])[:10])}</code>")
    if rec.get("created"):
        info.append(f"created {_e(rec['created'])}")
    parts.append("<p class='vb-sub'>" + " · ".join(info) + "</p>")
    parts.append(metric_table_html(rec))

    # videos: real beside generated
    fake = _sample_videos(d, "samples")[:max_videos]
    real = _sample_videos(d, "real_samples")[:max_videos]
    if fake or real:
        emb = budget.take(fake + real)
        panels = []
        if real:
            panels.append((f"real clips ({len(real)} shown)",
                           video_grid_html(real, columns=min(8, max(1, math.ceil(math.sqrt(len(real))) * 2)),
                                           embed=emb, base_dir=out_dir)))
        if fake:
            n_all = len(_sample_videos(d, "samples"))
            panels.append((f"generated ({len(fake)} of {n_all} shown)",
                           video_grid_html(fake, columns=min(8, max(1, math.ceil(math.sqrt(len(fake))) * 2)),
                                           embed=emb, base_dir=out_dir)))
        parts.append("<h3>samples</h3>" + side_by_side_html(panels))

    # plots from metric extras
    plots = []
    for name, m in (rec.get("metrics") or {}).items():
        extra = m.get("extra") or {}
        curve = extra.get("fd_vs_n")
        if isinstance(curve, dict) and curve.get("n"):
            plots.append(image_html(fd_vs_n_png(curve, name), alt=f"{name} FD vs N"))
        cum = extra.get("cumulative")
        if isinstance(cum, list) and cum:
            plots.append(image_html(pca_curve_png(cum, title=f"{name}: cumulative explained variance"),
                                    alt=f"{name} PCA variance"))
    if plots:
        parts.append("<h3>plots</h3>" + "".join(plots))

    # per-video values
    pv = d / "per_video.jsonl"
    if pv.exists():
        rows = _read_jsonl(pv)
        cols = _numeric_columns(rows)
        all_fake = {i: p for i, p in enumerate(_sample_videos(d, "samples"))}
        limit = 24
        show = {}
        if cols:  # a clip beside each of the worst rows (only when there are per-video values to sort by)
            desc = worst_first_key(cols[0])
            ranked = sorted((r for r in rows if isinstance(r.get(cols[0]), (int, float))),
                            key=lambda r: -r[cols[0]] if desc else r[cols[0]])[:limit]
            show = {r["index"]: all_fake[r["index"]] for r in ranked if r.get("index") in all_fake}
        emb = budget.take(list(show.values())) if show else True
        parts.append("<h3>per-video values</h3>" + per_video_table_html(
            rows, limit=limit, videos=show or None, embed=emb, base_dir=out_dir))
    for cfg_name in ("config.json",):
        if (d / cfg_name).exists():
            try:
                parts.append(config_html(json.loads((d / cfg_name).read_text()), title=f"configuration ({cfg_name})"))
            except json.JSONDecodeError:
                pass
    parts.append(config_html({k: v for k, v in rec.items() if k != "metrics"}, title="run record (without metrics)"))
    return "\n".join(parts)


def _training_section(d: Path, root: Path) -> str:
    parts = [f"<h2>training <code>{_e(os.path.relpath(d, root) if d != root else '.')}</code></h2>"]
    png = loss_curve_png(d / "train_log.csv")
    if png:
        parts.append(image_html(png, alt="training curves"))
    else:
        parts.append("<p>(train_log.csv has no numeric rows yet)</p>")
    samples = d / "samples"
    if samples.is_dir():
        imgs = sorted(p for p in samples.iterdir() if p.suffix.lower() in (".gif", ".png"))
        if imgs:
            last = imgs[-1]
            parts.append(f"<h3>latest training samples <code>{_e(last.name)}</code></h3>"
                         + image_html(last, alt=f"training samples {last.name}", width=384))
    for name in ("config.json",):
        if (d / name).exists():
            try:
                parts.append(config_html(json.loads((d / name).read_text()), title=f"configuration ({name})"))
            except json.JSONDecodeError:
                pass
    return "\n".join(parts)


def _overview_table(recs: list[tuple[Path, dict]], root: Path) -> str:
    names: list[str] = []
    for _, r in recs:
        for k in (r.get("metrics") or {}):
            if k not in names:
                names.append(k)
    head = "".join(f"<th><code>{_e(n)}</code></th>" for n in names)
    body = []
    for d, r in recs:
        cells = []
        for n in names:
            m = (r.get("metrics") or {}).get(n)
            if m is None:
                cells.append("<td></td>")
                continue
            v = _fmt(m.get("value")) + (f" ± {_fmt(m['std'], 3)}" if m.get("std") is not None else "")
            mark = "" if m.get("comparable") else " <span class='vb-no' title='not comparable'>†</span>"
            cells.append(f"<td class='num'>{v}{mark}</td>")
        rel = os.path.relpath(d, root) if d != root else "."
        body.append(f"<tr><td><code>{_e(rel)}</code></td><td>{_e(r.get('label') or r.get('model'))}</td>"
                    + "".join(cells) + "</tr>")
    return ("<h2>all runs</h2><p class='vb-sub'>† not comparable (reasons in each run's table below)</p>"
            '<table class="vb-table vb-overview"><thead><tr><th>run</th><th>label / model</th>' + head
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def _quickstart_section(summary: dict, root: Path) -> str:
    parts = ["<h2>quickstart summary</h2>"]
    lines = summary.get("summary_lines")
    if isinstance(lines, list) and lines:
        parts.append("<pre>" + _e("\n".join(str(x) for x in lines)) + "</pre>")
    t = summary.get("timings") or summary.get("timings_s")
    if isinstance(t, dict) and t:
        rows = []
        for k, v in t.items():
            v = v if isinstance(v, dict) else {"wall_s": v}
            rows.append(f"<tr><td>{_e(k)}</td><td class='num'>{_fmt(v.get('wall_s'), 4)}</td>"
                        f"<td class='num'>{_fmt(v.get('cpu_s'), 4)}</td><td class='num'>{_fmt(v.get('threads'))}</td>"
                        "</tr>")
        machine = summary.get("machine") or {}
        cap = (f"<p class='vb-sub'>CPU: {_e(machine.get('cpu'))}, {_e(machine.get('cores'))} cores; load average at "
               f"the end {_e(' '.join(machine.get('loadavg_at_end') or []))}</p>") if machine else ""
        parts.append("<h3>stage times</h3>" + cap + '<table class="vb-table"><thead><tr><th>stage</th>'
                     "<th>wall s</th><th>CPU s (its process; bg: the worker)</th><th>torch threads</th></tr></thead><tbody>"
                     + "".join(rows) + "</tbody></table>")
    gif = summary.get("gif_grid")
    if gif and Path(gif).exists():
        parts.append("<h3>GIF grid (real | generated)</h3>" + image_html(gif, alt="real and generated clips",
                                                                          width=None))
    ig = summary.get("image_generator") or {}
    png = ig.get("samples_png")
    if ig.get("source") == "shipped" and png and Path(png).exists():  # a trained one has its training section
        parts.append(f"<h3>image generator: the shipped StyleGAN2 ({_e(ig.get('steps'))} steps), samples</h3>"
                     + image_html(png, alt="image generator samples", width=384))
    parts.append(config_html(summary, title="quickstart.json"))
    return "\n".join(parts)


def build_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, max_videos: int = 16,
                 embed: str | bool = "auto", embed_limit_bytes: int = DEFAULT_EMBED_LIMIT) -> Path:
    """Write the HTML report of ``run_dir`` (default ``RUN_DIR/report.html``) and return its path.

    ``embed``: ``"auto"`` (data URIs until ``embed_limit_bytes`` of video, then relative links), ``True``/``"always"``
    or ``False``/``"never"`` (relative links: the page must stay where it can reach the run folder).
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise VidbenchError(f"{root}: not a folder; pass a run folder (eval, training, quickstart or sweep)")
    out_path = Path(out) if out is not None else root / "report.html"
    if out_path.suffix.lower() not in (".html", ".htm"):
        raise VidbenchError(f"{out_path}: the report is an HTML file; pass --out NAME.html")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_dir = out_path.parent
    budget = _Budget(embed, embed_limit_bytes)

    dirs = _walk_dirs(root)
    recs = [(d, r) for d in dirs if (d / "result.json").exists() for r in [_read_record(d)] if r is not None]
    trains = [d for d in dirs if (d / "train_log.csv").exists()]
    if not recs and not trains and not (root / "quickstart.json").exists():
        raise VidbenchError(f"{root}: no result.json, train_log.csv or quickstart.json below it; pass a folder "
                            "written by vidbench eval/score/train/quickstart/ablate")
    sections = []
    if (root / "quickstart.json").exists():
        sections.append(_quickstart_section(json.loads((root / "quickstart.json").read_text()), root))
    if len(recs) > 1:
        sections.append(_overview_table(recs, root))
    for d, r in recs:
        sections.append(_record_section(d, r, root, out_dir, max_videos, budget))
    for d in trains:
        sections.append(_training_section(d, root))
    for d in dirs:  # PCA files written by `vidbench pca` / the quickstart
        pca = d / "pca.npz"
        if pca.exists() and not any("cumulative" in (m.get("extra") or {}) for _, r in recs
                                    for m in (r.get("metrics") or {}).values()):
            png = _pca_png_from_npz(pca)
            if png:
                sections.append(f"<h2>PCA <code>{_e(os.path.relpath(pca, root))}</code></h2>"
                                + image_html(png, alt="PCA variance curve"))
    notes = []
    if budget.linked:
        notes.append(f"<p class='vb-note'>{budget.linked} videos are linked by relative path (the embedded videos "
                     f"would exceed {embed_limit_bytes // (1024 * 1024)} MB): keep this page beside the run "
                     f"folder.</p>")
    title = f"vidbench report: {root.resolve().name}"
    doc = page_html(title, "\n".join(notes + sections), subtitle=f"<code>{_e(root.resolve())}</code>")
    atomic_write_text(out_path, doc)
    os.chmod(out_path, 0o644)
    return out_path


def _pca_png_from_npz(path: Path) -> bytes | None:
    import numpy as np

    try:
        with np.load(path) as z:
            keys = set(z.files)
            if "explained_variance_ratio" in keys:
                ratio = np.asarray(z["explained_variance_ratio"], dtype=np.float64)
            elif "stdev" in keys:
                var = np.asarray(z["stdev"], dtype=np.float64) ** 2
                ratio = var / var.sum() if var.sum() > 0 else var
            else:
                return None
    except (OSError, ValueError):
        return None
    cum = np.cumsum(ratio)
    return pca_curve_png(cum.tolist(), title=f"{path.name}: cumulative explained variance")


__all__ = ["video_grid_html", "side_by_side_html", "metric_table_html", "per_video_table_html", "image_html",
           "config_html", "page_html", "loss_curve_png", "fd_vs_n_png", "pca_curve_png", "build_report",
           "comparable_reasons", "worst_first_key", "read_train_log", "REPORT_CSS"]
