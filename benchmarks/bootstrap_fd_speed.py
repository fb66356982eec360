"""Speed of :func:`vidbench.metrics.frechet.bootstrap_fd` at the FVD quickstart's size (N=64 videos per set, D=400)
with the resampled FDs through D×D covariances (the previous path, forced) and through the covariance factors (the
path chosen when both sets have fewer rows than D), in one run on this machine.

Same seeded random features and the same seed for both paths, so both see the same resamples; the JSON reports the
seconds per call (best of ``--repeats``), the speed-up, the largest relative difference of value/std/bias and of the
resampled FDs between the paths, and the CPU's model and flags. Run one-threaded, by hand, e.g.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python benchmarks/bootstrap_fd_speed.py --out benchmarks/results_bootstrap_fd_speed_cpu2.json
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from vidbench.machine import cpu_summary, emit_benchmark


def features(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlated Gaussian real/fake features [n, d], the fakes scaled and shifted."""
    rng = np.random.default_rng(seed)
    mix_r, mix_f = rng.normal(size=(d, d)) / np.sqrt(d), rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mix_r, rng.normal(size=(n, d)) @ mix_f * 1.3 + 0.2


def main() -> None:
    from vidbench.metrics import frechet

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=64, help="feature rows per set")
    ap.add_argument("--d", type=int, default=400, help="feature dimension")
    ap.add_argument("--k", type=int, default=100, help="bootstrap resamples per stage")
    ap.add_argument("--repeats", type=int, default=2, help="timed calls per path (best reported)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    real, fake = features(0, args.n, args.d)
    threads = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out: dict = {"features": f"real [{args.n},{args.d}], fake [{args.n},{args.d}] float64", "k": args.k,
                 "cpu": cpu_summary(), "numpy": np.__version__, "threads_env": threads, "runs": {}}
    results, fds = {}, {}
    try:
        for path in ("dxd", "factored"):
            frechet._RESAMPLE_PATH = path
            best = float("inf")
            for _ in range(args.repeats):
                t = time.perf_counter()
                results[path] = frechet.bootstrap_fd(real, fake, k=args.k, seed=0)
                best = min(best, time.perf_counter() - t)
            out["runs"][path] = {"seconds": round(best, 4), "value": results[path].value, "std": results[path].std,
                                 "bias": results[path].bias}
            idx = np.arange(args.n)
            fds[path] = frechet._resampled_fds(real, idx, args.n, fake, idx, args.n, args.k, 1,
                                               np.random.default_rng(1))
    finally:
        frechet._RESAMPLE_PATH = None
    out["speedup"] = round(out["runs"]["dxd"]["seconds"] / out["runs"]["factored"]["seconds"], 2)
    a, b = results["dxd"], results["factored"]
    out["max_rel_diff"] = {f: abs(getattr(a, f) - getattr(b, f)) / abs(getattr(a, f)) for f in ("value", "std", "bias")}
    out["max_rel_diff"]["resampled_fds"] = float(np.max(np.abs(fds["dxd"] - fds["factored"]) / np.abs(fds["dxd"])))
    emit_benchmark(out, args.out)


if __name__ == "__main__":
    main()
