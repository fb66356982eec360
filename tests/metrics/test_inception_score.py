"""Inception Score: hand-computed cases, scipy.stats.entropy reference, the three estimators, the sample metric."""

import numpy as np
import pytest
from scipy.stats import entropy
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.inception_score import PRESETS, InceptionScoreMetric, estimate, inception_score

from vidbench.errors import VidbenchError
from vidbench.registry import METRICS


def _scipy_is(p):
    """exp(mean_x KL(p(y|x) ‖ p(y))) with scipy.stats.entropy(pk, qk) = KL."""
    py = p.mean(axis=0)
    return float(np.exp(np.mean([entropy(row, py) for row in p])))


def _random_probs(rng, n, k=101):
    logits = rng.standard_normal((n, k)) * 3
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_uniform_is_one():
    mean, std = inception_score(np.full((50, 101), 1 / 101))
    assert mean == pytest.approx(1.0, abs=1e-12) and std == 0.0


@pytest.mark.parametrize("k", [1, 2, 7, 101])
def test_one_hot_evenly_over_k_classes_is_k(k):
    p = np.zeros((4 * k, 101))
    p[np.arange(4 * k), np.arange(4 * k) % k] = 1.0
    mean, _ = inception_score(p)
    assert mean == pytest.approx(k, rel=1e-12)
    mean0, _ = inception_score(p, eps=0.0)  # 0·log 0 = 0
    assert mean0 == pytest.approx(k, rel=1e-12)


def test_random_probabilities_vs_scipy_entropy(rng):
    p = _random_probs(rng, 300)
    assert inception_score(p)[0] == pytest.approx(_scipy_is(p), rel=1e-10)
    mean, std = inception_score(p, splits=3)
    ref = [_scipy_is(p[i * 100 : (i + 1) * 100]) for i in range(3)]
    assert mean == pytest.approx(np.mean(ref), rel=1e-10) and std == pytest.approx(np.std(ref), rel=1e-8)
    with pytest.raises(VidbenchError):
        inception_score(p[:2], splits=3)


def test_estimators_match_their_sources(rng):
    p = _random_probs(rng, 400, k=11)
    # TGANv2: 10 runs of consecutive blocks, splits=1 each, mean ± std over runs
    proto = PRESETS["is2048x10_c3d_tganv2"]
    small = type(proto)(**{**proto.__dict__, "num_videos": 400})
    mean, std, det = estimate(p, small)
    ref = [_scipy_is(p[r * 40 : (r + 1) * 40]) for r in range(10)]
    assert mean == pytest.approx(np.mean(ref), rel=1e-10) and std == pytest.approx(np.std(ref), rel=1e-8)
    assert det["aggregate"] == "runs" and len(det["per_run"]) == 10
    # StyleGAN-V: RandomState(42) shuffle of the rows, then 10 splits
    proto = PRESETS["is2048_c3d_styleganv"]
    small = type(proto)(**{**proto.__dict__, "num_videos": 400})
    mean, std, _ = estimate(p, small)
    q = p[np.random.RandomState(42).permutation(400)]
    ref = [_scipy_is(q[i * 40 : (i + 1) * 40]) for i in range(10)]
    assert mean == pytest.approx(np.mean(ref), rel=1e-10) and std == pytest.approx(np.std(ref), rel=1e-8)
    # fewer videos than runs × splits: fewer runs, reported
    _, _, det = estimate(p[:4], PRESETS["is2048x10_c3d_tganv2"])
    assert (det["runs_used"], det["splits_used"]) == (4, 1) and len(det["per_run"]) == 4
    # the protocol's N caps the number of samples used
    mean_cap, _, _ = estimate(np.concatenate([p, p[::-1]]), small)
    assert mean_cap == pytest.approx(mean, rel=1e-12)


def test_presets_registered_with_protocols():
    p = {name: METRICS.get(name).meta["protocol"] for name in PRESETS}
    assert (p["is2048x10_c3d_tganv2"].num_videos, p["is2048x10_c3d_tganv2"].runs) == (20480, 10)
    assert p["is2048_c3d_styleganv"].shuffle == "RandomState(42)" and p["is2048_c3d_styleganv"].splits == 10
    assert p["is10k_c3d"].num_videos == 10000 and p["is10k_c3d"].pre_resize == 128
    assert all(METRICS.get(n).meta["kind"] == "sample" for n in PRESETS)


class _StubDetector:
    """Deterministic probabilities from each video's first pixel (class = red value mod 5)."""

    kind, label, weights_hash, weights_verified, registered, mean_hash = "stub", "stub", "0" * 64, "sha256", True, None

    def __init__(self):
        self.seen_shapes = []

    def probs(self, videos):
        self.seen_shapes.append(videos.shape)
        p = np.full((len(videos), 5), 0.01)
        p[np.arange(len(videos)), videos[:, 0, 0, 0, 0] % 5] = 0.96
        return p


def _videos(labels, size=8, t=16):
    v = np.zeros((len(labels), t, size, size, 3), np.uint8)
    v[:, :, :, :, 0] = np.asarray(labels, np.uint8)[:, None, None, None]
    return v


def test_metric_streaming_permutation_invariant_and_comparability():
    proto = type(PRESETS["is10k_c3d"])(num_videos=20, runs=1, splits=1, pre_resize=None)
    labels = np.arange(20) % 5
    results = []
    for order in (labels, labels[::-1]):
        m = InceptionScoreMetric("is_test", proto, MetricOptions(batch_size=3, progress=False), detector=_StubDetector())
        m.update(_videos(order[:7]))
        m.update(list(_videos(order[7:])))
        results.append(m.compute())
    assert results[0]["value"] == pytest.approx(results[1]["value"], rel=1e-12)
    p = np.full((20, 5), 0.01)
    p[np.arange(20), labels] = 0.96
    assert results[0]["value"] == pytest.approx(_scipy_is(p + 1e-20), rel=1e-10)
    assert results[0]["comparable"] is True and results[0]["n_fake"] == 20
    rows = m.per_video_rows()
    assert [r["top_class"] for r in rows] == list(labels[::-1])
    assert rows[0]["entropy"] == pytest.approx(entropy(p[0]), rel=1e-12)

    m = InceptionScoreMetric("is_test", proto, MetricOptions(progress=False), detector=_StubDetector())
    m.update(_videos(labels[:10]))
    r = m.compute()
    assert r["comparable"] is False and any("only 10 of" in w for w in r["warnings"])
    m.update(_videos(np.arange(15) % 5))  # 5 beyond the protocol N are ignored
    r = m.compute()
    assert r["n_fake"] == 20 and any("5 videos beyond" in w for w in r["warnings"])
    m.reset()
    with pytest.raises(VidbenchError, match="16 frames"):
        m.update(_videos([1], t=8))


def test_pre_resize_uses_cv2_cubic():
    import cv2

    proto = type(PRESETS["is10k_c3d"])(num_videos=4, runs=1, splits=1, pre_resize=16)
    stub = _StubDetector()
    m = InceptionScoreMetric("is_test", proto, MetricOptions(progress=False), detector=stub)
    rng = np.random.default_rng(0)
    v = rng.integers(0, 256, (1, 16, 32, 32, 3), dtype=np.uint8)
    frame = m._prepare(v[0])[3]
    np.testing.assert_array_equal(frame, cv2.resize(v[0, 3], (16, 16), interpolation=cv2.INTER_CUBIC))
    m.update(v)
    assert stub.seen_shapes == [(1, 16, 16, 16, 3)]


def test_random_init_end_to_end():
    opts = MetricOptions(detector="c3d[random-init]", progress=False)
    assert METRICS.get("is2048_c3d_styleganv").obj("is2048_c3d_styleganv", opts).name == \
        "is2048_c3d_styleganv[random-init]"
    proto = type(PRESETS["is10k_c3d"])(num_videos=3, runs=1, splits=1, pre_resize=None)
    m = InceptionScoreMetric("is_test", proto, opts)
    rng = np.random.default_rng(1)
    m.update(rng.integers(0, 256, (3, 16, 16, 16, 3), dtype=np.uint8))
    r = m.compute()
    assert r["detector"] == "c3d[random-init]" and r["comparable"] is False and r["n_fake"] == 3
    assert np.isfinite(r["value"]) and 1.0 <= r["value"] <= 3.0  # IS of n samples lies in [1, n]


def test_comparable_reasons_policy(tmp_path):
    """Issue 10 §2: a C3D found by its registered *name* (no published sha256) is recorded by hash and never
    comparable to published numbers; N below protocol and upsampling by pre_resize are reasons too."""
    from vidbench.metrics.detectors.c3d import load_c3d_detector

    proto = type(PRESETS["is10k_c3d"])(num_videos=4, runs=1, splits=1, pre_resize=16)
    # an npz/mean pair in the documented layout, written under the registered file names
    rng = np.random.default_rng(3)
    from vidbench.metrics.detectors.c3d import chainer_key_map

    np.savez(tmp_path / "conv3d_deepnetA_ucf.npz", **{k: (rng.standard_normal(shape) * 0.01).astype(np.float32)
                                                       for k, (_, shape) in chainer_key_map().items()})
    np.savez(tmp_path / "mean2.npz", mean=rng.uniform(80, 120, (3, 16, 128, 171)).astype(np.float32))
    det = load_c3d_detector("c3d.ucf101_tganv2", weights_dir=tmp_path)
    m = InceptionScoreMetric("is_test", proto, MetricOptions(progress=False), detector=det)
    m.update(rng.integers(0, 256, (3, 16, 8, 8, 3), dtype=np.uint8))  # 3 < 4 videos, 8² < pre_resize 16²
    r = m.compute()
    reasons = r["comparable_reasons"]
    assert r["comparable"] is False and r["weights_verified"] is False
    assert reasons[0].startswith("unverified C3D weights sha256 ") and "not comparable to published" in reasons[0]
    assert reasons[1].startswith("unverified C3D mean2.npz sha256 ")
    assert "N=3 < protocol N=4" in reasons and any(x.startswith("resolution: 3 videos") for x in reasons)
    assert reasons[0].split()[4] == r["extra"]["weights_file_sha256"][:12]  # the user's file, by its hash
    # verified stub at the protocol's N and size: comparable, no reasons
    m = InceptionScoreMetric("is_test", proto, MetricOptions(progress=False), detector=_StubDetector())
    m.update(_videos([0, 1, 2, 3], size=16))
    m.update(_videos([4], size=16))  # beyond N: ignored, counted
    r = m.compute()
    assert r["comparable"] is True and r["comparable_reasons"] == [] and r["extra"]["ignored_beyond_n"] == 1
