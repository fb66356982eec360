import hashlib
import json
from dataclasses import dataclass

import pytest

from vidbench.errors import VidbenchError
from vidbench.records import (
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
    assert json.loads((run / "result.json").read_text())["schema"] == "vidbench.run_record.v1"


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
