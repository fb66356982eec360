"""`vidbench eval --resume RUN_DIR`: a SIGKILLed eval continues from its last completed batch and gives exactly the
result of an uninterrupted run (same value, same samples, same per-video rows)."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.registry import METRICS, Entry

# a distribution metric whose value depends on every fake pixel and on batch boundaries (float sums), slow enough
# (0.4 s per generated batch) that the test can kill the process between batches
METRIC_SRC = textwrap.dedent('''
    import time
    import numpy as np
    from vidbench.metrics.base import Metric
    from vidbench.metrics.frechet import FeatureStats, frechet_distance
    from vidbench.records import metric_result

    class SlowFD(Metric):
        kind = "distribution"

        def __init__(self, name, options):
            super().__init__(name, {"num_frames": 4, "num_real": 10, "num_fake": 10}, options)
            self.reset()

        def reset(self):
            self.stats = {True: FeatureStats(12), False: FeatureStats(12)}

        def update(self, videos, real):
            if not real:
                time.sleep(0.4)
            feats = np.stack([np.asarray(v, np.float64).mean(axis=(1, 2)).reshape(-1) for v in videos])  # [B, 4*3]
            self.stats[real].update(feats)

        def compute(self):
            r, f = self.stats[True], self.stats[False]
            v = frechet_distance(r.mean(), r.cov(), f.mean(), f.cov())
            return metric_result(value=v, protocol=self.protocol, detector=None, weights_hash=None,
                                 weights_verified=None, comparable=True, elapsed_s=0.0, n_real=r.n, n_fake=f.n)
''')


def _metric_cls():
    ns: dict = {}
    exec(METRIC_SRC, ns)
    return ns["SlowFD"]


def _checkpoint(d):
    from vidbench.models.mocogan_hd import build_motion_generator, resolve_config, tiny_config
    from vidbench.models.mocogan_hd.trainer import CKPT_FORMAT
    from vidbench.models.stylegan2 import Generator, to_rosinality_state_dict
    from vidbench.models.stylegan2 import tiny_config as g_tiny

    torch.manual_seed(0)
    G = Generator(g_tiny(size=32, channels=16, style_dim=64, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, d / "g.pt")
    cfg = resolve_config(tiny_config(n_pca=16, hidden_dim=16, num_frames=4, frame_size=32, frame_stride=1))
    gm = build_motion_generator(cfg)
    torch.save({"format": CKPT_FORMAT, "config": dataclasses.asdict(cfg), "step": 0, "epoch": 0,
                "meta": {"image_generator": {"path": str(d / "g.pt")}}, "motion_generator": gm.state_dict()},
               d / "ckpt.pt")
    return d / "ckpt.pt"


def _args(ckpt, out):
    return ["eval", "--model", "mocohd", "--checkpoint", str(ckpt), "--dataset", "moving_mnist", "--metrics",
            "t_slowfd", "--frames", "4", "--resolution", "32", "--batch-size", "2", "--out", str(out), "--json"]


@pytest.mark.slow
def test_killed_eval_resumes_to_the_identical_result(tmp_path, monkeypatch):
    ckpt = _checkpoint(tmp_path)
    script = METRIC_SRC + textwrap.dedent('''
        import sys
        from vidbench.registry import METRICS, Entry
        METRICS._entries["t_slowfd"] = Entry("t_slowfd", SlowFD)
        from vidbench.cli import cli
        cli.main(args=sys.argv[1:], prog_name="vidbench")
    ''')
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VIDBENCH_CACHE": str(tmp_path / "cache")}
    monkeypatch.setenv("VIDBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", script, *_args(ckpt, out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state, deadline = None, time.time() + 90
    try:
        while time.time() < deadline and proc.poll() is None:
            found = list(out.glob("*/work/state.json"))
            if found:
                try:
                    done = json.loads(found[0].read_text())["batches_done"]
                except (OSError, ValueError):
                    done = 0
                if done >= 2:
                    state = found[0]
                    proc.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert state is not None, f"the eval finished or failed before it could be killed: {proc.stderr.read()[-2000:]}"
    run = state.parent.parent
    assert not (run / "result.json").exists()
    batches_at_kill = json.loads(state.read_text())["batches_done"]
    assert 2 <= batches_at_kill < 5

    monkeypatch.setitem(METRICS._entries, "t_slowfd", Entry("t_slowfd", _metric_cls()))
    r = CliRunner().invoke(cli, ["eval", "--resume", str(run), "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    resumed = json.loads(r.output)
    r = CliRunner().invoke(cli, _args(ckpt, tmp_path / "full"), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    full = json.loads(r.output)
    full_run = next((tmp_path / "full").iterdir())

    a, b = resumed["metrics"]["t_slowfd"], full["metrics"]["t_slowfd"]
    assert a["value"] == b["value"] and a["n_fake"] == b["n_fake"] == 10 and a["n_real"] == 10
    assert a["protocol_id"] == b["protocol_id"]
    with np.load(run / "samples.npz") as za, np.load(full_run / "samples.npz") as zb:
        np.testing.assert_array_equal(za["video"], zb["video"])
    assert (run / "real_clips.jsonl").read_text() == (full_run / "real_clips.jsonl").read_text()
    assert len(list((run / "samples").glob("*.mp4"))) == 10 and not (run / "work").exists()
    # a completed run cannot be resumed again
    r = CliRunner().invoke(cli, ["eval", "--resume", str(run)])
    assert r.exit_code == 2 and "already completed" in r.output
