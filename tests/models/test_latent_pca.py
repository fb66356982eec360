"""W-space PCA vs numpy/sklearn PCA on a small sample; npz round trip; the official npy pair; the `vidbench pca` CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from vidbench.models import latent_pca as lp
from vidbench.models import stylegan2 as sg

from vidbench.errors import VidbenchError


@pytest.fixture(scope="module")
def tiny_G():
    torch.manual_seed(0)
    return sg.Generator(sg.tiny_config(size=8, style_dim=16)).eval()


def _all_w(G, n, bs, seed):
    return np.concatenate(list(lp.sample_w(G.mapping, G.style_dim, n, bs, seed)))


@pytest.mark.parametrize("method", ["covariance", "incremental"])
def test_pca_matches_numpy(tiny_G, method):
    n, bs = 3000, 400
    pca = lp.compute_w_pca(tiny_G, n, bs, 10, seed=3, method=method, progress=False)
    w = _all_w(tiny_G, n, bs, 3)  # the same codes, collected in memory
    cov = np.cov(w, rowvar=False)
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    assert pca.components.shape == (10, 16) and pca.n_samples == n
    np.testing.assert_allclose(pca.mean, w.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pca.explained_variance, evals[:10], rtol=1e-5)
    np.testing.assert_allclose(pca.stdev, np.sqrt(evals[:10]), rtol=1e-5)
    np.testing.assert_allclose(pca.explained_variance_ratio, evals[:10] / evals.sum(), rtol=1e-5)
    gaps = np.abs(np.diff(evals[:11])) / evals[0]
    for i in range(10):
        if gaps[i] > 1e-3 and (i == 0 or gaps[i - 1] > 1e-3):  # well-separated eigenvalue: unique direction
            assert abs(float(pca.components[i] @ evecs[:, i])) > 0.999
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(10), atol=1e-5)


def test_streaming_covariance_equals_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 5)) * [1, 2, 3, 4, 5] + 100.0  # large mean: tests the stable merge
    acc = lp.StreamingCovariance(5)
    for chunk in np.array_split(x, 7):
        acc.update(chunk)
    np.testing.assert_allclose(acc.covariance(), np.cov(x, rowvar=False), rtol=1e-10)


def test_save_load_roundtrip_and_official_pair(tiny_G, tmp_path):
    pca = lp.compute_w_pca(tiny_G, 1000, 250, 8, seed=0, progress=False)
    p = lp.save_pca(tmp_path / "w.npz", pca, {"checkpoint": "x.pt"})
    back = lp.load_pca(p)
    np.testing.assert_array_equal(back.components, pca.components)
    assert back.meta["checkpoint"] == "x.pt" and back.n_samples == 1000
    assert lp.load_pca(p, n_components=4).components.shape == (4, 16)
    # the official MoCoGAN-HD pair: pca_comp.npy [512,512] rows, pca_stdev.npy [512]
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((512, 512)))[0]
    np.save(tmp_path / "pca_comp.npy", q)
    np.save(tmp_path / "pca_stdev.npy", np.linspace(2, 0.1, 512))
    off = lp.load_pca(tmp_path, n_components=384)
    assert off.components.shape == (384, 512) and off.stdev.shape == (384,)
    np.testing.assert_allclose(off.basis(2), np.linspace(2, 0.1, 512)[:2, None] * q[:2], rtol=1e-6)
    with pytest.raises(VidbenchError):
        lp.load_pca(tmp_path / "missing.npz")


def test_pca_cli(tmp_path):
    from vidbench.cli import cli

    torch.manual_seed(0)
    G = sg.Generator(sg.tiny_config(size=8, style_dim=16))
    torch.save({"g_ema": sg.to_rosinality_state_dict(G)}, tmp_path / "g.pt")
    res = CliRunner().invoke(cli, ["pca", "--image-generator", str(tmp_path / "g.pt"), "--samples", "600",
                                   "--batch-size", "200", "--components", "12", "--out", str(tmp_path / "p.npz"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    pca = lp.load_pca(tmp_path / "p.npz")
    assert summary["n_samples"] == 600 and pca.components.shape == (12, 16)
    w = _all_w(G, 600, 200, 0)
    np.testing.assert_allclose(pca.stdev, np.sqrt(np.linalg.eigvalsh(np.cov(w, rowvar=False))[::-1][:12]), rtol=1e-4)
    bad = CliRunner().invoke(cli, ["pca", "--image-generator", str(tmp_path / "nope.pt")])
    assert bad.exit_code == 2 and "nope.pt" in bad.output
