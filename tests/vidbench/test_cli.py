import json

import numpy as np
from click.testing import CliRunner
from vidbench.metrics.base import Metric, MetricOptions

from vidbench.cli import VERBS, cli
from vidbench.registry import METRICS, Entry
from vidbench.video import write_video


def test_every_contract_verb_is_present_with_help():
    r = CliRunner().invoke(cli, ["--help"])
    assert r.exit_code == 0
    for verb in ["list", "data", "quickstart", "train", "pca", "generate", "eval", "score", "ablate", "table",
                 "leaderboard", "weights", "report", "study"]:
        assert verb in VERBS and verb in r.output


def test_missing_capability_exits_2_without_fake_output(monkeypatch):
    # a verb whose module does not exist says so and exits 2 (every contract verb is built now, so use a ghost one)
    monkeypatch.setitem(VERBS, "ghost", ("vidbench.commands.ghost_not_built", "A verb nobody wrote."))
    r = CliRunner().invoke(cli, ["ghost", "--anything"])
    assert r.exit_code == 2
    assert "not available yet: missing capability vidbench.commands.ghost_not_built" in r.output


def test_every_contract_verb_is_built():
    import importlib

    for verb, (module, _) in VERBS.items():
        assert hasattr(importlib.import_module(module), "command"), verb


def test_list_kinds_and_unknown_kind():
    for kind in ["models", "metrics", "datasets", "detectors", "weights"]:
        r = CliRunner().invoke(cli, ["list", kind])
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["list", "frobnicate"])
    assert r.exit_code == 2


class _MeanAbsDiff(Metric):
    """A paired test metric: mean |pred - target| (hand-checkable)."""

    kind = "paired"

    def __init__(self, name, options):
        super().__init__(name, {"kind": "mad", "num_frames": 2}, options)
        self.reset()

    def reset(self):
        self.vals = []

    def update(self, pred, target):
        for p, t in zip(pred, target):
            self.vals.append(float(np.abs(p.astype(float) - t.astype(float)).mean()))

    def compute(self):
        from vidbench.records import metric_result

        return metric_result(value=float(np.mean(self.vals)), protocol=self.protocol, detector=None,
                             weights_hash=None, weights_verified=None, comparable=True, elapsed_s=self.elapsed(),
                             n_real=len(self.vals), n_fake=len(self.vals), extra={"per_video": {"mad": self.vals}})


def test_score_runner_paired_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(METRICS._entries, "test_mad", Entry("test_mad", _MeanAbsDiff))
    for i in range(3):
        write_video(tmp_path / "real" / f"{i}.npz", np.full((4, 8, 8, 3), 10 * i, np.uint8), fps=5)
        write_video(tmp_path / "fake" / f"{i}.npz", np.full((4, 8, 8, 3), 10 * i + i, np.uint8), fps=5)
    out = tmp_path / "runs"
    r = CliRunner().invoke(cli, ["score", "--metric", "test_mad", "--real", str(tmp_path / "real"), "--fake",
                                 str(tmp_path / "fake"), "--json", "--out", str(out), "--batch-size", "2"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["metrics"]["test_mad"]["value"] == 1.0  # |0|,|1|,|2| -> mean 1
    assert rec["metrics"]["test_mad"]["extra"]["decoding"]["num_frames"] == 2
    run_dir = next(out.iterdir())
    rows = [json.loads(x) for x in (run_dir / "per_video.jsonl").read_text().splitlines()]
    assert [row["mad"] for row in rows] == [0.0, 1.0, 2.0]
    # mismatched pair counts are refused with one line, exit 2
    write_video(tmp_path / "fake" / "9.npz", np.zeros((4, 8, 8, 3), np.uint8), fps=5)
    r = CliRunner().invoke(cli, ["score", "--metric", "test_mad", "--real", str(tmp_path / "real"), "--fake",
                                 str(tmp_path / "fake")])
    assert r.exit_code == 2 and "pairs must match" in r.output
    _ = MetricOptions


def test_unknown_metric_did_you_mean(tmp_path):
    write_video(tmp_path / "a.npz", np.zeros((2, 4, 4, 3), np.uint8), fps=5)
    r = CliRunner().invoke(cli, ["score", "--metric", "psnr_ssim_rbg", "--fake", str(tmp_path / "a.npz")])
    assert r.exit_code == 2
    assert "unknown metric" in r.output
