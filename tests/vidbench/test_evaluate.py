import json

import numpy as np
from click.testing import CliRunner
from vidbench.metrics.base import Metric

from vidbench.cli import cli
from vidbench.records import metric_result, read_result
from vidbench.registry import METRICS, Entry
from vidbench.video import read_video


class _MeanBrightness(Metric):
    """Sample metric: mean pixel value per video (hand-checkable)."""

    kind = "sample"

    def __init__(self, name, options):
        super().__init__(name, {"num_frames": 4, "num_videos": 3}, options)
        self.reset()

    def reset(self):
        self.vals = []

    def update(self, videos):
        self.vals += [float(v.mean()) for v in videos]

    def compute(self):
        return metric_result(value=float(np.mean(self.vals)), protocol=self.protocol, detector=None,
                             weights_hash=None, weights_verified=None, comparable=True, elapsed_s=0.0,
                             n_fake=len(self.vals), extra={"per_video": {"brightness": self.vals}})


def test_eval_samples_model_writes_complete_run(tmp_path, monkeypatch):
    monkeypatch.setitem(METRICS._entries, "test_bright", Entry("test_bright", _MeanBrightness))
    vids = np.stack([np.full((6, 16, 16, 3), 20 * (i + 1), np.uint8) for i in range(4)])
    np.savez(tmp_path / "exp.npz", video=vids)
    r = CliRunner().invoke(cli, ["eval", "--model", f"samples:{tmp_path / 'exp.npz'}", "--dataset", "moving_mnist",
                                 "--metrics", "test_bright", "--frames", "4", "--resolution", "16",
                                 "--out", str(tmp_path / "runs"), "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["metrics"]["test_bright"]["value"] == 40.0  # mean of 20, 40, 60 (protocol N = 3)
    run = next((tmp_path / "runs").iterdir())
    assert read_result(run)["dataset"]["name"] == "moving_mnist"
    rows = [json.loads(x) for x in (run / "per_video.jsonl").read_text().splitlines()]
    assert [row["test_bright.brightness"] for row in rows] == [20.0, 40.0, 60.0]
    with np.load(run / "samples.npz") as z:
        np.testing.assert_array_equal(z["video"], vids[:3, :4])
    mp4 = read_video(run / "samples" / "000001.mp4")
    assert mp4.shape == (4, 16, 16, 3) and abs(float(mp4.mean()) - 40.0) < 2.0


def test_eval_requires_checkpoint_for_trained_models():
    r = CliRunner().invoke(cli, ["eval", "--model", "mocohd", "--dataset", "moving_mnist"])
    assert r.exit_code == 2
