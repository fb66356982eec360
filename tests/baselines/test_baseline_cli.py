"""`vidbench train tganv2|dtvnet` smoke runs (tiny configs), resume, bad input, and `vidbench eval` of the result."""

import csv
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.records import read_result
from vidbench.video import read_video

TGAN_TINY = ["--set", "z_dim=8", "--set", "clstm_ch=8", "--set", "ch=2", "--set", "d_mid_ch=2", "--set",
             "batch_size=2", "--set", "num_frames=8", "--set", "log_every=1", "--set", "sample_every=2",
             "--set", "ckpt_every=2"]


def _log_steps(run):
    with open(run / "train_log.csv", newline="") as fh:
        return [int(r["step"]) for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def tgan_run(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tgan")
    r = CliRunner().invoke(cli, ["train", "tganv2", "--dataset", "moving_mnist", *TGAN_TINY, "--set", "total_steps=2",
                                 "--num-final", "2", "--no-progress", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_train_tganv2_writes_a_complete_run(tgan_run):
    from pathlib import Path

    run = Path(tgan_run["run_dir"])
    for f in ("config.json", "result.json", "train_log.csv", "checkpoints/latest.pt", "checkpoints/step_0000000.pt",
              "checkpoints/step_0000002.pt", "samples/step_0000002.mp4", "samples/final/000001.mp4"):
        assert (run / f).is_file(), f
    assert _log_steps(run) == [1, 2]
    rec = read_result(run)
    assert rec["model"] == "tganv2" and rec["task"] == "train" and len(rec["checkpoint_hash"]) == 64
    assert read_video(run / "samples" / "final" / "000000.mp4").shape == (8, 64, 64, 3)
    cfg = json.loads((run / "config.json").read_text())
    assert [lv["frames"] for lv in cfg["config"]["train_levels"]] == [8, 4, 2, 1]


def test_train_tganv2_resume_continues_the_log(tgan_run):
    from pathlib import Path

    run = Path(tgan_run["run_dir"])
    r = CliRunner().invoke(cli, ["train", "tganv2", "--dataset", "moving_mnist", "--resume", str(run), "--set",
                                 "total_steps=3", "--num-final", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert _log_steps(run) == [1, 2, 3]
    sd = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    assert sd["step"] == 3 and sd["config"]["total_steps"] == 3
    bad = CliRunner().invoke(cli, ["train", "tganv2", "--dataset", "moving_mnist", "--resume", str(run), "--set",
                                   "ch=4", "--no-progress"])
    assert bad.exit_code == 2 and "does not fit this config" in bad.output
    assert _log_steps(run) == [1, 2, 3]


@pytest.mark.slow  # random-init I3D at 224² on CPU: ~45 s on a loaded 2-core machine
def test_eval_tganv2_through_the_common_pipeline(tgan_run, tmp_path):
    from vidbench.evaluate import EvalConfig, evaluate

    run = evaluate(EvalConfig(model="tganv2", dataset="moving_mnist", checkpoint=tgan_run["run_dir"],
                              metrics=("fvd4_9f",), num_videos=4, num_frames=9, resolution=32, batch_size=4,
                              detector="i3d[random-init]"), tmp_path, yes=True, progress=False)
    rec = read_result(run)
    name, m = next(iter(rec["metrics"].items()))
    assert name.endswith("[random-init]") and m["comparable"] is False
    assert np.isfinite(m["value"]) and rec["model"] == "tganv2"
    assert len(rec["checkpoint_hash"]) == 64 and rec["task"] == "unconditional"


def test_train_dtvnet_smoke_and_bad_input(tmp_path):
    torch.set_num_threads(1)
    r = CliRunner().invoke(cli, ["train", "dtvnet", "--dataset", "synthetic_sky", "--preset", "micro", "--set",
                                 "total_steps=2", "--set", "ckpt_every=1", "--num-final", "2", "--no-progress",
                                 "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    from pathlib import Path

    run = Path(s["run_dir"])
    assert _log_steps(run) == [1, 2]
    video = read_video(run / "samples" / "final" / "000001.mp4")
    assert video.shape == (8, 32, 64, 3)  # real clip | prediction, side by side
    assert read_result(run)["model"] == "dtvnet"
    bad = CliRunner().invoke(cli, ["train", "dtvnet", "--dataset", "synthetic_sky", "--preset", "micro", "--set",
                                   "nope=1", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "nope" in bad.output
    bad = CliRunner().invoke(cli, ["train", "tganv2", "--dataset", "moving_mnist", "--resume", str(tmp_path)])
    assert bad.exit_code == 2 and "latest.pt" in bad.output
    wrong = CliRunner().invoke(cli, ["train", "tganv2", "--dataset", "moving_mnist", "--resume", str(run)])
    assert wrong.exit_code == 2 and "not a tganv2 checkpoint" in wrong.output
