"""Streaming feature statistics and the Fréchet distance (shared by FVD and FID).

PROTOCOLS.md (FVD): mean and covariance in float64, unbiased covariance (ddof=1, ``np.cov``'s default; the StyleGAN-V
variant uses the biased ddof=0), Fréchet distance

    FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})

with the trace term computed robustly. ``Tr((S1 S2)^{1/2})`` equals ``Tr((sqrt(S1) S2 sqrt(S1))^{1/2})`` because
``S1 S2`` and ``sqrt(S1) S2 sqrt(S1)`` are similar; the latter is symmetric positive semi-definite, so its square root
trace is the sum of the square roots of its (non-negative) eigenvalues, i.e. the sum of the singular values of
``sqrt(S1) sqrt(S2)`` (square roots by ``eigh`` with eigenvalues clamped at 0) — no complex parts, no ``scipy.linalg.sqrtm``
(whose ``disp`` argument is deprecated in SciPy >= 1.17), no ill-conditioned non-symmetric solves.

:class:`FeatureStats` accumulates in float64 a running count, sum and sum of outer products, so memory is O(D^2)
independent of the number of samples, batches can have any size, and workers merge exactly by summing
(``merge`` in-process, ``all_reduce`` across torch.distributed processes) — never by averaging per-batch distances.

Example::

    real, fake = FeatureStats(400), FeatureStats(400)
    real.update(feats_real)            # [N, 400]
    fake.update(feats_fake)
    fd = frechet_distance(real.mean(), real.cov(), fake.mean(), fake.cov())
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["FeatureStats", "FrechetReference", "frechet_distance", "frechet_distance_from_features", "sqrt_psd"]


class FeatureStats:
    """Float64 streaming count / sum / sum of outer products of D-dimensional feature vectors."""

    def __init__(self, dim: int):
        if dim <= 0:
            raise ValueError(f"FeatureStats: dim must be positive, got {dim}")
        self.dim = int(dim)
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._sum = np.zeros(self.dim, dtype=np.float64)  # [D]
        self._outer = np.zeros((self.dim, self.dim), dtype=np.float64)  # [D, D] sum of x x^T

    # ------------------------------------------------------------------ accumulation
    def update(self, feats) -> None:
        """Add a batch of features ``[N, D]`` (numpy or torch, any float dtype; cast to float64 first)."""
        x = _to_numpy64(feats)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"FeatureStats.update: expected [N, {self.dim}] features, got {list(x.shape)}")
        if not np.all(np.isfinite(x)):
            raise ValueError("FeatureStats.update: features contain NaN or Inf")
        self._n += x.shape[0]
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """Add another accumulator's sums into this one (exact: sums commute)."""
        if other.dim != self.dim:
            raise ValueError(f"FeatureStats.merge: dim {other.dim} != {self.dim}")
        self._n += other._n
        self._sum += other._sum
        self._outer += other._outer
        return self

    def all_reduce(self) -> "FeatureStats":
        """Sum count/sum/outer over all torch.distributed processes (no-op when not initialised)."""
        import torch
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self
        n = torch.tensor([float(self._n)], dtype=torch.float64)
        s = torch.from_numpy(self._sum.copy())
        o = torch.from_numpy(self._outer.copy())
        for t in (n, s, o):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        self._n = int(round(n.item()))
        self._sum = s.numpy().astype(np.float64)
        self._outer = o.numpy().astype(np.float64)
        return self

    # ------------------------------------------------------------------ statistics
    @property
    def n(self) -> int:
        return self._n

    def mean(self) -> np.ndarray:
        """Sample mean ``[D]`` (float64)."""
        if self._n == 0:
            raise ValueError("FeatureStats.mean: no samples")
        return self._sum / self._n

    def cov(self, ddof: int = 1) -> np.ndarray:
        """Covariance ``[D, D]`` (float64): ``(sum x x^T - n mu mu^T) / (n - ddof)``.

        ddof=1 (unbiased, ``np.cov`` default) is the canonical FVD protocol; ddof=0 is StyleGAN-V's biased estimate.
        """
        if self._n - ddof <= 0:
            raise ValueError(f"FeatureStats.cov: need more than {ddof} samples, have {self._n}")
        mu = self.mean()
        c = (self._outer - self._n * np.outer(mu, mu)) / (self._n - ddof)
        return (c + c.T) / 2.0  # exact symmetry

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            "dim": np.array(self.dim, dtype=np.int64),
            "n": np.array(self._n, dtype=np.int64),
            "sum": self._sum.copy(),
            "outer": self._outer.copy(),
        }

    @classmethod
    def from_state_dict(cls, state) -> "FeatureStats":
        dim = int(np.asarray(state["dim"]))
        st = cls(dim)
        st._n = int(np.asarray(state["n"]))
        st._sum = np.asarray(state["sum"], dtype=np.float64).reshape(dim).copy()
        st._outer = np.asarray(state["outer"], dtype=np.float64).reshape(dim, dim).copy()
        return st

    def save(self, path: str | os.PathLike) -> Path:
        """Write an uncompressed ``.npz`` atomically."""
        from vidbench.cache import atomic_path

        path = Path(path)
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, **self.state_dict())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FeatureStats":
        with np.load(path, allow_pickle=False) as z:
            return cls.from_state_dict({k: z[k] for k in z.files})

    def copy(self) -> "FeatureStats":
        return FeatureStats.from_state_dict(self.state_dict())

    def __repr__(self) -> str:
        return f"FeatureStats(dim={self.dim}, n={self._n})"


def _to_numpy64(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().to("cpu").double().numpy()
    return np.asarray(x, dtype=np.float64)


def sqrt_psd(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix via ``eigh`` (negative round-off eigenvalues clamped to 0)."""
    a = (np.asarray(a, dtype=np.float64) + np.asarray(a, dtype=np.float64).T) / 2.0
    w, v = np.linalg.eigh(a)
    w = np.clip(w, 0.0, None)
    return (v * np.sqrt(w)) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, Eq. in §FID; FVD Eq. 2).

    ``||mu1-mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})`` with the trace term as the sum of square roots of the
    eigenvalues of the symmetric PSD matrix ``sqrt(S1) S2 sqrt(S1)``, computed as the singular values of
    ``sqrt(S1) sqrt(S2)``. All arithmetic in float64.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    s1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    s2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"frechet_distance: shape mismatch mu1 {mu1.shape}, mu2 {mu2.shape}, sigma1 {s1.shape}, sigma2 {s2.shape}"
        )
    for name, a in (("mu1", mu1), ("mu2", mu2), ("sigma1", s1), ("sigma2", s2)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"frechet_distance: {name} contains NaN or Inf")
    diff = mu1 - mu2
    # eig(sqrt(S1) S2 sqrt(S1)) = sv(sqrt(S1) sqrt(S2))^2 (>= 0 by construction): summing the singular values keeps
    # rounding at eps*|S| instead of sqrt(eps*|S|) per null direction, so identical rank-deficient sets give ~1e-12.
    r1, r2 = sqrt_psd(s1), sqrt_psd(s2)
    tr_covmean = float(np.sum(np.linalg.svd(r1 @ r2, compute_uv=False)))
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def frechet_distance_from_features(feats1, feats2, ddof: int = 1) -> float:
    """Convenience: Fréchet distance between two feature sets ``[N1, D]`` and ``[N2, D]``."""
    a, b = _to_numpy64(feats1), _to_numpy64(feats2)
    s1, s2 = FeatureStats(a.shape[1]), FeatureStats(b.shape[1])
    s1.update(a)
    s2.update(b)
    return frechet_distance(s1.mean(), s1.cov(ddof), s2.mean(), s2.cov(ddof))


class FrechetReference:
    """A fixed reference Gaussian (e.g. the real set) with ``sqrt(S1)`` computed once, for many distances to it
    (bootstrap resamples, FD-vs-N curves). ``distance(mu2, s2)`` equals :func:`frechet_distance`."""

    def __init__(self, mu, sigma):
        self.mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
        self.sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
        self.root = sqrt_psd(self.sigma)
        self.trace = float(np.trace(self.sigma))

    def distance(self, mu2, sigma2) -> float:
        mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
        s2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
        if mu2.shape != self.mu.shape or s2.shape != self.sigma.shape:
            raise ValueError(f"FrechetReference.distance: shape mismatch {mu2.shape} / {s2.shape}")
        diff = self.mu - mu2
        tr_covmean = float(np.sum(np.linalg.svd(self.root @ sqrt_psd(s2), compute_uv=False)))
        return float(diff @ diff + self.trace + np.trace(s2) - 2.0 * tr_covmean)
