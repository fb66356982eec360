"""FVD I3D feature-extraction throughput: PyTorch port (fp32, BN folded) vs the TF-Hub graph, plus the fast mode.

Both networks get the same seeded well-conditioned random variables (the parity test's recipe; the real weights are
not downloadable here) and the same clips (16 frames from ../shared/data videos, TF1-resized to 224², [-1,1]).
Prints one JSON object: clips/s per backend and batch size, peak RSS, measured matmul/conv GFLOP/s with the FLOP
bound (I3D at 16×224² ≈ 55.6 GFLOP per clip), the fast-mode (bf16 after a float32 stem + channels_last_3d) speed ratio and its
FVD deviation from fp32 on the same clips. Not a test: run by hand, e.g.

    python benchmarks/fvd_throughput.py --threads 2 --batches 1,4,8
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch  # must precede tensorflow

GFLOP_PER_CLIP = 55.6  # 27.8 GMAC at 16x224x224 (issue #4)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def clips(shared: Path, n: int) -> np.ndarray:
    """``n`` real 16-frame clips: round-robin over the ../shared videos, successive non-overlapping windows (wrapping
    within each video when more clips are asked than it holds)."""
    from vidbench.metrics.fvd import PRESETS, preprocess

    from vidbench.video import read_video

    srcs = ["video/action/mmaction2_demo_armwrestling_340x256.mp4", "video/general/bigbuckbunny_1280x720.mp4",
            "video/action/mmaction2_test_pool_320x240.avi", "i3d/sample/v_CricketShot_g04_c01_rgb.gif",
            "video/talking_face/sadtalker_WDA_AlexandriaOcasioCortez_000_512.mp4",
            "video/quality/carphone_pristine_176x144.mp4"]
    full = {}
    vids = []
    for i in range(n):
        src = srcs[i % len(srcs)]
        if src not in full:
            full[src] = read_video(shared / src)
        v = full[src]
        windows = len(v) // 16
        k = (i // len(srcs)) % windows
        vids.append(v[16 * k:16 * k + 16])
    return preprocess(vids, PRESETS["fvd2048_16f"])  # [n,3,16,224,224]


def timed(fn, x, reps: int) -> float:
    fn(x[:1])  # warm-up (oneDNN primitive creation)
    t = time.perf_counter()
    for _ in range(reps):
        fn(x)
    return (time.perf_counter() - t) / reps


def machine_gflops(threads: int) -> dict:
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    torch.mm(a, b)
    t = time.perf_counter()
    k = 0
    while time.perf_counter() - t < 1.0:
        torch.mm(a, b)
        k += 1
    mm = 2 * 1024**3 * k / (time.perf_counter() - t) / 1e9
    conv = torch.nn.Conv3d(192, 128, 3, padding=1, bias=False).eval()
    x = torch.randn(1, 192, 8, 28, 28)
    with torch.no_grad():
        conv(x)
        t = time.perf_counter()
        k = 0
        while time.perf_counter() - t < 1.0:
            conv(x)
            k += 1
    flops = 2 * 192 * 128 * 27 * 8 * 28 * 28
    return {"matmul_fp32_gflops": round(mm, 1), "conv3d_fp32_gflops": round(flops * k / (time.perf_counter() - t) / 1e9, 1),
            "threads": threads}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--fvd-clips", type=int, default=8, help="clips per set for the fast-mode FVD deviation")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--no-tf", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from vidbench.metrics.detectors.i3d import (
        InceptionI3d,
        state_dict_from_tf_variables,
        tfhub_graph,
        well_conditioned_variables,
    )
    from vidbench.metrics.frechet import frechet_distance_from_features
    from vidbench.metrics.fvd import cpu_bf16_support

    shared = Path(args.shared)
    batches = [int(b) for b in args.batches.split(",")]
    out: dict = {"clip": "16x224x224", "gflop_per_clip": GFLOP_PER_CLIP, "machine": machine_gflops(args.threads)}
    out["machine"]["clips_per_s_bound_at_matmul_rate"] = round(out["machine"]["matmul_fp32_gflops"] / GFLOP_PER_CLIP, 2)
    x = clips(shared, max(batches + [2 * args.fvd_clips]))
    pb = shared / "i3d" / "tfhub_i3d_kinetics400_v1"
    shapes = None
    sess = None
    if not args.no_tf:
        from vidbench.tfcompat import import_tensorflow

        tf = import_tensorflow()
        graph, inp, outp, variables, _ = tfhub_graph(pb)
        shapes = {v.op.name: tuple(v.shape.as_list()) for v in variables}
        values = well_conditioned_variables(shapes, seed=1234)
        sess = tf.compat.v1.Session(graph=graph, config=tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1))
        with graph.as_default():
            sess.run(tf.compat.v1.global_variables_initializer())
            for v in variables:
                v.load(values[v.op.name], sess)
    else:
        from vidbench.metrics.detectors.i3d import tf_name_map

        raise SystemExit(f"--no-tf needs TF variable shapes; {len(tf_name_map())} names known but shapes are not")
    model = InceptionI3d()
    model.load_state_dict(state_dict_from_tf_variables(values, model))
    # the exact fp32 path exactly as metrics/fvd.py runs it: BN folded, channels_last_3d
    model = model.eval().fold_bn().to(memory_format=torch.channels_last_3d)
    rss0 = peak_rss_mb()

    def torch_fp32(b):
        with torch.no_grad():
            return model(b.contiguous(memory_format=torch.channels_last_3d))

    model_cl = InceptionI3d()
    model_cl.load_state_dict(state_dict_from_tf_variables(values, model_cl))
    model_cl = model_cl.eval().fold_bn().to(memory_format=torch.channels_last_3d)

    def torch_bf16(b):
        with torch.no_grad():  # the metric's fast mode: bf16 trunk after a float32 stem, float32 head
            return model_cl(b.contiguous(memory_format=torch.channels_last_3d), autocast_dtype=torch.bfloat16)

    def tf_graph(b):
        return sess.run(outp, {inp: b.permute(0, 2, 3, 4, 1).contiguous().numpy()})

    res: dict = {"torch_fp32": {}, "tf_graph": {}, "torch_bf16_fast": {}}
    for bs in batches:
        xb = x[:bs]
        for key, fn in (("tf_graph", tf_graph), ("torch_fp32", torch_fp32), ("torch_bf16_fast", torch_bf16)):
            dt = timed(fn, xb, args.reps)
            res[key][str(bs)] = round(bs / dt, 3)
            print(f"{key} batch {bs}: {bs / dt:.3f} clips/s", file=sys.stderr)
    out["clips_per_s"] = res
    best = {k: max(v.values()) for k, v in res.items()}
    out["torch_fp32_over_tf"] = round(best["torch_fp32"] / best["tf_graph"], 3)
    out["fast_over_tf"] = round(best["torch_bf16_fast"] / best["tf_graph"], 3)
    out["torch_fp32_gflops"] = round(best["torch_fp32"] * GFLOP_PER_CLIP, 1)
    out["tf_gflops"] = round(best["tf_graph"] * GFLOP_PER_CLIP, 1)
    out["bf16_cpu_support"] = list(cpu_bf16_support())
    # fast-mode FVD deviation on the same clips (N per set = --fvd-clips; small N: value dominated by bias)
    n = args.fvd_clips
    xa, xb2 = x[:n], x[n:2 * n]
    f32 = [torch_fp32(xa).double().numpy(), torch_fp32(xb2).double().numpy()]
    fbf = [torch_bf16(xa).double().numpy(), torch_bf16(xb2).double().numpy()]
    tff = [tf_graph(xa).astype(np.float64), tf_graph(xb2).astype(np.float64)]
    fvd32 = frechet_distance_from_features(*f32)
    fvdbf = frechet_distance_from_features(*fbf)
    fvdtf = frechet_distance_from_features(*tff)
    out["fvd"] = {"n_per_set": n, "torch_fp32": fvd32, "torch_bf16": fvdbf, "tf_graph": fvdtf,
                  "bf16_rel_deviation": abs(fvdbf - fvd32) / abs(fvd32),
                  "torch_vs_tf_rel_deviation": abs(fvd32 - fvdtf) / abs(fvdtf),
                  "max_abs_logit_diff_torch_vs_tf": float(np.abs(np.concatenate(f32) - np.concatenate(tff)).max()),
                  "max_abs_logit_diff_bf16_vs_fp32": float(np.abs(np.concatenate(fbf) - np.concatenate(f32)).max())}
    out["peak_rss_mb"] = {"after_setup": round(rss0, 1), "end": round(peak_rss_mb(), 1)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
