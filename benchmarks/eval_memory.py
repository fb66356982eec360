"""Is `vidbench eval` memory flat in N? Peak RSS of one whole eval (generate, resize, write mp4s and batch files,
draw and decode real clips, one metric pass per side) at 128², for N = 256 and N = 2,048.

Each N runs in a fresh subprocess (peak RSS is per process). The model is a tiny MoCoGAN-HD (StyleGAN2 at 32²,
16 channels, random weights: what is measured is the pipeline, not the videos; a 128² StyleGAN2 costs ~90 ms per
frame on one contended CPU thread, 50 min per run at N = 2,048), whose frames eval resizes to 128² (PIL Lanczos);
everything after that runs at 128²: mp4 and batch-file writes, real clips, metric. The real set is ``moving_mnist`` at
128² (2,048 of its 10,000 training videos drawn by the real-clip rule); the metric is a cheap Fréchet distance of
per-frame colour moments (96-d float64 streaming statistics, registered here) so the detector does not dominate the
time. Before streaming, `eval` held all N videos (N·16·128²·3 bytes: 201 MB at 256, 1.61 GB at 2,048) plus a copy
from ``np.concatenate``. Prints JSON; not a test:

    python benchmarks/eval_memory.py --sizes 256,2048 --out benchmarks/results_eval_memory_cpu2.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _register_metric(n: int) -> None:
    import numpy as np
    from vidbench.metrics.base import Metric
    from vidbench.metrics.frechet import FeatureStats, frechet_distance

    from vidbench.records import metric_result
    from vidbench.registry import METRICS, Entry

    class ColourMomentFD(Metric):
        kind = "distribution"

        def __init__(self, name, options):
            super().__init__(name, {"num_frames": 16, "num_real": n, "num_fake": n, "features": "rgb mean+std"},
                             options)
            self.reset()

        def reset(self):
            self.stats = {True: FeatureStats(96), False: FeatureStats(96)}

        def update(self, videos, real):
            x = np.stack([np.asarray(v[:16], np.float32) for v in videos])  # [B,16,H,W,3]
            f = np.concatenate([x.mean(axis=(2, 3)), x.std(axis=(2, 3))], axis=2).reshape(len(x), -1)  # [B,96]
            self.stats[real].update(f)

        def compute(self):
            r, f = self.stats[True], self.stats[False]
            return metric_result(value=frechet_distance(r.mean(), r.cov(), f.mean(), f.cov()), protocol=self.protocol,
                                 detector="colour moments", weights_hash=None, weights_verified=None,
                                 comparable=False, comparable_reasons=["benchmark metric"], elapsed_s=self.elapsed(),
                                 n_real=r.n, n_fake=f.n)

    METRICS._entries["bench_colour_fd"] = Entry("bench_colour_fd", ColourMomentFD)


def _checkpoint(d: Path) -> Path:
    import dataclasses

    import torch
    from vidbench.models.mocogan_hd import build_motion_generator, resolve_config, tiny_config
    from vidbench.models.mocogan_hd.trainer import CKPT_FORMAT
    from vidbench.models.stylegan2 import Generator, to_rosinality_state_dict
    from vidbench.models.stylegan2 import tiny_config as g_tiny

    torch.manual_seed(0)
    G = Generator(g_tiny(size=32, channels=16, style_dim=64, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, d / "g.pt")
    cfg = resolve_config(tiny_config(n_pca=16, hidden_dim=16, num_frames=16, frame_size=32, frame_stride=1))
    torch.save({"format": CKPT_FORMAT, "config": dataclasses.asdict(cfg), "step": 0, "epoch": 0,
                "meta": {"image_generator": {"path": str(d / "g.pt")}},
                "motion_generator": build_motion_generator(cfg).state_dict()}, d / "ckpt.pt")
    return d / "ckpt.pt"


def child(n: int, ckpt: str, out: str, batch: int) -> dict:
    import resource

    import torch

    torch.set_num_threads(1)
    _register_metric(n)
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.records import read_result

    t = time.perf_counter()
    cfg = EvalConfig(model="mocohd", dataset="moving_mnist", checkpoint=ckpt, metrics=("bench_colour_fd",),
                     num_frames=16, resolution=128, batch_size=batch, seed=0)
    run = evaluate(cfg, out, yes=True, progress=False)
    m = read_result(run)["metrics"]["bench_colour_fd"]
    return {"n": n, "n_fake": m["n_fake"], "n_real": m["n_real"], "value": m["value"],
            "elapsed_s": round(time.perf_counter() - t, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            "samples_npz_written": (run / "samples.npz").exists(),
            "mp4_files": len(list((run / "samples").glob("*.mp4")))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="256,2048")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--ckpt", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--runs", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.ckpt, args.runs, args.batch)))
        return 0
    runs = []
    with tempfile.TemporaryDirectory(prefix="vidbench_eval_mem_") as tmp:
        tmp = Path(tmp)
        ckpt = _checkpoint(tmp)
        env = {**os.environ, "VIDBENCH_CACHE": str(tmp / "cache"), "OMP_NUM_THREADS": "1"}
        for n in [int(s) for s in args.sizes.split(",")]:
            out = subprocess.run([sys.executable, __file__, "--child", str(n), "--ckpt", str(ckpt), "--runs",
                                  str(tmp / f"runs{n}"), "--batch", str(args.batch)], env=env, check=True,
                                 capture_output=True, text=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), file=sys.stderr)
    rss = [r["peak_rss_mb"] for r in runs]
    result = {"benchmark": "eval_memory", "resolution": 128, "frames": 16, "batch": args.batch,
              "cpu_threads": 1, "runs": runs, "peak_rss_ratio_max_over_min": round(max(rss) / min(rss), 3),
              "held_in_ram_before_streaming_mb": {str(r["n"]): round(r["n"] * 16 * 128 * 128 * 3 / 1e6, 1)
                                                  for r in runs}}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
