"""PCA variance of an image generator's latent (W) space — MoCoGAN-HD paper Appendix E, Fig. 25.

The motion generator moves in the span of the top principal components V of W (384 × 512). Appendix E fits PCA on
sampled W codes (1,000,000; the official code uses IncrementalPCA on 250 × 4000 samples) and shows the cumulative
explained-variance ratio, quoting how many components reach 85 % (BAIR ≈ 20, FFHQ ≈ 100).

Here the fit is **exact** and streaming: :class:`vidbench.metrics.frechet.FeatureStats` accumulates count, sum and the
sum of outer products in float64 (memory O(D²), independent of the number of samples), and the spectrum is the
eigen-decomposition of the unbiased covariance. (IncrementalPCA approximates exactly this.) Output: the cumulative
curve, the number of components for 80/85/90/95 %, and optionally a PNG plot (matplotlib Agg, atomic write).

Example::

    m = METRICS.get("pca_variance").obj("pca_variance", MetricOptions())
    m.update(w_batch)                         # [b, 512], any number of times
    result = m.compute(plot_path="pca.png")   # value = components for 85 %
    m.compute(latents)                        # or everything at once (the "latent" kind API)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from vidbench.metrics.base import Metric, MetricOptions, n_below_reason
from vidbench.metrics.frechet import FeatureStats

from vidbench.errors import VidbenchError
from vidbench.records import metric_result
from vidbench.registry import METRICS


@dataclass(frozen=True)
class PcaVarianceProtocol:
    """Appendix E / Fig. 25: PCA of W-space samples; the paper quotes components for 85 % explained variance."""

    num_samples: int = 1_000_000  # paper: 1,000,000 W samples (official code: 250 x 4000 IncrementalPCA)
    dim: int = 512  # StyleGAN2 style_dim
    space: str = "w"  # mapping-network output
    thresholds: tuple[float, ...] = (0.80, 0.85, 0.90, 0.95)
    report_threshold: float = 0.85  # the value reported (App. E)
    estimator: str = "exact_covariance_eigh"  # float64 streaming covariance, ddof=1


PAPER = PcaVarianceProtocol()


# ----------------------------------------------------------------------------------------------- pure functions
def explained_variance_ratio(cov: np.ndarray) -> np.ndarray:
    """Eigenvalues of a covariance ``[D,D]`` in descending order divided by their sum (``[D]``, float64)."""
    cov = np.asarray(cov, dtype=np.float64)
    ev = np.linalg.eigvalsh((cov + cov.T) / 2.0)[::-1]
    ev = np.maximum(ev, 0.0)
    total = ev.sum()
    if total <= 0:
        raise VidbenchError("PCA variance: the latents have zero variance")
    return ev / total


def components_for(cumulative: np.ndarray, threshold: float) -> int:
    """Smallest k such that the first k components explain at least ``threshold`` of the variance."""
    cumulative = np.asarray(cumulative, dtype=np.float64)
    k = int(np.searchsorted(cumulative, threshold - 1e-12, side="left")) + 1
    return min(k, cumulative.size)


def principal_components(stats: FeatureStats, k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean [D], components [k,D] rows = directions, std [k] = sqrt of eigenvalues) from streaming stats.

    MoCoGAN-HD's V is the top-384 components; the official code scales them by the per-component std.
    """
    cov = stats.cov(ddof=1)
    ev, vec = np.linalg.eigh(cov)
    order = np.argsort(ev)[::-1][: k or stats.dim]
    return stats.mean(), vec[:, order].T.copy(), np.sqrt(np.maximum(ev[order], 0.0))


def plot_explained_variance(cumulative: np.ndarray, path: str | os.PathLike, thresholds=PAPER.thresholds,
                            title: str = "Cumulative explained variance of W (App. E, Fig. 25)") -> Path:
    """Write the cumulative explained-variance curve with threshold markers as a PNG (atomic)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from vidbench.cache import atomic_path

    cumulative = np.asarray(cumulative, dtype=np.float64)
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)  # Agg canvas explicitly: no pyplot, no global backend switch
    ax = fig.add_subplot(1, 1, 1)
    k = np.arange(1, cumulative.size + 1)
    ax.plot(k, cumulative, lw=1.5, color="C0")
    for i, th in enumerate(thresholds):
        n = components_for(cumulative, th)
        ax.axhline(th, color="0.7", lw=0.8, ls="--")
        ax.plot([n], [cumulative[n - 1]], "o", color=f"C{i + 1}", label=f"{th:.0%}: {n} components")
    ax.set_xscale("log")
    ax.set_xlabel("number of principal components")
    ax.set_ylabel("cumulative explained variance ratio")
    ax.set_ylim(0, 1.01)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return path


# ----------------------------------------------------------------------------------------------- metric
class PcaVariance(Metric):
    """Latent metric: ``update(latents [b,D])`` streams; ``compute(latents=None, plot_path=None)`` reports."""

    kind = "latent"

    def __init__(self, name: str, protocol: PcaVarianceProtocol, options: MetricOptions | None = None):
        super().__init__(name, protocol, options)
        self.reset()

    def reset(self) -> None:
        self.stats = FeatureStats(self.protocol.dim)

    def update(self, latents) -> None:
        if hasattr(latents, "detach"):
            latents = latents.detach().double().cpu().numpy()
        x = np.asarray(latents, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.protocol.dim:
            raise VidbenchError(f"{self.name}: expected latents [m,{self.protocol.dim}], got {list(x.shape)}")
        self.stats.update(x)

    def compute(self, latents=None, plot_path: str | os.PathLike | None = None) -> dict:
        if latents is not None:
            self.update(latents)
        p = self.protocol
        if self.stats.n < 2:
            raise VidbenchError(f"{self.name}: need at least 2 latent samples, got {self.stats.n}")
        ratio = explained_variance_ratio(self.stats.cov(ddof=1))
        cum = np.cumsum(ratio)
        comps = {f"{th:.2f}": components_for(cum, th) for th in p.thresholds}
        plot_path = plot_path or (self.options.extra or {}).get("plot")
        if plot_path:
            plot_explained_variance(cum, plot_path, p.thresholds)
        warnings, reasons = [], []
        if self.stats.n < p.num_samples:
            warnings.append(f"{self.stats.n} samples < protocol {p.num_samples}")
            reasons.append(n_below_reason(self.stats.n, p.num_samples, "N samples"))
        return metric_result(
            value=components_for(cum, p.report_threshold), protocol=p, detector=None, weights_hash=None,
            weights_verified=None, comparable=not reasons, comparable_reasons=reasons, elapsed_s=self.elapsed(),
            warnings=warnings, n_fake=self.stats.n,
            extra={"components_for": comps, "explained_variance_ratio": ratio.tolist(),
                   "cumulative": cum.tolist(), "plot": str(plot_path) if plot_path else None},
        )


def _make(name: str = "pca_variance", options: MetricOptions | None = None) -> PcaVariance:
    return PcaVariance(name, PAPER, options)


METRICS.add("pca_variance", _make,
            description="PCA of W samples (App. E): components for 85 % variance, cumulative curve, PNG plot",
            kind="latent", protocol=PAPER,
            summary="exact streaming covariance PCA of 1M W samples; value = components for 85 % (also 80/90/95 %)")
