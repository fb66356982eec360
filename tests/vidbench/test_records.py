import hashlib
import json
from dataclasses import dataclass

import pytest

from vidbench.errors import VidbenchError
from vidbench.records import (
    find_records,
    format_metric_line,
    metric_result,
    new_record,
    new_run_dir,
    protocol_id,
    read_result,
    validate_record,
    write_result,
)


@dataclass(frozen=True)
class P:
    num_frames: int = 16
    resize: str = "tf1_bilinear"


def test_protocol_id_is_sha256_of_canonical_json():
    expected = hashlib.sha256(
        b'{"protocol":{"num_frames":16,"resize":"tf1_bilinear"},"weights_hash":"abc"}'
    ).hexdigest()[:12]
    assert protocol_id(P(), "abc") == expected
    assert protocol_id(P(), "abd") != expected
    assert protocol_id(P(num_frames=8), "abc") != expected


def _entry(**kw):
    base = dict(value=1.5, protocol=P(), detector="i3d", weights_hash="abc", weights_verified="sha256",
                comparable=True, elapsed_s=0.1, n_real=2, n_fake=2)
    base.update(kw)
    return metric_result(**base)


def test_record_write_validate_read(tmp_path):
    rec = new_record(model="mocohd", dataset={"name": "ucf101", "split": "all", "fingerprint": "f"}, seed=0,
                     metrics={"fvd2048_16f": _entry(ci95=(1.0, 2.0))})
    run = new_run_dir(tmp_path, "mocohd", "ucf101")
    assert run.name.startswith("mocohd-ucf101-")
    write_result(run, rec)
    back = read_result(run)
    assert back["metrics"]["fvd2048_16f"]["ci95"] == [1.0, 2.0]
    on_disk = json.loads((run / "result.json").read_text())
    assert on_disk["schema"] == "vidbench.run_record.v2"
    assert on_disk["task"] == "unconditional" and on_disk["label"] is None
    assert on_disk["metrics"]["fvd2048_16f"]["comparable_reasons"] == []


def test_schema_rejects_missing_fields():
    rec = new_record(model="m", dataset=None, seed=0, metrics={"x": _entry()})
    del rec["metrics"]["x"]["protocol_id"]
    with pytest.raises(VidbenchError, match="protocol_id"):
        validate_record(rec)
    rec2 = new_record(model="m", dataset=None, seed=0, metrics={"x": _entry()})
    rec2["metrics"]["x"]["comparable"] = "yes"
    with pytest.raises(VidbenchError, match="comparable"):
        validate_record(rec2)


def test_format_line_shows_every_named_value_and_flags():
    e = _entry(value=23.07, comparable=False, warnings=["N below protocol"],
               extra={"primary": "psnr", "values": {"psnr": 23.07, "ssim": 0.699}})
    line = format_metric_line("psnr_ssim_rgb", e)
    assert line.startswith("psnr_ssim_rgb = 23.07; ssim = 0.699  [protocol ")
    assert "NOT COMPARABLE" in line and "warning: N below protocol" in line


def test_not_comparable_always_carries_a_reason():
    e = _entry(comparable=False)
    assert e["comparable"] is False and len(e["comparable_reasons"]) == 1
    e = _entry(comparable=True, comparable_reasons=["N=64 < protocol N=2048", "N=64 < protocol N=2048"])
    assert e["comparable"] is False and e["comparable_reasons"] == ["N=64 < protocol N=2048"]
    line = format_metric_line("fvd64_16f", e)
    assert "NOT COMPARABLE (N=64 < protocol N=2048)" in line


def test_schema_v2_ties_comparable_to_reasons():
    rec = new_record(model="m", dataset=None, seed=0, metrics={"x": _entry()}, task="predict", label="Full")
    validate_record(rec)
    rec["metrics"]["x"]["comparable_reasons"] = ["random-init detector"]  # comparable true *with* a reason
    with pytest.raises(VidbenchError, match="comparable_reasons"):
        validate_record(rec)
    rec["metrics"]["x"]["comparable"] = False
    validate_record(rec)
    rec["metrics"]["x"]["comparable_reasons"] = []  # not comparable without a reason
    with pytest.raises(VidbenchError, match="comparable_reasons"):
        validate_record(rec)
    with pytest.raises(VidbenchError, match="unknown task"):
        new_record(model="m", dataset=None, seed=0, task="bogus")


def _v1_record() -> dict:
    """A v1 record written literally, as vidbench 0.1 wrote it (not built by the code under test)."""
    metric = {"value": 812.5, "std": None, "ci95": None, "n_real": 2048, "n_fake": 2048,
              "protocol": {"num_frames": 16}, "protocol_id": "0123456789ab", "detector": "i3d[random-init]",
              "weights_hash": None, "weights_verified": False, "comparable": False, "warnings": [], "elapsed_s": 1.0}
    return {"schema": "vidbench.run_record.v1", "vidbench": "0.1.0", "git_commit": None,
            "created": "2026-11-30T10:00:00+00:00", "model": "mocohd", "checkpoint": "c", "checkpoint_hash": "h",
            "recipe": "paper", "dataset": {"name": "ucf101", "split": "all", "fingerprint": "f"}, "seed": 0,
            "command": None, "metrics": {"fvd2048_16f": metric, "ok": dict(metric, comparable=True)}}


def test_v1_records_are_read_as_v2(tmp_path):
    (tmp_path / "result.json").write_text(json.dumps(_v1_record()))
    rec = read_result(tmp_path)
    assert rec["schema"] == "vidbench.run_record.v2" and rec["upgraded_from"] == "vidbench.run_record.v1"
    assert rec["task"] == "unconditional" and rec["label"] is None
    assert rec["metrics"]["ok"]["comparable_reasons"] == []
    assert "schema v1" in rec["metrics"]["fvd2048_16f"]["comparable_reasons"][0]


def test_read_result_damaged_and_foreign_files(tmp_path):
    (tmp_path / "result.json").write_text('{"schema": "vidbench.run_record.v1", ')
    with pytest.raises(VidbenchError, match="not valid JSON"):
        read_result(tmp_path)
    (tmp_path / "result.json").write_text(json.dumps({"schema": "other.v9"}))
    with pytest.raises(VidbenchError, match="unknown run record schema 'other.v9'"):
        read_result(tmp_path)
    (tmp_path / "result.json").write_text("[1, 2]")
    with pytest.raises(VidbenchError, match="JSON object"):
        read_result(tmp_path)


def test_find_records_walks_folders_sorted(tmp_path):
    for name in ("b", "a/deep"):
        run = tmp_path / name
        run.mkdir(parents=True)
        write_result(run, new_record(model=name, dataset=None, seed=0, metrics={"x": _entry()}))
    (tmp_path / "empty").mkdir()
    found = find_records(tmp_path)
    assert [rec["model"] for _, rec in found] == ["a/deep", "b"]
    assert find_records(tmp_path / "empty") == []
    with pytest.raises(VidbenchError, match="no such file"):
        find_records(tmp_path / "missing")
