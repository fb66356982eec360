"""FID InceptionV3 feature-extraction throughput: the plain network (BatchNorm, NCHW) vs the extractor's inference form
(BN folded into the convs, channels_last), both in float32, in one run on this machine.

Both get the same seeded random weights with non-trivial BN statistics (speed does not depend on the values; the real
weights' parity is checked in tests/metrics/detectors/test_real_weights.py) and the same uint8 images at 32² (the
quickstart's frames), resized by the network to 299². Prints one JSON object: images/s per form and thread count, the
speed ratio, the largest relative feature difference, and the CPU's model and flags. Not a test: run by hand, e.g.

    python benchmarks/fid_inception_throughput.py --threads 1,2 --out benchmarks/results_fid_inception_throughput_cpu2.json
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch

from vidbench.machine import cpu_summary, emit_benchmark


def networks(seed: int):
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3

    torch.manual_seed(seed)
    plain = FIDInceptionV3().eval().random_bn_statistics_(seed=seed + 1)
    return plain, copy.deepcopy(plain).fold_bn().to(memory_format=torch.channels_last)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("--images", type=int, default=50, help="images per timed batch")
    ap.add_argument("--repeats", type=int, default=2, help="timed batches per form (after one warm-up)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    plain, folded = networks(0)
    x = torch.randint(0, 256, (args.images, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    out: dict = {"images": f"{args.images} x 32x32 uint8 -> 299x299", "cpu": cpu_summary(), "torch": torch.__version__,
                 "runs": []}
    with torch.no_grad():
        ref, fast = plain.features(x), folded.features(x)
    out["max_rel_diff"] = float((fast - ref).abs().max() / ref.abs().max())
    for nt in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(nt)
        row: dict = {"threads": nt}
        for name, net in (("plain_nchw_bn", plain), ("folded_channels_last", folded)):
            net.features(x[:2])  # warm-up
            t = time.perf_counter()
            for _ in range(args.repeats):
                net.features(x)
            row[f"{name}_images_per_s"] = round(args.repeats * args.images / (time.perf_counter() - t), 2)
        row["speedup"] = round(row["folded_channels_last_images_per_s"] / row["plain_nchw_bn_images_per_s"], 3)
        out["runs"].append(row)
    emit_benchmark(out, args.out)


if __name__ == "__main__":
    main()
