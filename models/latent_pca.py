"""W-space PCA of an image generator's mapping network: the basis V and per-component std of MoCoGAN-HD Eqn. 2.

Paper App. A.1: sample m = 1,000,000 codes z ~ N(0,I), map them to w, run PCA and keep the top 384 of the 512
directions; the residual motion step moves w along ``diag(std) V``. The official code does this with sklearn
``IncrementalPCA`` on 250 batches of 4000 (MOCOGAN_HD_FACTS.md §5) and saves ``pca_comp.npy`` [512,512] and
``pca_stdev.npy`` [512].

Memory stays bounded: either a float64 streaming covariance (Chan et al. pairwise merge of per-batch mean and
scatter, then ``eigh``; memory O(D² + batch·D), exact) or sklearn IncrementalPCA (``method="incremental"``).

The result is one ``.npz`` (written atomically) with ``components`` [K,D] (rows = unit directions, sorted by
variance), ``stdev`` [K] = sqrt(explained variance), ``mean`` [D], ``explained_variance`` [K],
``explained_variance_ratio`` [K], ``n_samples`` and ``meta`` (JSON string).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import torch

from vidbench.cache import atomic_path
from vidbench.errors import VidbenchError

PAPER_SAMPLES = 1_000_000  # App. A.1
PAPER_BATCH = 4000  # official get_stats_pca.py: 250 iterations x 4000
PAPER_COMPONENTS = 384  # n_pca (App. A.1)


@dataclass
class WPCA:
    components: np.ndarray  # [K,D] unit rows, by decreasing variance
    stdev: np.ndarray  # [K] sqrt(explained variance)
    mean: np.ndarray  # [D]
    explained_variance: np.ndarray  # [K]
    explained_variance_ratio: np.ndarray  # [K] share of the total variance (trace over all D)
    n_samples: int
    meta: dict = field(default_factory=dict)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def basis(self, k: int | None = None) -> np.ndarray:
        """diag(stdev) V for the first k components [k,D] (the step basis of Eqn. 2)."""
        k = k or self.n_components
        return self.stdev[:k, None] * self.components[:k]


class StreamingCovariance:
    """Float64 running mean and scatter matrix, merged batch by batch (Chan, Golub & LeVeque 1979)."""

    def __init__(self, dim: int):
        self.n = 0
        self.mean = np.zeros(dim, np.float64)
        self.m2 = np.zeros((dim, dim), np.float64)

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float64)  # [B,D]
        nb = x.shape[0]
        if nb == 0:
            return
        mb = x.mean(0)
        xc = x - mb
        m2b = xc.T @ xc
        delta = mb - self.mean
        n = self.n + nb
        self.m2 += m2b + np.outer(delta, delta) * (self.n * nb / n)
        self.mean += delta * (nb / n)
        self.n = n

    def covariance(self) -> np.ndarray:
        if self.n < 2:
            raise VidbenchError("PCA needs at least 2 samples")
        return self.m2 / (self.n - 1)


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Deterministic signs: the largest-|.| entry of each row positive (sklearn ``svd_flip(u_based_decision=False)``)."""
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1
    return components * signs[:, None]


def pca_from_covariance(cov: np.ndarray, mean: np.ndarray, n: int, n_components: int, meta: dict | None = None) -> WPCA:
    evals, evecs = np.linalg.eigh(cov)  # ascending
    order = np.argsort(evals)[::-1]
    evals = np.clip(evals[order], 0, None)
    comps = _flip_signs(evecs[:, order].T)
    total = float(np.trace(cov))
    k = n_components
    return WPCA(comps[:k].astype(np.float32), np.sqrt(evals[:k]).astype(np.float32), mean.astype(np.float32),
                evals[:k].astype(np.float64), (evals[:k] / total).astype(np.float64), int(n), dict(meta or {}))


@torch.no_grad()
def sample_w(mapping: Callable[[torch.Tensor], torch.Tensor], style_dim: int, n: int, batch_size: int,
             seed: int = 0, device: str | torch.device = "cpu"):
    """Yield w batches [b,D] (float64 numpy) for ``n`` codes z ~ N(0,I) drawn from a seeded CPU generator."""
    gen = torch.Generator().manual_seed(seed)
    done = 0
    while done < n:
        b = min(batch_size, n - done)
        z = torch.randn(b, style_dim, generator=gen).to(device)
        yield mapping(z).double().cpu().numpy()
        done += b


def compute_w_pca(G, n_samples: int = PAPER_SAMPLES, batch_size: int = PAPER_BATCH,
                  n_components: int = PAPER_COMPONENTS, *, seed: int = 0, device: str | torch.device = "cpu",
                  method: Literal["covariance", "incremental"] = "covariance", progress: bool = True) -> WPCA:
    """PCA of w = G.mapping(z), z ~ N(0,I), over ``n_samples`` codes (paper App. A.1: 1,000,000; top 384 kept)."""
    from tqdm import tqdm

    dim = int(G.style_dim)
    if not 1 <= n_components <= dim:
        raise VidbenchError(f"n_components must be in 1..{dim}, got {n_components}")
    if method == "incremental" and batch_size < dim:
        raise VidbenchError(f"IncrementalPCA needs batch_size >= style_dim ({dim}), got {batch_size}")
    was_training = getattr(G, "training", False)
    if hasattr(G, "eval"):
        G.eval()
    mapping = G.mapping if hasattr(G, "mapping") else G
    bar = tqdm(total=n_samples, desc="w-space PCA", unit="w", disable=not progress, leave=False)
    meta = dict(n_samples=n_samples, batch_size=batch_size, seed=seed, method=method, style_dim=dim,
                n_components=n_components)
    try:
        if method == "covariance":
            acc = StreamingCovariance(dim)
            for w in sample_w(mapping, dim, n_samples, batch_size, seed, device):
                acc.update(w)
                bar.update(len(w))
            return pca_from_covariance(acc.covariance(), acc.mean, acc.n, n_components, meta)
        if method == "incremental":
            from sklearn.decomposition import IncrementalPCA

            ipca = IncrementalPCA(n_components=dim, whiten=False)
            for w in sample_w(mapping, dim, n_samples, batch_size, seed, device):
                ipca.partial_fit(w)
                bar.update(len(w))
            k = n_components
            return WPCA(ipca.components_[:k].astype(np.float32), np.sqrt(ipca.explained_variance_[:k]).astype(np.float32),
                        ipca.mean_.astype(np.float32), ipca.explained_variance_[:k].astype(np.float64),
                        ipca.explained_variance_ratio_[:k].astype(np.float64), int(ipca.n_samples_seen_), meta)
        raise VidbenchError(f"unknown PCA method {method!r}; use covariance or incremental")
    finally:
        bar.close()
        if was_training:
            G.train()


def save_pca(path: str | os.PathLike, pca: WPCA, extra_meta: dict | None = None) -> Path:
    """Write the PCA to one ``.npz`` atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise VidbenchError(f"{path}: the PCA file must end in .npz")
    meta = {**pca.meta, **(extra_meta or {}), "format": "vidbench-wpca-v1"}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, components=pca.components, stdev=pca.stdev, mean=pca.mean,
                     explained_variance=pca.explained_variance, explained_variance_ratio=pca.explained_variance_ratio,
                     n_samples=np.int64(pca.n_samples), meta=np.array(json.dumps(meta, sort_keys=True, default=str)))
    return path


def load_pca(path: str | os.PathLike, n_components: int | None = None) -> WPCA:
    """Load our ``.npz``, or the official pair ``pca_comp.npy`` + ``pca_stdev.npy`` (pass either file or the folder)."""
    p = Path(path)
    if p.is_dir() or p.name in ("pca_comp.npy", "pca_stdev.npy"):
        folder = p if p.is_dir() else p.parent
        comp_p, std_p = folder / "pca_comp.npy", folder / "pca_stdev.npy"
        if not comp_p.exists() or not std_p.exists():
            raise VidbenchError(f"{folder}: expected pca_comp.npy and pca_stdev.npy (MoCoGAN-HD get_stats_pca.py output)")
        comps = np.load(comp_p, allow_pickle=False).astype(np.float32)
        std = np.load(std_p, allow_pickle=False).astype(np.float32)
        if comps.ndim != 2 or std.shape != (comps.shape[0],):
            raise VidbenchError(f"{folder}: pca_comp {comps.shape} and pca_stdev {std.shape} do not match ([K,D] and [K])")
        mean_p = folder / "style_mean.npy"
        mean = np.load(mean_p, allow_pickle=False).astype(np.float32).reshape(-1) if mean_p.exists() else np.full(
            comps.shape[1], np.nan, np.float32)
        var = std.astype(np.float64) ** 2
        ratio_p = folder / "pca_var_ratio.npy"
        ratio = np.load(ratio_p, allow_pickle=False).astype(np.float64) if ratio_p.exists() else var / var.sum()
        pca = WPCA(comps, std, mean, var, ratio, -1, {"format": "mocogan-hd-npy", "source": str(folder)})
    else:
        if not p.exists():
            raise VidbenchError(f"{p}: PCA file not found (make one with `vidbench pca --image-generator CKPT`)")
        with np.load(p, allow_pickle=False) as z:
            missing = {"components", "stdev", "mean"} - set(z.files)
            if missing:
                raise VidbenchError(f"{p}: not a vidbench PCA file (missing {sorted(missing)})")
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
            ev = z["explained_variance"] if "explained_variance" in z.files else z["stdev"].astype(np.float64) ** 2
            pca = WPCA(z["components"], z["stdev"], z["mean"], ev,
                       z["explained_variance_ratio"] if "explained_variance_ratio" in z.files else ev / ev.sum(),
                       int(z["n_samples"]) if "n_samples" in z.files else -1, meta)
    if n_components is not None:
        if n_components > pca.n_components:
            raise VidbenchError(f"{path}: has {pca.n_components} components, {n_components} requested")
        pca = WPCA(pca.components[:n_components], pca.stdev[:n_components], pca.mean,
                   pca.explained_variance[:n_components], pca.explained_variance_ratio[:n_components], pca.n_samples,
                   pca.meta)
    return pca


__all__ = ["WPCA", "StreamingCovariance", "compute_w_pca", "save_pca", "load_pca", "sample_w", "pca_from_covariance"]
