"""PCA variance (App. E) against sklearn/numpy on latents with an exactly known spectrum."""

import numpy as np
from PIL import Image
from sklearn.decomposition import PCA
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.pca_variance import PcaVariance, PcaVarianceProtocol, components_for

from vidbench.registry import METRICS

D = 32


def _known_spectrum_latents(m=400, seed=0):
    """Latents whose sample covariance (ddof=1) is exactly Q diag(lam) Q^T, plus a non-zero mean."""
    rng = np.random.default_rng(seed)
    lam = 2.0 ** -np.arange(D, dtype=np.float64) + 1e-3  # geometric spectrum
    z = rng.normal(size=(m, D))
    z -= z.mean(axis=0)
    q_z, _ = np.linalg.qr(z)  # [m,D] orthonormal, centred columns
    q_rot, _ = np.linalg.qr(rng.normal(size=(D, D)))
    x = (q_z * np.sqrt(lam * (m - 1))) @ q_rot.T + rng.normal(size=D) * 3.0
    return x, lam


def test_known_spectrum_and_sklearn():
    x, lam = _known_spectrum_latents()
    proto = PcaVarianceProtocol(num_samples=400, dim=D)
    r = PcaVariance("pca", proto, MetricOptions()).compute(x)
    ratio = np.array(r["extra"]["explained_variance_ratio"])
    np.testing.assert_allclose(ratio, lam / lam.sum(), atol=1e-12)
    np.testing.assert_allclose(ratio, PCA().fit(x).explained_variance_ratio_, atol=1e-10)
    cum = np.cumsum(lam) / lam.sum()
    for th in (0.80, 0.85, 0.90, 0.95):  # hand rule: first k with cumulative >= th
        assert r["extra"]["components_for"][f"{th:.2f}"] == int(np.argmax(cum >= th)) + 1
    assert r["value"] == int(np.argmax(cum >= 0.85)) + 1
    assert r["comparable"] is True and r["n_fake"] == 400


def test_streaming_equals_batch_and_plot(tmp_path):
    x, _ = _known_spectrum_latents(m=300, seed=1)
    proto = PcaVarianceProtocol(num_samples=10_000, dim=D)
    m = PcaVariance("pca", proto, MetricOptions())
    for chunk in np.array_split(x, 7):
        m.update(chunk)
    png = tmp_path / "fig25.png"
    r = m.compute(plot_path=png)
    np.testing.assert_allclose(r["extra"]["cumulative"],
                               np.cumsum(PCA().fit(x).explained_variance_ratio_), atol=1e-10)
    assert r["comparable"] is False and r["warnings"]
    assert r["comparable_reasons"] == [f"N samples={len(x)} < protocol N samples=10000"]
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (600, 400)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # atomic write left no temp file


def test_components_for_edges():
    cum = np.array([0.5, 0.85, 0.9, 1.0])
    assert components_for(cum, 0.85) == 2 and components_for(cum, 0.5) == 1 and components_for(cum, 0.95) == 4


def test_preset():
    e = METRICS.get("pca_variance")
    assert e.meta["kind"] == "latent" and e.meta["protocol"].dim == 512
    assert e.meta["protocol"].num_samples == 1_000_000 and e.meta["protocol"].report_threshold == 0.85
