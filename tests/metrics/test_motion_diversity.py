"""Motion diversity (App. D) on synthetic generators whose per-pixel std is known analytically."""

import numpy as np
import pytest
import torch
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.motion_diversity import MotionDiversity, MotionDiversityProtocol

from vidbench.errors import VidbenchError
from vidbench.registry import METRICS

C, H, W, T = 3, 6, 5, 16


def _pattern():
    c, h, w = np.meshgrid(np.arange(C), np.arange(H), np.arange(W), indexing="ij")
    return 1.0 + 0.5 * np.cos(c + 0.7 * h + 1.3 * w)  # [C,H,W], in [0.5, 1.5]


class SignGenerator:
    """Video k of content z1: frame t = base + s_z * u_k * t/T with u_k = +1, -1, +1, ... handed out in call order.

    With K even the K values of u have mean 0 and unbiased variance K/(K-1), so the per-pixel std of frame T is
    exactly s_z * sqrt(K/(K-1)) (ddof=1) or s_z (ddof=0), where s_z = 0.02 (z1 + 1) * pattern.
    """

    def __init__(self, torch_out=False):
        self.count = {}
        self.torch_out = torch_out

    def scale(self, z1):
        return 0.02 * (z1 + 1) * _pattern()

    def __call__(self, z1, n):
        k0 = self.count.get(z1, 0)
        self.count[z1] = k0 + n
        u = np.where((np.arange(k0, k0 + n) % 2) == 0, 1.0, -1.0)  # [n]
        t = np.arange(1, T + 1) / T  # [T]
        base = 0.1 * np.sin(z1 + np.arange(C * H * W)).reshape(C, H, W)
        v = base + self.scale(z1)[None, None] * (u[:, None] * t[None, :])[:, :, None, None, None]  # [n,T,C,H,W]
        return torch.from_numpy(v.astype(np.float32)) if self.torch_out else v.astype(np.float32)


@pytest.mark.parametrize("batch", [1, 7, 10])
def test_exact_std_on_sign_generator(batch):
    K, M = 10, 4
    proto = MotionDiversityProtocol(num_videos=K, num_content=M, num_frames=T)
    gen = SignGenerator(torch_out=batch == 7)
    r = MotionDiversity("md", proto, MetricOptions(batch_size=batch, progress=False)).compute(gen)
    per = [0.02 * (z + 1) * _pattern().mean() * np.sqrt(K / (K - 1)) for z in range(M)]  # analytic
    np.testing.assert_allclose(r["extra"]["per_content_std"], per, rtol=1e-5)
    assert r["value"] == pytest.approx(np.mean(per), rel=1e-5)
    assert r["std"] == pytest.approx(np.std(per), rel=1e-5)
    assert r["extra"]["pixel_scale"] == "[-1,1]" and r["comparable"] is False
    assert f"K={K} < paper K=100 videos per content code" in r["comparable_reasons"]
    assert f"M={M} < paper M=50 content codes" in r["comparable_reasons"]
    assert all(gen.count[z] == K for z in range(M))


def test_gaussian_generator_matches_sigma_and_numpy():
    K, M, sigma = 400, 3, 0.3
    rng = np.random.default_rng(0)
    frames_seen = {}

    def fn(z1, n):
        v = rng.normal(0.0, sigma, size=(n, T, 1, 4, 4)) + z1  # content shifts the mean only
        frames_seen.setdefault(z1, []).append(v[:, T - 1])
        return v

    proto = MotionDiversityProtocol(num_videos=K, num_content=M)
    r = MotionDiversity("md", proto, MetricOptions(batch_size=64, progress=False)).compute(fn)
    assert r["value"] == pytest.approx(sigma, rel=0.05)
    direct = [np.concatenate(frames_seen[z]).std(axis=0, ddof=1).mean() for z in range(M)]  # numpy reference
    np.testing.assert_allclose(r["extra"]["per_content_std"], direct, rtol=1e-9)


def test_bad_generator_outputs():
    proto = MotionDiversityProtocol(num_videos=4, num_content=1)
    m = MotionDiversity("md", proto, MetricOptions(progress=False))
    with pytest.raises(VidbenchError, match="uint8"):
        m.compute(lambda z, n: np.zeros((n, T, 3, 4, 4), np.uint8))
    with pytest.raises(VidbenchError, match=r"\[n,T,C,H,W\]"):
        m.compute(lambda z, n: np.zeros((n, T, 4, 4, 3), np.float32))
    with pytest.raises(VidbenchError, match="frames"):
        m.compute(lambda z, n: np.zeros((n, 8, 3, 4, 4), np.float32))


def test_preset_and_resolver():
    e = METRICS.get("motion_div100x50_16f")
    p = e.meta["protocol"]
    assert e.meta["kind"] == "generator" and (p.num_videos, p.num_content, p.num_frames) == (100, 50, 16)
    r = METRICS.get("motion_div8x2_16f")
    assert (r.meta["protocol"].num_videos, r.meta["protocol"].num_content) == (8, 2)
    m = r.obj("motion_div8x2_16f", MetricOptions(progress=False))
    res = m.compute(SignGenerator())
    assert res["value"] == pytest.approx(0.02 * 1.5 * _pattern().mean() * np.sqrt(8 / 7), rel=1e-5)
