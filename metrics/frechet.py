"""Streaming feature statistics and the Fréchet distance (shared by FVD and FID).

PROTOCOLS.md (FVD): mean and covariance in float64, unbiased covariance (ddof=1, ``np.cov``'s default; the StyleGAN-V
variant uses the biased ddof=0), Fréchet distance

    FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})

with the trace term computed robustly. ``Tr((S1 S2)^{1/2})`` equals ``Tr((sqrt(S1) S2 sqrt(S1))^{1/2})`` because
``S1 S2`` and ``sqrt(S1) S2 sqrt(S1)`` are similar; the latter is symmetric positive semi-definite, so its square root
trace is the sum of the square roots of its (non-negative) eigenvalues, i.e. the sum of the singular values of
``sqrt(S1) sqrt(S2)`` (square roots by ``eigh`` with eigenvalues clamped at 0) — no complex parts, no ``scipy.linalg.sqrtm``
(whose ``disp`` argument is deprecated in SciPy >= 1.17), no ill-conditioned non-symmetric solves.
For stacks of covariances of fewer than D samples (the bootstrap's resamples) the same trace is the sum of the
singular values of the small cross product of the centred, weighted samples (:func:`trace_sqrt_product_factored`).

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
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

__all__ = ["FDBootstrap", "FeatureStats", "FrechetReference", "bootstrap_fd", "frechet_distance",
           "frechet_distance_from_features", "sqrt_psd"]


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


# ---------------------------------------------------------------------------------------------------- bootstrap CI
BOOTSTRAP_METHOD = "two-sample bootstrap in a bias-corrected world (W2 geodesic), normal interval, target E[FD_N]"


@dataclass(frozen=True)
class FDBootstrap:
    """A confidence interval for ``E[FD_N]``, the expected Fréchet distance at the sample sizes actually used.

    ``value`` is the observed FD (an unbiased estimate of ``E[FD_N]`` by definition); ``std`` the bootstrap estimate of
    its standard deviation; ``ci`` = ``value ± z·std``. ``bias`` is the plain two-sample bootstrap estimate of
    ``E[FD_N] − FD_population`` and ``fd_debiased = value − bias`` an estimate of the population FD (it may be < 0
    when the two sets come from one distribution). ``units`` are the resampled units per set (videos, not frames).
    """

    value: float
    std: float
    ci: tuple[float, float]
    level: float
    k: int
    bias: float
    fd_debiased: float
    shrink_mean: float  # lambda of the mean part of the bias-corrected world (1 = observed sets unchanged)
    shrink_cov: float  # lambda of the covariance (Bures) part
    units: tuple[int, int]
    method: str = BOOTSTRAP_METHOD

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = list(self.ci)
        d["units"] = list(self.units)
        return d


def _group_index(groups, n: int) -> tuple[np.ndarray, int]:
    """Rows → dense unit index [n] and the number of units (each row its own unit when ``groups`` is None)."""
    if groups is None:
        return np.arange(n), n
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"bootstrap_fd: groups must have one entry per feature row ({n}), got shape {g.shape}")
    _, idx = np.unique(g, return_inverse=True)
    return idx.reshape(n), int(idx.max()) + 1


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total weights [B] and means [B,D] of rows ``x`` [n,D] under integer resampling weights ``w`` [B,n]."""
    tot = w.sum(axis=1)  # [B]
    return tot, (w @ x) / tot[:, None]


def _weighted_moments(x: np.ndarray, w: np.ndarray, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Means [B,D] and covariances [B,D,D] of rows ``x`` [n,D] with integer resampling weights ``w`` [B,n]."""
    tot, mu = _weighted_mean(x, w)
    second = np.swapaxes(w[:, :, None] * x, 1, 2) @ x  # [B,D,D] sum_i w_i x_i x_i^T
    cov = (second - tot[:, None, None] * mu[:, :, None] * mu[:, None, :]) / (tot - ddof)[:, None, None]
    return mu, (cov + np.swapaxes(cov, 1, 2)) / 2.0


def frechet_distance_batched(mu1, s1, mu2, s2) -> np.ndarray:
    """:func:`frechet_distance` for stacks ``mu [B,D]``, ``sigma [B,D,D]`` → ``[B]`` (trace term as the square roots
    of the eigenvalues of the symmetric PSD ``sqrt(S1) S2 sqrt(S1)``)."""
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]) @ np.swapaxes(v, 1, 2)  # [B,D,D] sqrt(S1)
    m = r1 @ s2 @ r1
    ev = np.clip(np.linalg.eigvalsh((m + np.swapaxes(m, 1, 2)) / 2.0), 0.0, None)
    d = mu1 - mu2
    return (d * d).sum(-1) + np.trace(s1, axis1=1, axis2=2) + np.trace(s2, axis1=1, axis2=2) - 2.0 * np.sqrt(ev).sum(-1)


def _weighted_factors(x: np.ndarray, w: np.ndarray, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Means [B,D] and covariance factors F [B,n,D] of rows ``x`` [n,D] with integer resampling weights ``w`` [B,n]:
    ``F_b = diag(sqrt(w_b)) (x - mu_b) / sqrt(sum(w_b) - ddof)``, so ``F_b^T F_b`` is the covariance that
    :func:`_weighted_moments` returns. Rows of weight 0 stay in as rows of zeros (a uniform batch shape; they add only
    zero singular values in :func:`trace_sqrt_product_factored`)."""
    tot, mu = _weighted_mean(x, w)
    scale = np.sqrt(w / (tot - ddof)[:, None])  # [B,n]
    return mu, scale[:, :, None] * (x[None, :, :] - mu[:, None, :])  # [B,n,D]


def trace_sqrt_product_factored(fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """``Tr((S1 S2)^{1/2})`` for ``S1 = A^T A``, ``S2 = B^T B`` from the factors ``A = fa`` [..., na, D] and
    ``B = fb`` [..., nb, D]: the sum of the singular values of the small matrix ``M = A B^T`` [..., na, nb].

    Why: ``S1 S2 = A^T (A B^T B)`` and ``(A B^T B) A^T = M M^T`` have the same non-zero eigenvalues (``XY`` and ``YX``
    always do), and ``M M^T`` — the Gram matrix of ``M`` — is symmetric PSD with eigenvalues ``sv(M)^2``. So
    ``Tr((S1 S2)^{1/2}) = Tr((sqrt(S1) S2 sqrt(S1))^{1/2}) = sum sv(M)``, exactly, at the cost of one
    ``[na,D] x [D,nb]`` product and an ``na x nb`` SVD instead of ``D x D`` eigendecompositions — cheaper whenever
    the factors have fewer rows than ``D`` (covariances of fewer than ``D`` samples). The SVD (not ``eigvalsh`` of the
    Gram) keeps the round-off of a null direction at ``eps*|M|`` rather than ``sqrt(eps)*|M|``.
    """
    m = fa @ np.swapaxes(fb, -1, -2)  # [..., na, nb]
    return np.linalg.svd(m, compute_uv=False).sum(-1)  # [...]


def frechet_distance_batched_factored(mu1, f1, mu2, f2) -> np.ndarray:
    """:func:`frechet_distance` for stacks of means ``mu [B,D]`` and covariance factors ``F [B,n,D]``
    (``sigma = F^T F``; ``n`` may differ between the sets) → ``[B]``; ``Tr(sigma) = ||F||_F^2`` and the trace term
    by :func:`trace_sqrt_product_factored`."""
    d = mu1 - mu2  # [B,D]
    tr1, tr2 = (f1 * f1).sum(axis=(-2, -1)), (f2 * f2).sum(axis=(-2, -1))  # [B]
    return (d * d).sum(-1) + tr1 + tr2 - 2.0 * trace_sqrt_product_factored(f1, f2)


# which path _resampled_fds takes: None = by size (factored when both sets have fewer rows than D), "dxd" or
# "factored" to force one (tests and benchmarks/bootstrap_fd_speed.py only)
_RESAMPLE_PATH: str | None = None


def _use_factored(rows_a: int, rows_b: int, d: int) -> bool:
    """The factored path when ``max(rows_a, rows_b) < D``: then its ``rows_a*rows_b*D`` product and
    ``min(rows)^2*max(rows)`` SVD per resample are below the ``rows*D^2 + ~10 D^3`` of the D×D path."""
    if _RESAMPLE_PATH is None:
        return max(rows_a, rows_b) < d
    if _RESAMPLE_PATH not in ("dxd", "factored"):
        raise ValueError(f"_RESAMPLE_PATH must be None, 'dxd' or 'factored', got {_RESAMPLE_PATH!r}")
    return _RESAMPLE_PATH == "factored"


def _unit_counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """[b, n] float64 draw counts of ``b`` resamples of ``n`` units with replacement."""
    draws = rng.integers(0, n, size=(b, n)) + n * np.arange(b)[:, None]
    return np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def _resampled_fds(xa, ia, na, xb, ib, nb, k, ddof, rng, chunk_bytes=1 << 28) -> np.ndarray:
    """FD of ``k`` independent resamples (units with replacement) of set a and of set b.

    Both sets with fewer rows than D (e.g. FVD: 64 videos, D=400): covariance factors [b,rows,D] and
    :func:`frechet_distance_batched_factored`; otherwise D×D covariances and :func:`frechet_distance_batched`. The
    two agree to round-off: ~2.5e-8 relative for N=64, D=400, which is the D×D path's own error (clamped null
    eigenvalues contribute ~sqrt(eps) each); the factored path matches a range-projected ``scipy.linalg.sqrtm``
    reference to ~1e-15 (tests/metrics/test_frechet.py). The chunk size ``step`` (hence the interleaving of the a/b
    draws from ``rng``, hence the resamples for a seed) is the same for both paths; it bounds the D×D path's [b,D,D]
    stacks, and the factored path's [b,rows_a+rows_b,D] factors and [b,rows_a,rows_b] products are smaller (rows < D).
    """
    d, rows = xa.shape[1], max(xa.shape[0], xb.shape[0])
    step = max(1, min(k, int(chunk_bytes // (8 * max(d * d * 4, rows * d)))))  # [b,D,D] stacks and [b,rows,D] temps
    factored = _use_factored(xa.shape[0], xb.shape[0], d)
    out = []
    for s in range(0, k, step):
        b = min(step, k - s)
        ca = _unit_counts(rng, b, na)[:, ia]  # [b, rows_a]: how often each row's unit was drawn
        cb = _unit_counts(rng, b, nb)[:, ib]
        if factored:
            m1, f1 = _weighted_factors(xa, ca, ddof)  # [b,D], [b,rows_a,D]
            m2, f2 = _weighted_factors(xb, cb, ddof)  # [b,D], [b,rows_b,D]
            out.append(frechet_distance_batched_factored(m1, f1, m2, f2))
        else:
            m1, s1 = _weighted_moments(xa, ca, ddof)  # [b,D], [b,D,D]
            m2, s2 = _weighted_moments(xb, cb, ddof)
            out.append(frechet_distance_batched(m1, s1, m2, s2))
    return np.concatenate(out)


def _psd_power(a: np.ndarray, p: float, rtol: float = 1e-10) -> np.ndarray:
    """``a^p`` of a symmetric PSD matrix on its range (pseudo-inverse powers for p < 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2.0)
    keep = w > rtol * max(float(w.max()), 1e-300)
    wp = np.zeros_like(w)
    wp[keep] = w[keep] ** p
    return (v * wp) @ v.T


def _mean_var_trace(x: np.ndarray, idx: np.ndarray, units: int) -> tuple[float, float]:
    """tr Var(overall mean) when units (rows grouped by ``idx``) are sampled: (plug-in, unbiased) estimates.

    The mean is the ratio ``sum_j s_j u_j / sum_j s_j`` of unit sums; its linearised variance is
    ``sum_j s_j^2 |u_j - m|^2 / S^2`` (plug-in), times ``units / (units - 1)`` (unbiased). One row per unit gives
    ``tr(S0)/n`` and ``tr(S1)/n``.
    """
    sizes = np.bincount(idx, minlength=units).astype(np.float64)  # [U]
    sums = np.zeros((units, x.shape[1]))
    np.add.at(sums, idx, x)
    m = sums.sum(axis=0) / sizes.sum()
    resid = sums - sizes[:, None] * m  # s_j (u_j - m)
    v0 = float((resid * resid).sum() / sizes.sum() ** 2)
    return v0, v0 * units / (units - 1)


def bootstrap_fd(real_feats, fake_feats, k: int = 200, seed: int = 0, ddof: int = 1, level: float = 0.95,
                 real_groups=None, fake_groups=None) -> FDBootstrap:
    """Confidence interval for ``E[FD_N]`` — the expected FD at the same real/fake sample sizes — from features.

    FD at finite N is biased upwards (Chong & Forsyth 2020), so the interval targets the mean of the FD one would get
    by repeating the whole evaluation at the same N, not the population FD. Both sets are random, so both are
    resampled, independently (the sets are unpaired), by unit (``*_groups``: e.g. the video of each frame for FID).

    A plain two-sample bootstrap of FD lives in a world whose population FD is the observed one, i.e. too large by the
    bias; FD's spread grows with the distance, so that interval is too wide (coverage ~1.0 when the sets are close).
    So (1) a plain bootstrap estimates the bias ``b = mean(FD*) − FD``; (2) the fake set is moved along the
    2-Wasserstein geodesic towards the real set — mean part and covariance (Bures) part separately, as W2² of
    Gaussians splits into the two — until each part equals its bias-corrected estimate (mean part:
    ``|m_r − m_f|² − tr(S_r)/n_r − tr(S_f)/n_f``, exact; covariance part: the remaining bootstrap bias); (3) the spread
    of FD over resamples of that world gives ``std`` and ``value ± z·std``. Coverage measured by Monte Carlo on
    Gaussian features (tests/metrics/test_frechet.py) is within 0.90–0.98 for nominal 95 % when the sets differ; for
    two sets from the same distribution the interval stays conservative (~0.98–1.0).

    Alternatives measured on the same Monte Carlo (D=8, N=200 per set, shifted/scaled Gaussians with E[FD_N]=1.12,
    200 repeats, k=300; identical sets in brackets): fakes-only percentile (the previous FVD code) 0.78 [0.41];
    two-sample percentile 0.75 [0.02] and basic 0.67 [0.15] (both centred on the plug-in FD, i.e. the wrong target);
    two-sample basic centred on the bootstrap mean 0.95–0.97 [0.995–1.00] (too wide when the sets are close). BCa was not used:
    its bias correction aims at the population FD (the functional of the two distributions), not at E[FD_N].

    ``k`` resamples per stage (2k FDs in all). Cost per FD: when both sets have fewer rows than D (FVD: 64 videos,
    D=400), ~n_a·n_b·D for the product of the covariance factors plus an n_a×n_b SVD
    (:func:`trace_sqrt_product_factored`); otherwise ~n·D² + two D×D eigendecompositions. Plus a fixed handful of D×D
    decompositions (point estimate, geodesic). Measured one-threaded for N=64, D=400, k=100 (2 cores, AMD EPYC;
    benchmarks/results_bootstrap_fd_speed_cpu2.json): 7.0 s with the D×D path, 0.21 s (33x).
    """
    xa, xb = _to_numpy64(real_feats), _to_numpy64(fake_feats)
    if xa.ndim != 2 or xb.ndim != 2 or xa.shape[1] != xb.shape[1]:
        raise ValueError(f"bootstrap_fd: expected [N1,D] and [N2,D] features, got {list(xa.shape)} / {list(xb.shape)}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap_fd: level must be in (0, 1), got {level}")
    if int(k) < 2:
        raise ValueError(f"bootstrap_fd: need k >= 2 resamples, got {k}")
    ia, na = _group_index(real_groups, xa.shape[0])
    ib, nb = _group_index(fake_groups, xb.shape[0])
    if na < 2 or nb < 2:
        raise ValueError(f"bootstrap_fd: need at least 2 units per set, got {na} real / {nb} fake")
    rng = np.random.default_rng(seed)
    ones_a, ones_b = np.ones((1, xa.shape[0])), np.ones((1, xb.shape[0]))
    (ma,), (sa,) = _weighted_moments(xa, ones_a, ddof)
    (mb,), (sb,) = _weighted_moments(xb, ones_b, ddof)
    value = frechet_distance(ma, sa, mb, sb)
    plain = _resampled_fds(xa, ia, na, xb, ib, nb, int(k), ddof, rng)
    bias = float(plain.mean() - value)
    # bias of the mean part E|m_r - m_f|^2 - |mu_r - mu_f|^2 = tr Var(m_r) + tr Var(m_f): unbiased estimate for the
    # real world, plug-in value for the bootstrap world (whose bias the plain resamples measured)
    va0, va1 = _mean_var_trace(xa, ia, na)
    vb0, vb1 = _mean_var_trace(xb, ib, nb)
    mean_bias_unbiased, mean_bias_world = va1 + vb1, va0 + vb0
    d2 = float((ma - mb) @ (ma - mb))
    bures = value - d2
    lam_m = float(np.sqrt(max(d2 - mean_bias_unbiased, 0.0) / d2)) if d2 > 0 else 0.0
    lam_c = float(np.sqrt(max(bures - (bias - mean_bias_world), 0.0) / bures)) if bures > 0 else 0.0
    lam_m, lam_c = min(lam_m, 1.0), min(lam_c, 1.0)
    # fake set moved along the W2 geodesic: x -> m(lam_m) + ((1-lam_c) T + lam_c I)(x - m_f), T the optimal map
    # N(m_f, S_f) -> N(m_r, S_r): T = S_f^-1/2 (S_f^1/2 S_r S_f^1/2)^1/2 S_f^-1/2 (pseudo-inverse on range(S_f))
    rf, rfi = _psd_power(sb, 0.5), _psd_power(sb, -0.5)
    t_map = rfi @ _psd_power(rf @ sa @ rf, 0.5) @ rfi
    a_map = (1.0 - lam_c) * t_map + lam_c * np.eye(xa.shape[1])
    xb_world = ma + lam_m * (mb - ma) + (xb - mb) @ a_map.T
    world = _resampled_fds(xa, ia, na, xb_world, ib, nb, int(k), ddof, rng)
    std = float(world.std(ddof=1))
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    return FDBootstrap(value=float(value), std=std, ci=(float(value - z * std), float(value + z * std)),
                       level=float(level), k=int(k), bias=bias, fd_debiased=float(value - bias),
                       shrink_mean=lam_m, shrink_cov=lam_c, units=(na, nb))


# ---------------------------------------------------------------------------------------------------- real-stats cache
REAL_CACHE_VERSION = 2


class CorruptCacheError(ValueError):
    """A statistics-cache file that cannot be trusted (unreadable, truncated, wrong key, checksum mismatch)."""


def real_stats_key(*, metric: str, protocol_id: str, fingerprint: str, n_real: int | None, limit: int | None,
                   clip_rule: str | None) -> dict:
    """Everything that decides which real clips make the statistics: the dataset fingerprint, the protocol id
    (protocol + detector weights), the protocol's number of real clips, ``--limit`` and the real-clip rule (hashed)."""
    import hashlib

    return {"version": REAL_CACHE_VERSION, "metric": metric, "protocol_id": protocol_id, "fingerprint": fingerprint,
            "n_real": None if n_real is None else int(n_real), "limit": None if limit is None else int(limit),
            "clip_rule_sha256": None if clip_rule is None else hashlib.sha256(clip_rule.encode()).hexdigest()[:16]}


def real_stats_path(key: dict) -> Path:
    """``VIDBENCH_CACHE/stats/<metric>-<protocol id>-<16 hex of the whole key>.npz``."""
    import hashlib
    import json

    from vidbench.cache import stats_cache_dir

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return stats_cache_dir() / f"{key['metric']}-{key['protocol_id']}-{digest}.npz"


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\t{a.dtype.str}\t{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_real_stats(path: Path, key: dict, stats: FeatureStats, **arrays: np.ndarray) -> Path:
    """Write statistics + extra arrays + the key + a sha256 checksum of all of them, atomically (temporary file in the
    same folder, then ``os.replace``): a reader sees the old file or the new one, never a mix, and two processes
    writing the same entry each rename a complete file of their own."""
    import json

    from vidbench.cache import atomic_path

    payload = {**{f"stats_{k}": np.asarray(v) for k, v in stats.state_dict().items()},
               **{f"x_{k}": np.asarray(v) for k, v in arrays.items()},
               "key": np.array(json.dumps(key, sort_keys=True))}
    payload["checksum"] = np.array(_checksum(payload))
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **payload)
    return path


def load_real_stats(path: Path, key: dict) -> tuple[FeatureStats, dict[str, np.ndarray]]:
    """Read a file written by :func:`save_real_stats`; :class:`CorruptCacheError` unless it is complete, its checksum
    matches and it was written for exactly ``key``."""
    import json

    try:
        with np.load(path, allow_pickle=False) as z:
            payload = {k: z[k] for k in z.files}
    except Exception as e:  # truncated zip, bad CRC, pickled object, not a zip at all
        raise CorruptCacheError(f"unreadable ({type(e).__name__}: {e})") from None
    if "checksum" not in payload or "key" not in payload:
        raise CorruptCacheError("no checksum/key (written by an older vidbench)")
    stored = str(payload.pop("checksum"))
    if _checksum(payload) != stored:
        raise CorruptCacheError("checksum mismatch")
    if json.loads(str(payload["key"])) != json.loads(json.dumps(key, sort_keys=True)):
        raise CorruptCacheError("written for another key")
    try:
        stats = FeatureStats.from_state_dict({k[6:]: v for k, v in payload.items() if k.startswith("stats_")})
    except (KeyError, ValueError) as e:
        raise CorruptCacheError(f"bad statistics ({e})") from None
    if stats.n < 2 or not (np.all(np.isfinite(stats._sum)) and np.all(np.isfinite(stats._outer))):
        raise CorruptCacheError(f"bad statistics (n={stats.n} or non-finite sums)")
    if key.get("n_real") is not None and stats.n > key["n_real"]:
        raise CorruptCacheError(f"holds {stats.n} real samples, more than the protocol's {key['n_real']}")
    return stats, {k[2:]: v for k, v in payload.items() if k.startswith("x_")}
