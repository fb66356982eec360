"""`vidbench study analyze`: preference % per method with intervals that respect rater clustering.

Inputs: study folders (``manifest.json`` + ``results/*.json``), result files (downloaded from the page) and folders of
result files. A result file is matched to its manifest by ``study_id``: from the study folders given, ``--study``
folders, or the folder above a ``results/`` folder. Files that fail the schema, whose study is unknown, or that
repeat a (study, rater) pair already read (the earliest ``finished_at`` is kept) are counted and listed, never used.

Per rater session: the attention checks (known answer) decide inclusion — a rater whose check accuracy is below
``min_check_accuracy`` (default 1.0: every check right) is excluded and counted; identical pairs only measure the
left/right bias (share of "left" answers) and never exclude anyone.

A *comparison* is (label A, label B, question, grid); each study folder built for it is one *round* (the paper runs
5 rounds and averages, App. B "AMT Experiments"). Numbers per comparison:

- preference for A (and B = 100 - A) in %: ``rounds="pool"`` pools every judgement of the included raters;
  ``rounds="average"`` (the paper's mode) is the mean of the per-round percentages;
- 95 % interval by the rater-clustered bootstrap (:func:`cluster_bootstrap_ci`): raters are resampled with
  replacement (within each round; stratified), all their judgements travel together, the statistic is recomputed,
  percentile interval. It widens when raters disagree with each other, which the binomial interval ignores;
- the Wilson score interval (:func:`wilson_interval`) of the pooled judgements, for reference (it treats every
  judgement as independent, so it is too narrow when raters differ);
- per-rater agreement: the share of a rater's pair judgements that match the majority of the *other* included raters
  of the same round on the same trial (ties skipped), and Fleiss' kappa per round (:func:`fleiss_kappa`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidbench.errors import VidbenchError
from vidbench.study.build import load_manifest
from vidbench.study.schema import MAX_RESULT_BYTES, ResultError, validate_result

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


# ------------------------------------------------------------------------------------------------ statistics
def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (Wilson, JASA 1927), as fractions in [0, 1].

    centre = (k + z²/2) / (n + z²);  half = z / (n + z²) · sqrt(k (n - k) / n + z²/4).
    """
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"k={k} outside [0, n={n}]")
    z2 = z * z
    centre = (k + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4.0)
    return (max(0.0, centre - half), min(1.0, centre + half))


def cluster_bootstrap_ci(strata: list[tuple[np.ndarray, np.ndarray]], *, mode: str = "pool", n_boot: int = 2000,
                         seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Percentile interval of the preference when raters (clusters) are resampled with replacement.

    ``strata``: one ``(k, n)`` pair of integer arrays per round; ``k[r]`` = judgements of rater ``r`` for A, ``n[r]``
    = rater ``r``'s judgements. Raters are resampled within each round. Statistic: ``pool`` = sum k / sum n over all
    rounds; ``average`` = mean over rounds of (sum k / sum n). Returns ``(lo, hi, bootstrap std)`` as fractions.
    """
    if mode not in ("pool", "average"):
        raise ValueError("mode must be pool or average")
    rng = np.random.default_rng(seed)
    ks, ns = [], []
    for k, n in strata:
        k = np.asarray(k, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        if len(k) == 0 or n.sum() == 0:
            continue
        idx = rng.integers(0, len(k), size=(n_boot, len(k)))  # [B, R] resampled rater indices
        ks.append(k[idx].sum(axis=1))
        ns.append(n[idx].sum(axis=1))
    if not ks:
        return (math.nan, math.nan, math.nan)
    K, N = np.stack(ks), np.stack(ns)  # [S, B]
    stat = K.sum(0) / N.sum(0) if mode == "pool" else (K / np.maximum(N, 1)).mean(0)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(stat, [a, 1.0 - a])
    return (float(lo), float(hi), float(stat.std(ddof=1)) if n_boot > 1 else math.nan)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa for ``counts[i, j]`` = raters who put item ``i`` in category ``j`` (same number m per item).

    P_i = (Σ_j n_ij² - m) / (m (m - 1)),  P̄ = mean P_i,  p_j = Σ_i n_ij / (N m),  P_e = Σ_j p_j²,
    κ = (P̄ - P_e) / (1 - P_e). None when undefined (fewer than 2 raters or items, or P_e = 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] < 1:
        return None
    m = counts.sum(1)
    if np.any(m != m[0]) or m[0] < 2:
        return None
    m = m[0]
    p_i = ((counts ** 2).sum(1) - m) / (m * (m - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(0) / (counts.shape[0] * m)
    p_e = float((p_j ** 2).sum())
    if abs(1.0 - p_e) < 1e-12:
        return None
    return float((p_bar - p_e) / (1.0 - p_e))


def loo_majority_agreement(votes: np.ndarray) -> list[float | None]:
    """Per rater: share of items where the rater matches the majority of the *other* raters (ties skipped).

    ``votes``: [raters, items] of 0/1 (1 = chose A). None for a rater with no untied item.
    """
    votes = np.asarray(votes, dtype=np.int64)
    R = votes.shape[0]
    out: list[float | None] = []
    if R < 2:
        return [None] * R
    total = votes.sum(0)  # [items]
    for r in range(R):
        others_a = total - votes[r]
        others_n = R - 1
        maj = np.where(2 * others_a > others_n, 1, np.where(2 * others_a < others_n, 0, -1))
        keep = maj >= 0
        out.append(float((votes[r][keep] == maj[keep]).mean()) if keep.any() else None)
    return out


# ------------------------------------------------------------------------------------------------ reading
@dataclass
class Session:
    """One rater's answers to one study, decoded through the manifest."""

    path: str
    study_id: str
    rater_id: str
    finished_at: str
    checks_total: int = 0
    checks_correct: int = 0
    identical_total: int = 0
    identical_left: int = 0
    pair_a: dict[str, int] = field(default_factory=dict)  # pair trial id -> 1 chose A, 0 chose B
    pair_left: int = 0  # pair judgements answered "left"

    @property
    def check_accuracy(self) -> float | None:
        return self.checks_correct / self.checks_total if self.checks_total else None


def decode_session(result: dict, manifest: dict, path: str = "") -> Session:
    """Turn a validated result into per-kind counts using the manifest's sides and known answers."""
    trials = {t["id"]: t for t in manifest["trials"]}
    s = Session(path=path, study_id=result["study_id"], rater_id=result["rater_id"],
                finished_at=str(result.get("finished_at", "")))
    for a in result["answers"]:
        t = trials[a["trial"]]
        choice = a["choice"]
        if t["kind"] == "check":
            s.checks_total += 1
            s.checks_correct += int(choice == t["correct"])
        elif t["kind"] == "identical":
            s.identical_total += 1
            s.identical_left += int(choice == "left")
        else:
            s.pair_a[t["id"]] = int(t[choice]["role"] == "A")
            s.pair_left += int(choice == "left")
    return s


def _study_dirs_upwards(path: Path) -> list[Path]:
    out = []
    for parent in [path.parent, *path.parents][:3]:
        if (parent / "manifest.json").is_file():
            out.append(parent)
    return out


def collect(inputs: list[str | os.PathLike], studies: list[str | os.PathLike] = ()) -> tuple[
        dict[str, dict], list[tuple[Path, dict]], list[tuple[str, str]]]:
    """Manifests by study id, parsed results (path, obj) and rejected files (path, reason)."""
    manifests: dict[str, dict] = {}
    files: list[Path] = []

    def add_manifest(d: Path) -> None:
        m = load_manifest(d)
        manifests.setdefault(m["study_id"], m)

    for s in studies:
        add_manifest(Path(s))
    for p in map(Path, inputs):
        if not p.exists():
            raise VidbenchError(f"{p}: no such file or folder; pass study folders or result JSON files")
        if p.is_dir():
            if (p / "manifest.json").is_file():
                add_manifest(p)
                files += sorted((p / "results").glob("*.json")) if (p / "results").is_dir() else []
            else:
                files += sorted(q for q in p.rglob("*.json") if q.name != "manifest.json")
        else:
            files.append(p)
    for f in files:
        for d in _study_dirs_upwards(f):
            add_manifest(d)
    results: list[tuple[Path, dict]] = []
    rejected: list[tuple[str, str]] = []
    for f in dict.fromkeys(files):
        try:
            if f.stat().st_size > MAX_RESULT_BYTES:
                raise ResultError(f"larger than {MAX_RESULT_BYTES} bytes")
            obj = json.loads(f.read_text(encoding="utf-8"))
            sid = obj.get("study_id") if isinstance(obj, dict) else None
            m = manifests.get(sid) if isinstance(sid, str) else None
            if m is None:
                validate_result(obj)
                raise ResultError(f"no manifest for study {sid}; pass its study folder (or --study DIR)")
            validate_result(obj, study_id=m["study_id"], trial_ids={t["id"] for t in m["trials"]})
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            rejected.append((str(f), f"unreadable JSON ({type(e).__name__})"))
            continue
        except ResultError as e:
            rejected.append((str(f), str(e)))
            continue
        results.append((f, obj))
    return manifests, results, rejected


# ------------------------------------------------------------------------------------------------ analysis
@dataclass(frozen=True)
class AnalyzeConfig:
    rounds: str = "pool"  # "pool" | "average" (the paper: 5 rounds averaged)
    min_check_accuracy: float = 1.0
    n_boot: int = 2000
    seed: int = 0


def _pct(x: float) -> float:
    return 100.0 * x


def analyze(inputs: list[str | os.PathLike], studies: list[str | os.PathLike] = (),
            cfg: AnalyzeConfig = AnalyzeConfig()) -> dict:
    """Read results and return the JSON-able analysis (one entry per comparison)."""
    if cfg.rounds not in ("pool", "average"):
        raise VidbenchError(f"--rounds must be pool or average, got {cfg.rounds!r}")
    if not 0.0 <= cfg.min_check_accuracy <= 1.0:
        raise VidbenchError("--min-check-accuracy must be in [0, 1]")
    manifests, results, rejected = collect(list(inputs), list(studies))
    # one session per (study, rater): the earliest finished
    sessions: dict[tuple[str, str], Session] = {}
    duplicates: list[tuple[str, str]] = []
    for path, obj in sorted(results, key=lambda t: (str(t[1].get("finished_at", "")), str(t[0]))):
        s = decode_session(obj, manifests[obj["study_id"]], str(path))
        key = (s.study_id, s.rater_id)
        if key in sessions:
            duplicates.append((str(path), f"rater {s.rater_id} already answered study {s.study_id} "
                                          f"({Path(sessions[key].path).name})"))
            continue
        sessions[key] = s
    comps: dict[tuple, dict[str, list[Session]]] = {}
    for (sid, _), s in sessions.items():
        m = manifests[sid]
        key = (m["labels"]["A"], m["labels"]["B"], m["question"], int(m["grid"]))
        comps.setdefault(key, {}).setdefault(sid, []).append(s)
    out = []
    for (la, lb, question, grid), rounds in comps.items():
        out.append(_comparison(la, lb, question, grid, rounds, manifests, cfg))
    if not out and not rejected and not duplicates:
        raise VidbenchError("no results found; pass study folders (with results/) or result JSON files")
    return {"schema": "vidbench.study_analysis.v1", "config": cfg.__dict__, "comparisons": out,
            "rejected_files": [{"path": p, "reason": r} for p, r in rejected],
            "duplicate_files": [{"path": p, "reason": r} for p, r in duplicates]}


def _comparison(la: str, lb: str, question: str, grid: int, rounds: dict[str, list[Session]],
                manifests: dict[str, dict], cfg: AnalyzeConfig) -> dict:
    per_round = []
    strata = []
    per_rater = []
    k_all = n_all = 0
    excluded = 0
    ident_left = ident_total = 0
    pair_left = 0
    for sid in sorted(rounds):
        ss = sorted(rounds[sid], key=lambda s: s.rater_id)
        inc = []
        for s in ss:
            acc = s.check_accuracy
            ok = acc is None or acc + 1e-12 >= cfg.min_check_accuracy
            if not ok:
                excluded += 1
            else:
                inc.append(s)
            per_rater.append({"study_id": sid, "rater_id": s.rater_id, "included": ok,
                              "checks": f"{s.checks_correct}/{s.checks_total}", "judgements": len(s.pair_a),
                              "pref_a_pct": _pct(sum(s.pair_a.values()) / len(s.pair_a)) if s.pair_a else None,
                              "agreement": None, "file": s.path})
        pair_ids = sorted(t["id"] for t in manifests[sid]["trials"] if t["kind"] == "pair")
        k = np.array([sum(s.pair_a.values()) for s in inc], dtype=np.int64)
        n = np.array([len(s.pair_a) for s in inc], dtype=np.int64)
        strata.append((k, n))
        k_all += int(k.sum())
        n_all += int(n.sum())
        ident_left += sum(s.identical_left for s in inc)
        ident_total += sum(s.identical_total for s in inc)
        pair_left += sum(s.pair_left for s in inc)
        votes = np.array([[s.pair_a[t] for t in pair_ids] for s in inc], dtype=np.int64).reshape(len(inc),
                                                                                                  len(pair_ids))
        agree = loo_majority_agreement(votes) if len(inc) else []
        by_rater = {s.rater_id: a for s, a in zip(inc, agree)}
        for row in per_rater:
            if row["study_id"] == sid and row["rater_id"] in by_rater:
                row["agreement"] = by_rater[row["rater_id"]]
        kappa = fleiss_kappa(np.stack([votes.sum(0), len(inc) - votes.sum(0)], axis=1)) if len(inc) >= 2 else None
        per_round.append({"study_id": sid, "raters": len(ss), "included": len(inc), "judgements": int(n.sum()),
                          "pref_a_pct": _pct(k.sum() / n.sum()) if n.sum() else None, "fleiss_kappa": kappa})
    valid_rounds = [r for r in per_round if r["pref_a_pct"] is not None]
    if cfg.rounds == "average" and valid_rounds:
        pref = float(np.mean([r["pref_a_pct"] for r in valid_rounds]))
    else:
        pref = _pct(k_all / n_all) if n_all else math.nan
    lo, hi, bstd = cluster_bootstrap_ci(strata, mode=cfg.rounds, n_boot=cfg.n_boot, seed=cfg.seed)
    wlo, whi = wilson_interval(k_all, n_all)
    agreements = [r["agreement"] for r in per_rater if r["agreement"] is not None]
    included = sum(r["included"] for r in valid_rounds) if valid_rounds else 0
    notes = []
    if included < 2:
        notes.append("fewer than 2 included raters: the clustered interval cannot show rater variation")
    if not any(t["kind"] == "check" for sid in rounds for t in manifests[sid]["trials"]):
        notes.append("no attention checks in these studies: nobody could be excluded")
    ilo, ihi = wilson_interval(ident_left, ident_total)
    datasets = [manifests[sid]["sources"][k].get("dataset") for sid in rounds for k in ("A", "B")]
    videos = max(len({t[s]["unit"] for t in manifests[sid]["trials"] if t["kind"] == "pair" for s in ("left", "right")
                      if t[s]["role"] == "A"}) for sid in rounds)
    return {
        "method_a": la, "method_b": lb, "question": question, "grid": grid, "mode": cfg.rounds,
        "dataset": datasets[0] if datasets[0] is not None and all(d == datasets[0] for d in datasets) else None,
        "videos_per_method": videos,
        "rounds": len(rounds), "study_ids": sorted(rounds),
        "raters": sum(r["raters"] for r in per_round), "raters_included": included, "raters_excluded": excluded,
        "judgements": n_all, "chose_a": k_all,
        "pref_a_pct": pref, "pref_b_pct": 100.0 - pref if math.isfinite(pref) else math.nan,
        "ci95_bootstrap_pct": [_pct(lo), _pct(hi)], "bootstrap_std_pct": _pct(bstd), "n_boot": cfg.n_boot,
        "ci95_wilson_pct": [_pct(wlo), _pct(whi)],
        "agreement_mean": float(np.mean(agreements)) if agreements else None,
        "left_identical_pct": _pct(ident_left / ident_total) if ident_total else None,
        "left_identical_ci95_pct": [_pct(ilo), _pct(ihi)] if ident_total else None,
        "identical_judgements": ident_total,
        "left_pairs_pct": _pct(pair_left / n_all) if n_all else None,
        "per_round": per_round, "per_rater": per_rater, "notes": notes,
    }


# ------------------------------------------------------------------------------------------------ output
def _no_nan(o):
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _no_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_no_nan(v) for v in o]
    return o


def to_json(analysis: dict) -> str:
    """The analysis as strict JSON (NaN/inf -> null)."""
    return json.dumps(_no_nan(analysis), indent=2) + "\n"


COLUMNS = ["Method", "Human Preference (%)", "95% CI (rater bootstrap)", "95% CI (Wilson)", "Judgements",
           "Raters (excluded)", "Rounds", "Agreement", "Left on identical (%)"]


def _fmt_ci(ci) -> str:
    return "-" if ci is None or any(not math.isfinite(x) for x in ci) else f"{ci[0]:.1f}-{ci[1]:.1f}"


def table_rows(analysis: dict) -> list[list[str]]:
    """One row per comparison in the paper's layout (Tables 2/5/8: "A vs B | a / b") plus the uncertainty."""
    rows = []
    for c in analysis["comparisons"]:
        pref = "-" if not math.isfinite(c["pref_a_pct"]) else f"{c['pref_a_pct']:.1f} / {c['pref_b_pct']:.1f}"
        rows.append([f"{c['method_a']} vs {c['method_b']}", pref, _fmt_ci(c["ci95_bootstrap_pct"]),
                     _fmt_ci(c["ci95_wilson_pct"]), str(c["judgements"]),
                     f"{c['raters_included']} ({c['raters_excluded']})",
                     f"{c['rounds']} ({'averaged' if c['mode'] == 'average' else 'pooled'})",
                     "-" if c["agreement_mean"] is None else f"{c['agreement_mean']:.2f}",
                     "-" if c["left_identical_pct"] is None else
                     f"{c['left_identical_pct']:.0f} (n={c['identical_judgements']})"])
    return rows


def table_notes(analysis: dict) -> list[str]:
    cfg = analysis["config"]
    notes = [f"2AFC; preference for the first method / the second; 95% CI: raters resampled with replacement "
             f"({cfg['n_boot']} bootstrap draws, within each round), Wilson for reference (treats judgements as "
             "independent).",
             f"Raters with attention-check accuracy below {cfg['min_check_accuracy']:.2f} excluded (count in "
             "brackets); identical pairs only measure left/right bias. Agreement: share of a rater's choices that "
             "match the majority of the other raters."]
    for c in analysis["comparisons"]:
        for n in c["notes"]:
            notes.append(f"{c['method_a']} vs {c['method_b']}: {n}")
    if analysis["rejected_files"]:
        notes.append(f"{len(analysis['rejected_files'])} result file(s) rejected (schema/unknown study).")
    if analysis["duplicate_files"]:
        notes.append(f"{len(analysis['duplicate_files'])} duplicate submission(s) ignored (same rater, same study).")
    return notes


def render_table(analysis: dict, fmt: str = "md") -> str:
    """Markdown / LaTeX through the grid renderers of :mod:`vidbench.tables`; CSV one line per comparison."""
    rows = table_rows(analysis)
    if fmt == "csv":
        import io

        import pandas as pd

        flat = []
        for c in analysis["comparisons"]:
            flat.append({k: c[k] for k in ("method_a", "method_b", "question", "grid", "mode", "rounds", "raters",
                                            "raters_included", "raters_excluded", "judgements", "chose_a",
                                            "pref_a_pct", "pref_b_pct", "bootstrap_std_pct", "n_boot",
                                            "agreement_mean", "left_identical_pct", "identical_judgements")}
                        | {"ci95_bootstrap_lo": c["ci95_bootstrap_pct"][0], "ci95_bootstrap_hi": c["ci95_bootstrap_pct"][1],
                           "ci95_wilson_lo": c["ci95_wilson_pct"][0], "ci95_wilson_hi": c["ci95_wilson_pct"][1],
                           "study_ids": " ".join(c["study_ids"])})
        buf = io.StringIO()
        pd.DataFrame(flat).to_csv(buf, index=False, lineterminator="\n", float_format="%.6g")
        return buf.getvalue()
    from vidbench import tables

    grid = tables._Grid(title="Human preference (2AFC)", header=list(COLUMNS),
                        rows=[[(cell, False, []) for cell in r] for r in rows])
    if fmt == "md":
        return tables._grid_markdown(grid, table_notes(analysis))
    if fmt == "latex":
        return tables._grid_latex(grid, table_notes(analysis))
    raise VidbenchError(f"unknown format {fmt!r}; use md, csv or latex")


def study_records(analysis: dict) -> list[tuple[None, dict]]:
    """One run record (task ``study``, metric ``2afc``) per comparison, for ``vidbench.tables`` / leaderboards.

    Never comparable with the paper's numbers: a different rater pool and different stimuli than its AMT study.
    """
    from vidbench.records import metric_result, new_record

    out = []
    for c in analysis["comparisons"]:
        protocol = {"name": "2afc", "question": c["question"], "grid": c["grid"], "mode": c["mode"],
                    "ci": "rater-clustered bootstrap", "n_boot": c["n_boot"],
                    "min_check_accuracy": analysis["config"]["min_check_accuracy"]}
        reasons = ["human study with its own raters and stimuli (not the paper's AMT study)"]
        m = metric_result(value=c["pref_a_pct"], protocol=protocol, detector=None, weights_hash=None,
                          weights_verified=None, comparable=False, comparable_reasons=reasons, elapsed_s=0.0,
                          std=c["bootstrap_std_pct"], ci95=tuple(c["ci95_bootstrap_pct"]),
                          n_fake=c["videos_per_method"],
                          extra={"second_method_pct": c["pref_b_pct"], "judgements": c["judgements"],
                                 "raters_included": c["raters_included"], "raters_excluded": c["raters_excluded"],
                                 "rounds": c["rounds"], "study_ids": c["study_ids"],
                                 "ci95_wilson_pct": c["ci95_wilson_pct"]})
        rec = new_record(model=None, dataset=c["dataset"], seed=None, metrics={"2afc": m}, task="study",
                         label=f"{c['method_a']} vs {c['method_b']}")
        out.append((None, rec))
    return out


def bar_chart(analysis: dict, path: str | os.PathLike) -> Path:
    """Horizontal bars: preference for the first method (blue) and the second (orange) per comparison, the
    rater-clustered bootstrap 95 % CI as an error bar, and the 50 % line."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    comps = analysis["comparisons"]
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.9 * max(1, len(comps))))
    for i, c in enumerate(comps):
        a = c["pref_a_pct"] if math.isfinite(c["pref_a_pct"]) else 0.0
        ax.barh(i, a, color="#2f6fd6", label="first method" if i == 0 else None)
        ax.barh(i, 100.0 - a, left=a, color="#d9822b", label="second method" if i == 0 else None)
        lo, hi = c["ci95_bootstrap_pct"]
        if math.isfinite(lo) and math.isfinite(hi):
            ax.errorbar(a, i, xerr=[[a - lo], [hi - a]], color="k", capsize=5, lw=1.6, zorder=3)
        ax.text(2, i, f"{a:.1f}%", va="center", ha="left", color="w", fontsize=10, fontweight="bold")
        ax.text(98, i, f"{100 - a:.1f}%", va="center", ha="right", color="w", fontsize=10, fontweight="bold")
    ax.axvline(50, color="0.2", ls="--", lw=0.8, zorder=2)
    labels = ["\n".join(textwrap.wrap(f"{c['method_a']}  vs  {c['method_b']}", 34)) for c in comps]
    ax.set_yticks(range(len(comps)), labels, fontsize=9)
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("human preference (%); error bar: 95% CI, rater-clustered bootstrap")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(comps) < 2 else -0.2), ncol=2, frameon=False,
              fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from vidbench.cache import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
