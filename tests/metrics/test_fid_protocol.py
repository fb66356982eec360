"""FID under issue 10 §2: exactly N images, comparable_reasons, resolution mismatch, cache key / corruption,
bootstrap by video. A small linear extractor stands in for the Inception network (the metric accepts any)."""

import dataclasses

import numpy as np
import pytest
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.fid import FID, FidProtocol
from vidbench.metrics.frechet import frechet_distance_from_features


class _Ext:
    """Mean colour + a fixed random projection of a 4x4 thumbnail: 8-d features; an unregistered detector."""

    dim, label, registered, weights_hash, weights_verified, source = 8, "test-ext", False, "ab" * 32, False, None

    def __init__(self):
        self.w = np.random.default_rng(7).standard_normal((48, 8))

    def __call__(self, images):
        x = np.asarray(images, dtype=np.float64)
        n, h, w, _ = x.shape
        thumb = x.reshape(n, 4, h // 4, 4, w // 4, 3).mean(axis=(2, 4)).reshape(n, 48) / 255.0
        return thumb @ self.w


def _vids(seed, n, t=3, hw=8):
    return np.random.default_rng(seed).integers(0, 256, size=(n, t, hw, hw, 3), dtype=np.uint8)


def test_exactly_n_images_and_reasons():
    ext = _Ext()
    m = FID("fid12", FidProtocol(num_fake=12), MetricOptions(progress=False), extractor=ext)
    real, fake = _vids(0, 6), _vids(1, 6)  # 18 images each
    m.update(real, real=True)
    m.update(fake[:3], real=False)
    m.update(fake[3:], real=False)  # 9 more offered, 3 accepted
    res = m.compute()
    assert res["n_fake"] == 12 and res["extra"]["ignored_beyond_n"]["fake"] == 6
    ref = frechet_distance_from_features(ext(real.reshape(-1, 8, 8, 3)), ext(fake.reshape(-1, 8, 8, 3)[:12]))
    assert res["value"] == pytest.approx(ref, rel=1e-9)
    assert res["comparable"] is False
    assert any(r.startswith("unregistered Inception weights sha256 abababababab") for r in res["comparable_reasons"])
    few = FID("fid50", FidProtocol(num_fake=50), MetricOptions(progress=False), extractor=ext)
    few.update(real, real=True)
    few.update(_vids(2, 4, hw=16), real=False)
    reasons = " | ".join(few.compute()["comparable_reasons"])
    assert "N fake images=12 < protocol N fake images=50" in reasons and "resolution: generated images [(16, 16)]" in reasons


def test_cache_keyed_on_n_limit_rule_and_corrupt_file_recomputed():
    ext = _Ext()
    real = _vids(3, 4)
    opts = MetricOptions(progress=False)
    a = FID("fid12", FidProtocol(num_fake=12), opts, extractor=ext)
    a.update(real, real=True)
    path = a.save_real_cache("fp")
    assert FID("fid12", FidProtocol(num_fake=12), opts, extractor=ext).try_load_real_cache("fp")
    for proto, o in ((FidProtocol(num_fake=12, num_real=6), opts),
                     (FidProtocol(num_fake=12), dataclasses.replace(opts, real_limit=3)),
                     (FidProtocol(num_fake=12), dataclasses.replace(opts, real_clips={"seed": 0, "n": 4}))):
        assert not FID("fid12", proto, o, extractor=ext).try_load_real_cache("fp")
    path.write_bytes(path.read_bytes()[:100])
    b = FID("fid12", FidProtocol(num_fake=12), opts, extractor=ext)
    assert not b.try_load_real_cache("fp") and b.real_stats is None
    b.update(real, real=True)
    b.update(_vids(4, 4), real=False)
    assert any("corrupt" in w and "recomputed" in w for w in b.compute()["warnings"])


def test_bootstrap_resamples_videos_of_both_sets():
    ext = _Ext()
    m = FID("fid24", FidProtocol(num_fake=24), MetricOptions(progress=False, bootstrap=20), extractor=ext)
    m.update(_vids(5, 8), real=True)
    m.update(_vids(6, 8), real=False)
    res = m.compute()
    b = res["extra"]["bootstrap"]
    assert b["units"] == [8, 8] and b["unit"].startswith("video") and res["ci95"] == b["ci"]
    assert res["ci95"][0] < res["value"] < res["ci95"][1]
