"""Is FVD's memory flat in N? Peak RSS of one process that streams N generated clips through the FVD metric.

Each N runs in a fresh subprocess (peak RSS is per process); real set fixed at 64 clips, fake set N clips of
uint8 16×64×64 (resized to 224² by the protocol, as any input), batch 8, random-init I3D (the network and the
statistics code are what is measured; the number itself is not an FVD). Prints JSON; not a test:

    python benchmarks/fvd_memory.py --sizes 64,512
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def child(n_fake: int, n_real: int, batch: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(2)
    from vidbench.metrics.base import MetricOptions

    from vidbench.runner import build_metric

    name = f"fvd{n_fake}_16f"
    m = build_metric(name, MetricOptions(detector="i3d[random-init]", batch_size=batch, progress=False))
    rng = np.random.default_rng(0)

    def batches(n):
        for s in range(0, n, batch):
            k = min(batch, n - s)
            base = rng.integers(0, 256, size=(k, 1, 64, 64, 3), dtype=np.uint8)
            yield np.repeat(base, 16, axis=1)  # [k,16,64,64,3]

    t = time.perf_counter()
    for v in batches(n_real):
        m.update(v, real=True)
    rss_after_real = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for v in batches(n_fake):
        m.update(v, real=False)
    res = m.compute()
    return {"n_fake": n_fake, "n_real": n_real, "value": res["value"], "elapsed_s": round(time.perf_counter() - t, 1),
            "peak_rss_mb_after_real": round(rss_after_real, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,512")
    ap.add_argument("--real", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.real, args.batch)))
        return 0
    runs = []
    for n in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--real", str(args.real), "--batch",
                              str(args.batch)], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    peaks = [r["peak_rss_mb"] for r in runs]
    print(json.dumps({"runs": runs, "peak_rss_ratio_max_over_min": round(max(peaks) / min(peaks), 3)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
