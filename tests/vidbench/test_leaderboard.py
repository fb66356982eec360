"""`vidbench leaderboard export`: one row per (label or model+checkpoint, dataset), one column per protocol."""

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from vidbench.records import metric_result, new_record, new_run_dir, write_result
from vidbench.tables import export_leaderboard


def _m(value, n, *, comparable=True, reasons=(), std=None, whash="a" * 64):
    return metric_result(value=value, protocol={"n": n}, detector="i3d", weights_hash=whash,
                         weights_verified="sha256", comparable=comparable, elapsed_s=1.0, n_real=n, n_fake=n,
                         comparable_reasons=reasons, std=std)


def _run(root, *, label, dataset, metrics, seed=0, model="mocohd", checkpoint="runs/x/ck.pt"):
    d = new_run_dir(root, model, dataset)
    write_result(d, new_record(model=model, dataset={"name": dataset, "split": "test", "fingerprint": None},
                               seed=seed, metrics=metrics, checkpoint=checkpoint, checkpoint_hash="c" * 64,
                               label=label))
    return d


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    _run(root, label="full", dataset="moving_mnist", seed=0,
         metrics={"fvd64_16f": _m(100.0, 64), "motion_div8x4_16f": _m(0.2, 32, comparable=False,
                                                                     reasons=["K=8 < 100"])})
    _run(root, label="full", dataset="moving_mnist", seed=1, metrics={"fvd64_16f": _m(110.0, 64)})
    _run(root, label=None, dataset="synthetic_sky", metrics={"fvd64_16f": _m(50.0, 64, std=2.0)},
         checkpoint="/somewhere/motion")
    return root


def test_csv_rows_columns_and_merging(runs):
    df = pd.read_csv(io.StringIO(export_leaderboard([runs], "csv")))
    assert list(df["row"]) == ["full", "mocohd (motion)"]  # sorted; no label -> model (checkpoint name)
    full = df.iloc[0]
    assert full["dataset"] == "moving_mnist" and full["n_runs"] == 2 and full["seeds"] == "0 1"
    assert full["fvd64_16f"] == pytest.approx(105.0)  # mean of 100, 110
    assert full["fvd64_16f.std"] == pytest.approx(7.0710678118)  # sample std of (100, 110) = 10 / sqrt(2)
    assert full["fvd64_16f.n"] == 64 and full["fvd64_16f.n_runs"] == 2 and full["split"] == "test"
    assert len(full["fvd64_16f.protocol_id"]) == 12 and full["fvd64_16f.weights_hash"] == "a" * 16
    other = df.iloc[1]
    assert other["fvd64_16f"] == 50.0 and other["fvd64_16f.std"] == 2.0  # one run keeps the metric's own std
    # comparable: false is left out by default
    assert not any(c.startswith("motion_div") for c in df.columns)


def test_uncomparable_values_only_on_request_and_flagged(runs):
    df = pd.read_csv(io.StringIO(export_leaderboard([runs], "csv", include_uncomparable=True)))
    assert df.iloc[0]["motion_div8x4_16f"] == 0.2 and not df.iloc[0]["motion_div8x4_16f.comparable"]
    assert bool(df.iloc[0]["fvd64_16f.comparable"])
    md = export_leaderboard([runs], "md", include_uncomparable=True)
    assert "0.2000*" in md and "* comparable: false" in md
    assert "0.2000" not in export_leaderboard([runs], "md")


def test_output_is_deterministic_in_every_format(runs):
    for fmt in ("csv", "md", "latex", "html"):
        a = export_leaderboard([runs], fmt, include_uncomparable=True)
        b = export_leaderboard([runs], fmt, include_uncomparable=True)
        assert a == b
    tex = export_leaderboard([runs], "latex")
    assert tex.isascii() and r"\toprule" in tex and r"fvd64\_16f" in tex


def test_cli_export_writes_file(runs, tmp_path):
    from vidbench.cli import cli

    out = tmp_path / "lb.csv"
    r = CliRunner().invoke(cli, ["leaderboard", "export", "--runs", str(runs), "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("row,dataset,split,model,checkpoint_hash,seeds,n_runs,")
    r = CliRunner().invoke(cli, ["leaderboard", "export", "--runs", str(tmp_path / "missing")])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["leaderboard", "export", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_export_on_quickstart_records(tmp_path):
    from vidbench.quickstart import run_quickstart
    from vidbench.records import find_records

    summary = run_quickstart(tmp_path, smoke=True, quiet=True)
    df = pd.read_csv(io.StringIO(export_leaderboard([summary["root"]], "csv", include_uncomparable=True)))
    recs = [r for _, r in find_records(summary["root"])]
    assert recs

    def key(r):  # the row rule: label, else model + checkpoint
        row = r["label"] or (f"{r['model']} ({Path(r['checkpoint']).name})" if r.get("checkpoint") else r["model"])
        return row, (r.get("dataset") or {}).get("name") or ""

    keys = [key(r) for r in recs]
    assert len(df) == len(set(keys)) and list(zip(df["row"], df["dataset"])) == sorted(set(keys))
    for r, k in zip(recs, keys):
        if keys.count(k) > 1:
            continue  # merged rows are checked in test_csv_rows_columns_and_merging
        line = df[(df["row"] == k[0]) & (df["dataset"] == k[1])].iloc[0]
        for name, m in r["metrics"].items():
            if isinstance(m["value"], (int, float)):
                assert line[name] == pytest.approx(m["value"], rel=1e-9)
                assert line[f"{name}.protocol_id"] == m["protocol_id"]
                assert bool(line[f"{name}.comparable"]) == m["comparable"]
