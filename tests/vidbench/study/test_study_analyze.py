"""`vidbench study analyze`: intervals against independent computations, counts against designed answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from vidbench.study.analyze import (
    AnalyzeConfig,
    analyze,
    cluster_bootstrap_ci,
    fleiss_kappa,
    loo_majority_agreement,
    render_table,
    wilson_interval,
)
from vidbench.study.build import StudyConfig, build_study
from vidbench.study.schema import RESULT_SCHEMA


# ------------------------------------------------------------------------------------------------ statistics
@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (73, 100), (221, 300), (1, 2), (500, 1000)])
def test_wilson_matches_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)


def test_wilson_hand_case():
    # k=0, n=10: centre = half = (z²/2)/(n+z²) = 1.920729/13.841459 -> (0, 0.277533)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(2 * 1.920729 / 13.841459, abs=1e-6)


def test_fleiss_kappa_hand_case():
    # 3 raters, 4 items: P_i = 1, 1, 1, 1/3 -> P̄ = 5/6; p = (2/3, 1/3) -> P_e = 5/9; κ = (5/6 - 5/9) / (4/9) = 5/8
    assert fleiss_kappa(np.array([[3, 0], [0, 3], [3, 0], [2, 1]])) == pytest.approx(0.625)
    assert fleiss_kappa(np.array([[3, 0], [3, 0]])) is None  # P_e = 1: undefined


def test_leave_one_out_agreement_hand_case():
    votes = np.array([[1, 1, 0, 0], [1, 0, 0, 1], [1, 1, 1, 0]])
    # rater 0: others' majority only on item 0 (=1, agrees); rater 1: items 0 (agree), 1 (no), 3 (no);
    # rater 2: items 0 (agree), 2 (no)
    assert loo_majority_agreement(votes) == pytest.approx([1.0, 1 / 3, 0.5])


def test_cluster_bootstrap_std_matches_the_cluster_formula():
    # equal n per rater: the pooled share is the mean of the rater shares; the bootstrap std of that mean is the plug-in
    # standard error sqrt(Σ (p_r - p̄)² / R²)
    rng = np.random.default_rng(0)
    n = np.full(25, 40)
    k = rng.binomial(40, rng.beta(2, 1, size=25))
    p = k / n
    se = math.sqrt(((p - p.mean()) ** 2).sum() / len(p) ** 2)
    lo, hi, std = cluster_bootstrap_ci([(k, n)], n_boot=20000, seed=1)
    assert std == pytest.approx(se, rel=0.04)
    assert lo < k.sum() / n.sum() < hi
    assert cluster_bootstrap_ci([(np.array([7]), np.array([10]))], n_boot=200)[:2] == (0.7, 0.7)  # one rater


def _coverage(rater_p, n_raters, n_per, sims, rng):
    boot_hits = wilson_hits = 0
    for s in range(sims):
        p_r = rater_p(rng, n_raters)
        k = rng.binomial(n_per, p_r)
        n = np.full(n_raters, n_per)
        lo, hi, _ = cluster_bootstrap_ci([(k, n)], n_boot=500, seed=s)
        wlo, whi = wilson_interval(int(k.sum()), int(n.sum()))
        boot_hits += lo <= 0.65 <= hi
        wilson_hits += wlo <= 0.65 <= whi
    return boot_hits / sims, wilson_hits / sims


def test_clustered_bootstrap_coverage_with_simulated_raters():
    """Raters differ (rater share ~ Beta(1.3, 0.7), mean 0.65): the clustered interval keeps ~95 % coverage of the
    population preference, Wilson (judgements as independent) does not; with identical raters both are fine."""
    rng = np.random.default_rng(123)
    boot, wil = _coverage(lambda g, r: g.beta(1.3, 0.7, size=r), 30, 30, 300, rng)
    assert 0.88 <= boot <= 0.99
    assert wil < boot - 0.2
    boot_h, wil_h = _coverage(lambda g, r: np.full(r, 0.65), 30, 30, 300, rng)
    assert 0.88 <= boot_h <= 0.99 and 0.9 <= wil_h <= 0.99


# ------------------------------------------------------------------------------------------------ end to end
def _answers(manifest: dict, prefer: dict[str, str], check_ok: bool = True) -> list[dict]:
    """Answers by method: ``prefer[trial id]`` = "A"/"B" for pairs; checks right (or wrong); identical -> left."""
    out = []
    for i, t in enumerate(manifest["trials"]):
        if t["kind"] == "pair":
            side = "left" if t["left"]["role"] == prefer[t["id"]] else "right"
        elif t["kind"] == "check":
            side = t["correct"] if check_ok else ("right" if t["correct"] == "left" else "left")
        else:
            side = "left"
        out.append({"trial": t["id"], "choice": side, "rt_ms": 900, "position": i})
    return out


def _write(study: Path, m: dict, rater: str, answers: list[dict], name: str | None = None,
           finished: str = "2026-12-01T10:00:00Z") -> Path:
    obj = {"schema": RESULT_SCHEMA, "study_id": m["study_id"], "rater_id": rater, "started_at": finished,
           "finished_at": finished, "answers": answers}
    p = study / "results" / (name or f"{rater}.json")
    p.write_text(json.dumps(obj))
    return p


@pytest.fixture(scope="module")
def rounds(two_runs, tmp_path_factory):
    a, b = two_runs
    base = tmp_path_factory.mktemp("an")
    out = []
    for seed in (0, 1):
        d = build_study(StudyConfig(a=str(a), b=str(b), pairs=4, checks=2, identical=1, seed=seed), base / f"r{seed}",
                        progress=False)
        out.append((d, json.loads((d / "manifest.json").read_text())))
    return out


def test_counts_exclusions_duplicates_and_rejections(rounds, tmp_path):
    (d, m), _ = rounds
    pairs = [t["id"] for t in m["trials"] if t["kind"] == "pair"]
    # rater x: A on all 4; rater y: A on 3; rater z: A on 1; rater bad fails the checks (A on 4, excluded)
    design = {"x": 4, "y": 3, "z": 1}
    for r, n_a in design.items():
        _write(d, m, r, _answers(m, {t: ("A" if i < n_a else "B") for i, t in enumerate(pairs)}))
    _write(d, m, "bad", _answers(m, {t: "A" for t in pairs}, check_ok=False))
    _write(d, m, "x", _answers(m, {t: "B" for t in pairs}), name="x-later.json", finished="2026-12-01T11:00:00Z")
    (d / "results" / "broken.json").write_text("{nope")
    other = dict(json.loads((d / "results" / "z.json").read_text()), study_id="0123456789ab")
    (d / "results" / "other.json").write_text(json.dumps(other))
    try:
        res = analyze([d], cfg=AnalyzeConfig(n_boot=500))
    finally:
        for f in ("broken.json", "other.json", "x-later.json", "bad.json", "x.json", "y.json", "z.json"):
            (d / "results" / f).unlink()
    (c,) = res["comparisons"]
    assert (c["method_a"], c["method_b"]) == ("Ours", "Baseline")
    assert c["judgements"] == 12 and c["chose_a"] == 8  # 4 + 3 + 1 of 3 x 4
    assert c["pref_a_pct"] == pytest.approx(100 * 8 / 12) and c["pref_b_pct"] == pytest.approx(100 * 4 / 12)
    assert c["raters_included"] == 3 and c["raters_excluded"] == 1
    assert c["left_identical_pct"] == 100.0 and c["identical_judgements"] == 3
    ref = binomtest(8, 12).proportion_ci(method="wilson")
    assert c["ci95_wilson_pct"] == pytest.approx([100 * ref.low, 100 * ref.high])
    lo, hi = c["ci95_bootstrap_pct"]
    assert 100 * 1 / 4 - 1e-9 <= lo <= c["pref_a_pct"] <= hi <= 100.0  # between the extreme raters' shares
    assert len(res["duplicate_files"]) == 1 and res["duplicate_files"][0]["path"].endswith("x-later.json")
    assert sorted(Path(r["path"]).name for r in res["rejected_files"]) == ["broken.json", "other.json"]
    md = render_table(res, "md")
    assert "| Ours vs Baseline | 66.7 / 33.3 |" in md and "3 (1)" in md
    tex = render_table(res, "latex")
    assert r"\toprule" in tex and "Ours vs Baseline" in tex
    csv = render_table(res, "csv").splitlines()
    assert csv[0].startswith("method_a,method_b") and len(csv) == 2


def test_rounds_averaged_like_the_paper(rounds):
    # round 0: 2 raters, A on 4/4 and 2/4 -> 75 %; round 1: 1 rater with A on 1/4 -> 25 %
    written = []
    for (d, m), plan in zip(rounds, ({"p": 4, "q": 2}, {"s": 1})):
        pairs = [t["id"] for t in m["trials"] if t["kind"] == "pair"]
        for r, n_a in plan.items():
            written.append(_write(d, m, r, _answers(m, {t: ("A" if i < n_a else "B") for i, t in enumerate(pairs)})))
    try:
        avg = analyze([rounds[0][0], rounds[1][0]], cfg=AnalyzeConfig(rounds="average", n_boot=300))
        pool = analyze([rounds[0][0], rounds[1][0]], cfg=AnalyzeConfig(rounds="pool", n_boot=300))
    finally:
        for p in written:
            p.unlink()
    (ca,), (cp,) = avg["comparisons"], pool["comparisons"]
    assert ca["rounds"] == 2 and ca["pref_a_pct"] == pytest.approx((75 + 25) / 2)
    assert cp["pref_a_pct"] == pytest.approx(100 * 7 / 12)
    assert sorted(r["pref_a_pct"] for r in ca["per_round"]) == pytest.approx([25.0, 75.0])


def test_cli_writes_table_chart_and_records(rounds, tmp_path):
    from vidbench.cli import cli
    from vidbench.records import find_records

    (d, m), _ = rounds
    pairs = [t["id"] for t in m["trials"] if t["kind"] == "pair"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for r, n_a in {"u": 3, "v": 2}.items():
        obj = {"schema": RESULT_SCHEMA, "study_id": m["study_id"], "rater_id": r,
               "answers": _answers(m, {t: ("A" if i < n_a else "B") for i, t in enumerate(pairs)})}
        (downloads / f"{r}.json").write_text(json.dumps(obj))
    out = tmp_path / "analysis"
    res = CliRunner().invoke(cli, ["study", "analyze", str(downloads), "--study", str(d), "--paper", "2",
                                   "--bootstrap", "200", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "| Ours vs Baseline | 62.5 / 37.5 |" in res.output
    assert "Measured only" in res.output and "2afc" in res.output  # paper Table 2 via vidbench.tables
    assert (out / "preference.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    recs = find_records(out / "records")
    assert len(recs) == 1 and recs[0][1]["task"] == "study" and recs[0][1]["label"] == "Ours vs Baseline"
    assert recs[0][1]["metrics"]["2afc"]["value"] == pytest.approx(62.5)
    assert recs[0][1]["metrics"]["2afc"]["comparable"] is False
    assert recs[0][1]["metrics"]["2afc"]["n_fake"] == 4  # distinct A videos in the 4 pairs (6 available)
    j = CliRunner().invoke(cli, ["study", "analyze", str(downloads), "--study", str(d), "--json", "--bootstrap", "200"])
    assert j.exit_code == 0 and json.loads(j.output)["comparisons"][0]["chose_a"] == 5
    r2 = CliRunner().invoke(cli, ["study", "analyze", str(tmp_path / "missing")])
    assert r2.exit_code == 2 and "no such file" in r2.output
