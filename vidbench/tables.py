"""The paper's tables: published numbers (``leaderboards/``) beside measured rows from run records.

``leaderboards/published.csv`` holds every number of the paper's Tables 1-5, 7, 8 and App. D with the protocol it was
measured under (name, split, N, resolution, frames) and a citation; ``leaderboards/table<N>.yaml`` says how a table is
laid out (rows, columns, number formats, direction, footnotes).

A measured value sits in a published column only when it was measured under the same protocol *name*, split, N,
resolution and dataset as a published number in that column, and its record says ``comparable: true``. Anything else
goes to a *measured-only* block under its own protocol name, with the reasons as footnotes, so a tiny CPU run still
gives a readable table and is never printed as if it belonged beside the paper's numbers.

Several runs with the same row name (a record's ``label``; else model and checkpoint) merge as mean ± std over runs
(sample std, ddof=1) with ``n_runs``. Renderers: Markdown, CSV (raw values and provenance, one line per cell), LaTeX
(booktabs; pure ASCII) and HTML.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from vidbench.errors import VidbenchError

TABLES = ("1", "2", "3", "4", "5", "7", "8")
FORMATS = ("md", "csv", "latex", "html")
DASH = "\u2014"  # missing cell
DAGGER = "\u2020"  # published number
PM = "\u00b1"
ARROW = {"higher": "\u2191", "lower": "\u2193"}


# ------------------------------------------------------------------------------------------------ files
def leaderboards_dir() -> Path:
    """The ``leaderboards/`` folder: shipped inside the package in a wheel (``vidbench/leaderboards``), the top-level
    folder of the checkout in an editable install."""
    import vidbench

    pkg = Path(vidbench.__file__).resolve().parent
    for cand in (pkg / "leaderboards", pkg.parent / "leaderboards"):
        if (cand / "published.csv").is_file():
            return cand
    try:  # a zipped or otherwise relocated install
        from importlib.resources import files

        res = files("vidbench.leaderboards")
        if res.joinpath("published.csv").is_file():
            return Path(str(res))
    except (ModuleNotFoundError, TypeError):
        pass
    raise VidbenchError("leaderboards/published.csv not found; reinstall vidbench (the wheel ships it as "
                        "vidbench/leaderboards)")


def load_published() -> pd.DataFrame:
    """``published.csv`` as strings (empty cells ""), with float ``value`` / ``std``."""
    df = pd.read_csv(leaderboards_dir() / "published.csv", dtype=str, keep_default_na=False)
    df["value"] = df["value"].astype(float)
    df["std"] = [float(s) if s != "" else math.nan for s in df["std"]]
    return df


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    metric: str  # metric name in published.csv
    match: str  # regex over measured protocol names that may fill this column
    direction: str  # "higher" | "lower"
    decimals: int
    field: str = "value"  # where the number sits in a metric entry ("value" or a dotted path such as extra.values.ssim)
    dataset: str | None = None  # per-column dataset (Table 7); else the table's
    bold: bool = True  # mark the best value (off for preference percentages of different pairs)


@dataclass(frozen=True)
class RowSpec:
    method: str  # method name in published.csv
    display: str | None = None
    model: str | None = None  # registered model name, where we have one
    label: str | None = None  # ``label`` of measured records shown beside this row
    reference: bool = False  # GT / upper bound: never bold


@dataclass(frozen=True)
class TableSpec:
    table: str
    title: str
    dataset: str | None
    task: str
    columns: tuple[ColumnSpec, ...]
    rows: tuple[RowSpec, ...]
    footnotes: tuple[str, ...] = ()
    transpose: bool = False
    published_tables: tuple[str, ...] = ()


def load_spec(table: str | int) -> TableSpec:
    """Read ``leaderboards/table<N>.yaml``."""
    import yaml

    table = str(table)
    path = leaderboards_dir() / f"table{table}.yaml"
    if table not in TABLES or not path.is_file():
        raise VidbenchError(f"no spec for paper table {table!r}; tables: {', '.join(TABLES)}")
    d = yaml.safe_load(path.read_text())
    cols = tuple(ColumnSpec(key=str(c["key"]), header=str(c["header"]), metric=str(c["metric"]), match=str(c["match"]),
                            direction=str(c["direction"]), decimals=int(c["decimals"]),
                            field=str(c.get("field", "value")), dataset=c.get("dataset"),
                            bold=bool(c.get("bold", True))) for c in d["columns"])
    for c in cols:
        if c.direction not in ARROW:
            raise VidbenchError(f"{path}: column {c.key}: direction must be higher or lower")
    rows = tuple(RowSpec(method=str(r["method"]), display=r.get("display"), model=r.get("model"),
                         label=r.get("label"), reference=bool(r.get("reference", False))) for r in d["rows"])
    return TableSpec(table=table, title=str(d["title"]), dataset=d.get("dataset"), task=str(d.get("task", "")),
                     columns=cols, rows=rows, footnotes=tuple(d.get("footnotes") or ()),
                     transpose=bool(d.get("transpose", False)),
                     published_tables=tuple(str(t) for t in d.get("published_tables") or (table,)))


# ------------------------------------------------------------------------------------------------ measured values
@dataclass
class Measured:
    """One number from one run record."""

    row: str  # row name: the record's label, else model (+ checkpoint)
    name: str  # the metric's own protocol name as recorded (e.g. fvd64_16f[random-init])
    field: str
    value: float | None  # None: the metric ran and had no value (the reasons say why)
    std: float | None
    comparable: bool
    reasons: list[str]
    protocol_id: str
    n: int | None
    split: str | None
    resolution: int | None
    dataset: str | None
    task: str | None
    seed: int | None
    weights_hash: str | None
    run: str


def base_name(name: str) -> str:
    """Protocol name without a detector suffix such as ``[random-init]``."""
    return re.sub(r"\[.*?\]$", "", name)


def row_name(rec: dict) -> str:
    """A record's row: its ``label``; else ``model`` and the checkpoint file name."""
    if rec.get("label"):
        return str(rec["label"])
    model = rec.get("model") or "unknown"
    ck = rec.get("checkpoint")
    return f"{model} ({Path(ck).name})" if ck else str(model)


def _get(d: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def record_resolution(run_path: Path | None, rec: dict) -> int | None:
    """Frame size both sides were evaluated at: the run's config.json (``resolution``), else the sampler settings."""
    if run_path is not None:
        cfg = (run_path.parent if run_path.name == "result.json" else run_path) / "config.json"
        if cfg.is_file():
            try:
                c = json.loads(cfg.read_text())
            except (OSError, json.JSONDecodeError):
                c = {}
            if isinstance(c, dict) and isinstance(c.get("resolution"), int):
                return int(c["resolution"])
    v = (rec.get("sampler") or {}).get("resolution")
    return int(v) if isinstance(v, int) else None


def measured_values(records: Iterable[tuple[Path | None, dict]], fields: Iterable[str] = ("value",)) -> list[Measured]:
    """Flatten run records into one :class:`Measured` per (record, metric, field) with a number."""
    out = []
    for path, rec in records:
        ds = rec.get("dataset") or {}
        res = record_resolution(path, rec)
        for name, m in sorted((rec.get("metrics") or {}).items()):
            for f in fields:
                v = m.get("value") if f == "value" else _get(m, f)
                number = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                if not number and f != "value":
                    continue
                reasons = list(m.get("comparable_reasons") or [])
                if not number:  # a metric that ran but has no value (e.g. ACD without faces): "—" with the reason
                    reasons += [f"no value: {w}" for w in m.get("warnings") or []] or ["no value"]
                std = m.get("std") if f == "value" else None
                out.append(Measured(
                    row=row_name(rec), name=name, field=f, value=float(v) if number else None,
                    std=float(std) if isinstance(std, (int, float)) and number else None,
                    comparable=bool(m.get("comparable")) and number, reasons=reasons,
                    protocol_id=str(m.get("protocol_id")), n=m.get("n_fake"), split=ds.get("split"),
                    resolution=res, dataset=ds.get("name"), task=rec.get("task"), seed=rec.get("seed"),
                    weights_hash=m.get("weights_hash"), run=str(path.parent if path and path.name == "result.json"
                                                                 else path)))
    return out


# ------------------------------------------------------------------------------------------------ table model
@dataclass
class Cell:
    value: float | None = None
    std: float | None = None
    n_runs: int = 0
    source: str = ""  # "published" | "measured"
    bold: bool = False
    notes: list[str] = field(default_factory=list)  # footnote keys
    prov: dict = field(default_factory=dict)


@dataclass
class TableResult:
    spec: TableSpec
    main_rows: list[tuple[str, bool, dict[str, Cell]]]  # (display, published, {column key: cell})
    extra_cols: list[str]  # measured-only block columns (own protocol names)
    extra_rows: list[tuple[str, str, dict[str, Cell]]]  # (row, dataset, {protocol: cell})
    citations: list[tuple[str, str]]  # († rows) (display, citation)
    reasons: list[str]  # measured-only footnotes, [a], [b], ...
    notes: list[str] = field(default_factory=list)


def _pub_cell(pub: pd.DataFrame, method: str, col: ColumnSpec) -> pd.Series | None:
    sel = pub[(pub["method"] == method) & (pub["metric"] == col.metric)]
    if col.dataset:
        sel = sel[sel["dataset"] == col.dataset]
    return None if sel.empty else sel.iloc[0]


def _intish(s: Any) -> int | None:
    try:
        return int(str(s)) if str(s) != "" else None
    except ValueError:
        return None


def _mismatch(m: Measured, p: pd.Series, col_dataset: str | None) -> list[str]:
    """Why ``m`` is not the protocol of published cell ``p`` (empty: same name, split, N, resolution, dataset)."""
    why = []
    if not p["protocol"]:
        return [f"the published {p['metric']} (Table {p['table']}) states no protocol to compare with"]
    if base_name(m.name) != p["protocol"]:
        why.append(f"protocol {m.name} != published {p['protocol']}")
    ds = col_dataset or p["dataset"]
    if m.dataset != ds:
        why.append(f"dataset {m.dataset} != {ds}")
    if (p["split"] or None) != m.split:
        why.append(f"split {m.split} != {p['split'] or 'unstated'}")
    pn = _intish(p["n"])
    if pn != m.n:
        why.append(f"N={m.n} != {pn if pn is not None else 'unstated'}")
    pr = _intish(p["resolution"])
    if pr != m.resolution:
        why.append(f"resolution {m.resolution if m.resolution is not None else 'unrecorded'} != "
                   f"{pr if pr is not None else 'unstated'}")
    if p.get("task") and m.task and p["task"] != m.task:
        why.append(f"task {m.task} != {p['task']}")
    return why


def _merge(vals: list[Measured]) -> Cell:
    """Mean ± std over runs (ddof=1); one run keeps the metric's own std."""
    x = np.array([v.value for v in vals if v.value is not None], dtype=np.float64)
    if len(x) == 0:
        mean, std = None, None
    elif len(x) == 1:
        mean, std = float(x[0]), next(v.std for v in vals if v.value is not None)
    else:
        mean, std = float(x.mean()), float(x.std(ddof=1))
    ids = sorted({v.protocol_id for v in vals})
    return Cell(value=mean, std=std, n_runs=len(x), source="measured", prov={
        "protocol": vals[0].name, "protocol_ids": ids, "n": vals[0].n, "split": vals[0].split,
        "resolution": vals[0].resolution, "dataset": vals[0].dataset, "seeds": sorted({str(v.seed) for v in vals}),
        "weights_hash": sorted({str(v.weights_hash) for v in vals}), "runs": sorted(v.run for v in vals),
        "comparable": all(v.comparable for v in vals)})


def build_table(table: str | int, records: Iterable[tuple[Path | None, dict]] = (),
                notes: Iterable[str] = (), not_measured: Iterable[tuple[str, str, str]] = ()) -> TableResult:
    """Lay out paper table ``table`` with published rows and the measured rows of ``records`` (``notes``: extra
    footnotes, e.g. how the measured rows were made; ``not_measured``: (row, protocol, reason) of metrics that could
    not run, shown as "—" with the reason in the measured-only block)."""
    spec = load_spec(table)
    pub_all = load_published()
    pub = pub_all[pub_all["table"].isin(spec.published_tables)]
    fields = sorted({c.field for c in spec.columns})
    meas = measured_values(list(records), fields)

    main: list[tuple[str, bool, dict[str, Cell]]] = []
    citations: list[tuple[str, str]] = []
    # published cells, row by row
    for r in spec.rows:
        cells: dict[str, Cell] = {}
        cite = None
        for c in spec.columns:
            p = _pub_cell(pub, r.method, c)
            if p is not None:
                cells[c.key] = Cell(value=float(p["value"]), std=None if math.isnan(p["std"]) else float(p["std"]),
                                    source="published", prov={k: p[k] for k in (
                                        "protocol", "split", "n", "resolution", "frames", "dataset", "citation",
                                        "protocol_note", "table")})
                cite = cite or p["citation"]
        if cells:
            disp = (r.display or r.method) + DAGGER
            main.append((disp, True, cells))
            citations.append((disp, cite))

    # measured cells: comparable ones beside the published rows, the rest in the measured-only block
    comp: dict[tuple[str, str], list[Measured]] = {}
    other: dict[tuple[str, str, str], list[Measured]] = {}
    other_reasons: dict[tuple[str, str, str], list[str]] = {}
    for c in spec.columns:
        cands = [p for _, p in pub.iterrows() if p["metric"] == c.metric and
                 (not c.dataset or p["dataset"] == c.dataset)]
        for m in meas:
            if m.field != c.field or not re.match(c.match, base_name(m.name)):
                continue
            if c.dataset and m.dataset != c.dataset and any(
                    (x.dataset == m.dataset) for x in spec.columns if x.dataset):
                continue  # another column of this table is this record's dataset
            fits = [p for p in cands if not _mismatch(m, p, c.dataset)]
            if m.comparable and fits:
                comp.setdefault((m.row, c.key), []).append(m)
                continue
            # nearest published protocol: the one whose row shows this label, else the column's first with a protocol
            own = [p for p in cands if any(r.label == m.row and r.method == p["method"] for r in spec.rows)]
            ref = (own or [p for p in cands if p["protocol"]] or cands or [None])[0]
            reasons = list(m.reasons) if not m.comparable else []
            if ref is not None:
                reasons += [w for w in _mismatch(m, ref, c.dataset) if not w.startswith("protocol ")]
            name = m.name if m.field == "value" else f"{m.name}:{m.field.rsplit('.', 1)[-1]}"
            key = (m.row, m.dataset or "", name)
            other.setdefault(key, [])
            if m in other[key]:  # already placed by an earlier column (per-dataset columns of Table 7)
                continue
            other[key].append(m)
            rs = other_reasons.setdefault(key, [])
            rs += [x for x in reasons if x not in rs]

    label_to_row = {r.label: r for r in spec.rows if r.label}
    measured_rows: dict[str, dict[str, Cell]] = {}
    for (row, ckey), vals in sorted(comp.items()):
        measured_rows.setdefault(row, {})[ckey] = _merge(vals)
    order = [r.label for r in spec.rows if r.label in measured_rows] + sorted(
        r for r in measured_rows if r not in label_to_row)
    for row in order:
        spec_row = label_to_row.get(row)
        disp = f"{(spec_row.display or spec_row.method) if spec_row else row} (measured)"
        pos = len(main)
        if spec_row is not None:  # right after its published row
            for i, (d, _, _) in enumerate(main):
                if d == (spec_row.display or spec_row.method) + DAGGER:
                    pos = i + 1
        main.insert(pos, (disp, False, measured_rows[row]))

    # best per column, by direction, over non-reference rows
    ref_disp = {(r.display or r.method) + DAGGER for r in spec.rows if r.reference}
    for c in (c for c in spec.columns if c.bold):
        vals = [cells[c.key].value for d, _, cells in main if c.key in cells and d not in ref_disp]
        if len(vals) >= 2:
            best = max(vals) if c.direction == "higher" else min(vals)
            for d, _, cells in main:
                if c.key in cells and d not in ref_disp and cells[c.key].value == best:
                    cells[c.key].bold = True

    reasons_all: list[str] = []
    extra_rows_d: dict[tuple[str, str], dict[str, Cell]] = {}
    datasets_of = {row: ds for (row, ds, _) in other}
    for row, name, reason in not_measured:
        key = (row, datasets_of.get(row, ""), name)
        if key not in other:
            other[key] = []
            other_reasons[key] = []
        other_reasons[key].append(reason)
    for key in sorted(other):
        row, ds, name = key
        cell = _merge(other[key]) if other[key] else Cell(source="measured", prov={"protocol": name})
        for r in other_reasons[key]:
            if r not in reasons_all:
                reasons_all.append(r)
            cell.notes.append(_note_key(reasons_all.index(r)))
        cell.prov["reasons"] = other_reasons[key]
        extra_rows_d.setdefault((row, ds), {})[name] = cell
    row_rank = {r.label: i for i, r in enumerate(spec.rows) if r.label}
    extra_keys = sorted(extra_rows_d, key=lambda k: (row_rank.get(k[0], len(row_rank)), k[0], k[1]))
    extra_cols = sorted({n for cells in extra_rows_d.values() for n in cells})
    return TableResult(spec=spec, main_rows=main, extra_cols=extra_cols,
                       extra_rows=[(r, d, extra_rows_d[(r, d)]) for r, d in extra_keys], citations=citations,
                       reasons=reasons_all, notes=list(notes))


def _note_key(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s


# ------------------------------------------------------------------------------------------------ formatting
def format_number(v: float | None, decimals: int) -> str:
    """As printed in the paper: ``33.95``, ``1209``, ``0.2935``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return f"{v:.{decimals}f}"


def format_std(s: float, decimals: int) -> str:
    """The paper's ± part: ``.25`` (no leading zero below 1), ``28``."""
    t = f"{s:.{decimals}f}"
    if t.startswith("0.") and decimals > 0:
        t = t[1:]
    return t


def format_cell(c: Cell | None, decimals: int) -> str:
    if c is None or c.value is None:
        return DASH
    t = format_number(c.value, decimals)
    if c.std is not None and not math.isnan(c.std):
        t += f" {PM} {format_std(c.std, decimals)}"
    if c.n_runs > 1:
        t += f" (n={c.n_runs})"
    return t


def _decimals_for(name: str, spec: TableSpec) -> int:
    for c in spec.columns:
        if re.match(c.match, base_name(name.split(":")[0])):
            return max(c.decimals, 3 if c.decimals < 3 else c.decimals)
    return 4


def _col_header(c: ColumnSpec) -> str:
    return f"{c.header} {ARROW[c.direction]}"


@dataclass
class _Grid:
    """A rendered block: header, rows of (text, bold, notes)."""

    title: str
    header: list[str]
    rows: list[list[tuple[str, bool, list[str]]]]


def _grids(res: TableResult) -> tuple[_Grid, _Grid | None]:
    spec = res.spec
    header = ["Method"] + [_col_header(c) for c in spec.columns]
    rows = []
    for disp, _, cells in res.main_rows:
        rows.append([(disp, False, [])] + [(format_cell(cells.get(c.key), c.decimals),
                                             bool(cells.get(c.key) and cells[c.key].bold), [])
                                            for c in spec.columns])
    if spec.transpose:
        t_header = [header[0]] + [r[0][0] for r in rows]
        t_rows = [[(header[j], False, [])] + [r[j] for r in rows] for j in range(1, len(header))]
        header, rows = t_header, t_rows
    main = _Grid(title=f"Table {spec.table}: {spec.title}", header=header, rows=rows)
    if not res.extra_rows:
        return main, None
    eh = ["Run", "Dataset"] + res.extra_cols
    erows = []
    for row, ds, cells in res.extra_rows:
        line = [(row, False, []), (ds or DASH, False, [])]
        for name in res.extra_cols:
            c = cells.get(name)
            line.append((format_cell(c, _decimals_for(name, spec)), False, list(c.notes) if c else []))
        erows.append(line)
    return main, _Grid(title="Measured only (not comparable with the published columns; own protocol names)",
                       header=eh, rows=erows)


def _footnotes(res: TableResult) -> list[str]:
    by_cite: dict[str, list[str]] = {}
    for d, c in res.citations:
        by_cite.setdefault(c, []).append(d.rstrip(DAGGER))
    out = [f"{DAGGER} {', '.join(ds)}: {c}" for c, ds in by_cite.items()]
    out += list(res.spec.footnotes)
    out += list(res.notes)
    out += [f"[{_note_key(i)}] {r}" for i, r in enumerate(res.reasons)]
    out += [f"Bold: best per column ({', '.join(f'{c.header} {ARROW[c.direction]}' for c in res.spec.columns if c.bold)}); "
            f"{DASH}: not reported; ± is the published or per-run std, or the std over runs when n > 1."]
    return out


def _md_block(g: _Grid) -> list[str]:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [f"**{esc(g.title)}**", "", "| " + " | ".join(esc(h) for h in g.header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(g.header) - 1)) + "|"]
    for r in g.rows:
        cells = []
        for text, bold, notes in r:
            t = esc(text)
            if bold:
                t = f"**{t}**"
            if notes:
                t += " " + "".join(f"[{n}]" for n in notes)
            cells.append(t)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _grid_markdown(grids: list[_Grid] | _Grid, notes: list[str]) -> str:
    lines: list[str] = []
    for g in [grids] if isinstance(grids, _Grid) else grids:
        lines += ([""] if lines else []) + _md_block(g)
    lines += [""] + ["- " + f.replace("|", "\\|") for f in notes]
    return "\n".join(lines) + "\n"


def render_markdown(res: TableResult) -> str:
    main, extra = _grids(res)
    return _grid_markdown([main] + ([extra] if extra else []), _footnotes(res))


_LATEX_MAP = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    PM: r"$\pm$", DASH: "---", "\u2013": "--", DAGGER: r"$^\dagger$", "\u2191": r"$\uparrow$",
    "\u2193": r"$\downarrow$", "\u2260": r"$\neq$", "\u00b2": r"$^2$", "\u00d7": r"$\times$", "\u2264": r"$\leq$",
    "\u2265": r"$\geq$", "\u03bb": r"$\lambda$", "\u2019": "'", "\u201c": "``", "\u201d": "''", "\u2026": r"\ldots{}",
}


def latex_escape(s: str) -> str:
    """Text -> pure-ASCII LaTeX (special characters escaped, known symbols as math, others transliterated)."""
    out = []
    for ch in str(s):
        if ch in _LATEX_MAP:
            out.append(_LATEX_MAP[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?")
    return "".join(out)


def _latex_block(g: _Grid, caption: bool) -> list[str]:
    lines = []
    if caption:
        lines.append(r"\caption{" + latex_escape(g.title) + "}")
    else:
        lines += [r"\par\medskip", r"\textit{" + latex_escape(g.title) + r"}\par\smallskip"]
    lines.append(r"\begin{tabular}{l" + "r" * (len(g.header) - 1) + "}")
    lines.append(r"\toprule")
    lines.append(" & ".join(latex_escape(h) for h in g.header) + r" \\")
    lines.append(r"\midrule")
    for r in g.rows:
        cells = []
        for text, bold, notes in r:
            t = latex_escape(text)
            if bold:
                t = r"\textbf{" + t + "}"
            if notes:
                t += "$^{" + ",".join(notes) + "}$"
            cells.append(t)
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    return lines


def _grid_latex(grids: list[_Grid] | _Grid, notes: list[str], res: TableResult | None = None) -> str:
    """A ``table`` environment using booktabs (``\\usepackage{booktabs}``); pure ASCII."""
    grids = [grids] if isinstance(grids, _Grid) else grids
    what = f"table --paper {res.spec.table}" if res is not None and res.spec.table != "leaderboard" \
        else "leaderboard export"
    lines = [f"% vidbench {what} (needs \\usepackage{{booktabs}})", r"\begin{table}[ht]", r"\centering", r"\small"]
    for i, g in enumerate(grids):
        lines += _latex_block(g, i == 0)
    lines += [r"\par\smallskip", r"\begin{minipage}{0.95\linewidth}\footnotesize"]
    lines += [latex_escape(f) + r"\par" for f in notes]
    lines += [r"\end{minipage}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def render_latex(res: TableResult) -> str:
    main, extra = _grids(res)
    return _grid_latex([main] + ([extra] if extra else []), _footnotes(res), res)


def _html_frame(g: _Grid) -> str:
    data = []
    for r in g.rows:
        line = []
        for text, bold, notes in r:
            t = html.escape(text)
            if bold:
                t = f"<b>{t}</b>"
            if notes:
                t += "<sup>" + ",".join(notes) + "</sup>"
            line.append(t)
        data.append(line)
    df = pd.DataFrame(data, columns=[html.escape(h) for h in g.header])
    return df.to_html(index=False, escape=False, border=0, classes="vidbench-table")


def _grid_html(grids: list[_Grid] | _Grid, notes: list[str]) -> str:
    """A standalone HTML page (pandas builds the tables; cell text is HTML-escaped)."""
    grids = [grids] if isinstance(grids, _Grid) else grids
    parts = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
             f"<title>{html.escape(grids[0].title)}</title>",
             "<style>body{font-family:sans-serif}table{border-collapse:collapse}th,td{padding:2px 8px;"
             "border-bottom:1px solid #ccc}td{text-align:right}td:first-child{text-align:left}</style>",
             "</head><body>"]
    for i, g in enumerate(grids):
        parts += [f"<h{3 + min(i, 1)}>{html.escape(g.title)}</h{3 + min(i, 1)}>", _html_frame(g)]
    parts += ["<ul>"] + [f"<li>{html.escape(f)}</li>" for f in notes] + ["</ul>", "</body></html>"]
    return "\n".join(parts) + "\n"


def render_html(res: TableResult) -> str:
    main, extra = _grids(res)
    return _grid_html([main] + ([extra] if extra else []), _footnotes(res))


CSV_COLUMNS = ["table", "block", "row", "column", "protocol", "field", "value", "std", "n_runs", "source",
               "comparable", "bold", "dataset", "split", "n", "resolution", "frames", "citation", "protocol_ids",
               "seeds", "weights_hash", "runs", "reasons", "note"]


def table_frame(res: TableResult) -> pd.DataFrame:
    """Long form: one line per cell with raw values and provenance."""
    spec = res.spec
    lines = []
    colspec = {c.key: c for c in spec.columns}
    for disp, _, cells in res.main_rows:
        for key, c in cells.items():
            p = c.prov
            lines.append({
                "table": spec.table, "block": "main", "row": disp, "column": colspec[key].header,
                "protocol": p.get("protocol", ""), "field": colspec[key].field, "value": c.value, "std": c.std,
                "n_runs": c.n_runs if c.source == "measured" else "", "source": c.source,
                "comparable": True if c.source == "measured" else "", "bold": c.bold,
                "dataset": p.get("dataset", ""), "split": p.get("split", ""), "n": p.get("n", ""),
                "resolution": p.get("resolution", ""), "frames": p.get("frames", ""),
                "citation": p.get("citation", ""), "protocol_ids": " ".join(p.get("protocol_ids", [])),
                "seeds": " ".join(p.get("seeds", [])), "weights_hash": " ".join(p.get("weights_hash", [])),
                "runs": " ".join(p.get("runs", [])), "reasons": "", "note": p.get("protocol_note", "")})
    for row, ds, cells in res.extra_rows:
        for name, c in sorted(cells.items()):
            p = c.prov
            lines.append({
                "table": spec.table, "block": "measured-only", "row": row, "column": name,
                "protocol": p.get("protocol", ""), "field": name.split(":")[1] if ":" in name else "value",
                "value": c.value, "std": c.std, "n_runs": c.n_runs, "source": "measured",
                "comparable": p.get("comparable"), "bold": False, "dataset": ds, "split": p.get("split"),
                "n": p.get("n"), "resolution": p.get("resolution"), "frames": "", "citation": "",
                "protocol_ids": " ".join(p.get("protocol_ids", [])), "seeds": " ".join(p.get("seeds", [])),
                "weights_hash": " ".join(p.get("weights_hash", [])), "runs": " ".join(p.get("runs", [])),
                "reasons": "; ".join(p.get("reasons", [])), "note": ""})
    return pd.DataFrame(lines, columns=CSV_COLUMNS)


def render_csv(res: TableResult) -> str:
    buf = io.StringIO()
    table_frame(res).to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, float_format="%.10g")
    return buf.getvalue()


RENDERERS = {"md": render_markdown, "csv": render_csv, "latex": render_latex, "html": render_html}


def render(res: TableResult, fmt: str) -> str:
    if fmt not in RENDERERS:
        raise VidbenchError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](res)


def paper_table(table: str | int, runs: Iterable[str | Path] = (), fmt: str = "md") -> str:
    """``vidbench table --paper N``: the rendered table with the records found under ``runs``."""
    from vidbench.records import find_records

    records = find_records(*runs) if runs else []
    return render(build_table(table, records), fmt)


# ------------------------------------------------------------------------------------------------ leaderboard export
def _fmt_raw(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.10g}")
    return v


def leaderboard_frame(records: Iterable[tuple[Path | None, dict]], include_uncomparable: bool = False) -> pd.DataFrame:
    """Wide frame: one row per (row name, dataset), per metric protocol ``NAME`` the columns ``NAME`` (mean over runs),
    ``NAME.std`` (std over runs, else the metric's), ``NAME.n``, ``NAME.n_runs``, ``NAME.protocol_id``,
    ``NAME.weights_hash`` and ``NAME.comparable``; plus ``split``, ``seeds``, ``n_runs``, ``model``, ``checkpoint_hash``.
    ``comparable: false`` values are left out unless ``include_uncomparable``."""
    recs = list(records)
    groups: dict[tuple[str, str], list[tuple[Path | None, dict]]] = {}
    for path, rec in recs:
        groups.setdefault((row_name(rec), (rec.get("dataset") or {}).get("name") or ""), []).append((path, rec))
    lines = []
    for (row, ds), items in sorted(groups.items()):
        line: dict[str, Any] = {
            "row": row, "dataset": ds,
            "split": " ".join(sorted({str((r.get("dataset") or {}).get("split")) for _, r in items})),
            "model": " ".join(sorted({str(r.get("model")) for _, r in items})),
            "checkpoint_hash": " ".join(sorted({str(r.get("checkpoint_hash"))[:16] for _, r in items})),
            "seeds": " ".join(sorted({str(r.get("seed")) for _, r in items}, key=lambda s: (len(s), s))),
            "n_runs": len(items)}
        meas = [m for m in measured_values(items) if include_uncomparable or m.comparable]
        by_name: dict[str, list[Measured]] = {}
        for m in meas:
            by_name.setdefault(m.name, []).append(m)
        for name, vals in sorted(by_name.items()):
            c = _merge(vals)
            line[name] = _fmt_raw(c.value)
            line[f"{name}.std"] = _fmt_raw(c.std) if c.std is not None else None
            line[f"{name}.n"] = vals[0].n
            line[f"{name}.n_runs"] = len(vals)
            line[f"{name}.protocol_id"] = " ".join(c.prov["protocol_ids"])
            line[f"{name}.weights_hash"] = " ".join(h[:16] for h in c.prov["weights_hash"])
            line[f"{name}.comparable"] = c.prov["comparable"]
        lines.append(line)
    base = ["row", "dataset", "split", "model", "checkpoint_hash", "seeds", "n_runs"]
    metric_cols = sorted({k for ln in lines for k in ln if k not in base}, key=lambda k: (k.split(".")[0], k))
    return pd.DataFrame(lines, columns=base + metric_cols)


def _metric_names(df: pd.DataFrame) -> list[str]:
    return sorted({c for c in df.columns if "." not in c} - {"row", "dataset", "split", "model", "checkpoint_hash",
                                                             "seeds", "n_runs"})


def export_leaderboard(runs: Iterable[str | Path], fmt: str = "csv", include_uncomparable: bool = False) -> str:
    """``vidbench leaderboard export``: all run records under ``runs`` in one table (deterministic output)."""
    from vidbench.records import find_records

    runs = list(runs)
    if fmt not in FORMATS:
        raise VidbenchError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    df = leaderboard_frame(find_records(*runs), include_uncomparable)
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
        return buf.getvalue()
    names = _metric_names(df)
    header = ["Run", "Dataset", "Split", "Seeds"] + names
    grid_rows = []
    for _, r in df.iterrows():
        line = [(str(r["row"]), False, []), (str(r["dataset"]), False, []), (str(r["split"]), False, []),
                (str(r["seeds"]), False, [])]
        for n in names:
            v = r.get(n)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                line.append((DASH, False, []))
                continue
            s = r.get(f"{n}.std")
            c = Cell(value=float(v), std=None if s is None or (isinstance(s, float) and math.isnan(s)) else float(s),
                     n_runs=int(r[f"{n}.n_runs"]))
            flag = "" if bool(r[f"{n}.comparable"]) else "*"
            line.append((format_cell(c, 4) + flag, False, []))
        grid_rows.append(line)
    g = _Grid(title=f"Leaderboard ({len(df)} rows)", header=header, rows=grid_rows)
    protos = []
    for n in names:
        ids = sorted({x for x in df[f"{n}.protocol_id"].dropna() for x in str(x).split()})
        ns = sorted({str(int(x)) for x in df[f"{n}.n"].dropna()})
        protos.append(f"{n}: protocol id {', '.join(ids)}; N {', '.join(ns) or 'unrecorded'}")
    notes = protos + (["* comparable: false (listed because of --include-uncomparable)"] if include_uncomparable
                      else ["values marked comparable: false are left out (--include-uncomparable lists them)"])
    spec = TableSpec(table="leaderboard", title=g.title, dataset=None, task="", columns=(), rows=())
    res = TableResult(spec=spec, main_rows=[], extra_cols=[], extra_rows=[], citations=[], reasons=[])
    if fmt == "md":
        return _grid_markdown(g, notes)
    if fmt == "latex":
        return _grid_latex(g, notes, res)
    return _grid_html(g, notes)


__all__ = ["TABLES", "FORMATS", "leaderboards_dir", "load_published", "load_spec", "build_table", "render",
           "paper_table", "measured_values", "table_frame", "format_number", "format_std", "latex_escape",
           "row_name", "base_name", "leaderboard_frame", "export_leaderboard"]
