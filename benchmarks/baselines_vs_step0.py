"""Judge trained baselines against their own step-0 model with offline measures (no detector weights needed).

TGANv2 (unconditional): N generated videos of the trained and of the step-0 checkpoint vs N real test clips —
sliced Wasserstein distance (SW2, 256 random directions, 100 quantiles) of 16×16 RGB frames and of 16×16 frame
differences, and the mean frame-to-frame change |x_t+1 − x_t| (real clips give the target value). A second real set
gives the real-vs-real floor.
DTVNet (prediction): the first frames of N real test clips → predictions by the trained and the step-0 model (and
"repeat the first frame" as a trivial reference); PSNR/SSIM (RGB, vidbench.metrics.psnr_ssim) against the clips'
own frames, SW2 of frames and frame differences vs the real clips, frame change.

    python benchmarks/baselines_vs_step0.py --tganv2 RUN_DIR --dtvnet RUN_DIR [--n 64] [--out results.json]

Prints one JSON object. These are not FVD values; they are the offline stand-in until real I3D weights are present.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def _small(videos: np.ndarray, side: int = 16) -> np.ndarray:
    """uint8 [N, T, H, W, 3] → float [N, T, side, side, 3] in [0, 1] (box average)."""
    n, t, h, w, c = videos.shape
    x = torch.from_numpy(videos).float().div(255).permute(0, 1, 4, 2, 3).reshape(n * t, c, h, w)
    x = torch.nn.functional.adaptive_avg_pool2d(x, side)
    return x.reshape(n, t, c, side, side).permute(0, 1, 3, 4, 2).numpy()


def sliced_w2(a: np.ndarray, b: np.ndarray, n_dirs: int = 256, n_q: int = 100, seed: int = 0) -> float:
    """SW2 between the point sets a [Na, D] and b [Nb, D] (quantile matching along random unit directions)."""
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((a.shape[1], n_dirs))
    d /= np.linalg.norm(d, axis=0, keepdims=True)
    q = (np.arange(n_q) + 0.5) / n_q
    pa, pb = np.quantile(a @ d, q, axis=0), np.quantile(b @ d, q, axis=0)
    return float(np.sqrt(np.mean((pa - pb) ** 2)))


def video_measures(videos: np.ndarray, real: np.ndarray) -> dict:
    sv, sr = _small(videos), _small(real)
    frames = lambda s: s.reshape(-1, int(np.prod(s.shape[2:])))  # noqa: E731
    diffs = lambda s: (s[:, 1:] - s[:, :-1]).reshape(-1, int(np.prod(s.shape[2:])))  # noqa: E731
    change = lambda v: float(np.abs(np.diff(v.astype(np.float32) / 255, axis=1)).mean())  # noqa: E731
    return {"sw2_frames": sliced_w2(frames(sv), frames(sr)), "sw2_diffs": sliced_w2(diffs(sv), diffs(sr)),
            "frame_change": change(videos), "frame_change_real": change(real)}


def judge_tganv2(run: Path, n: int, frames: int = 16) -> dict:
    from vidbench.baselines.tgan_v2 import TGANv2Sampler, load_generator

    from vidbench.datasets import build_dataset

    out = {}
    g, sd, _ = load_generator(run)
    cfg = g.cfg
    real = np.stack([build_dataset("moving_mnist", split="test", num_frames=frames, size=cfg.resolution,
                                   seed=0)[i].video for i in range(n)])
    floor = np.stack([build_dataset("moving_mnist", split="test", num_frames=frames, size=cfg.resolution,
                                    seed=1)[i].video for i in range(n)])
    out["real_vs_real"] = video_measures(floor, real)
    for name, ck in (("trained", run / "checkpoints" / "latest.pt"), ("step0", run / "checkpoints" /
                                                                       "step_0000000.pt")):
        g, sd, _ = load_generator(ck)
        vids = np.concatenate(list(TGANv2Sampler(g).sample(n, num_frames=frames, seed=123, batch_size=16)))
        out[name] = {"step": int(sd["step"]), **video_measures(vids, real)}
    return out


def judge_dtvnet(run: Path, n: int) -> dict:
    from vidbench.baselines.dtvnet import load_sampler
    from vidbench.metrics.psnr_ssim import psnr, ssim

    from vidbench.datasets import build_dataset

    s = load_sampler(str(run))
    cfg = s.cfg
    real = np.stack([build_dataset("synthetic_sky", split="test", num_frames=cfg.num_frames, size=cfg.size,
                                   seed=0)[i].video for i in range(n)])
    preds = {}
    for name, ck in (("trained", run / "checkpoints" / "latest.pt"), ("step0", run / "checkpoints" /
                                                                       "step_0000000.pt")):
        preds[name] = np.concatenate([load_sampler(str(ck)).predict(real[i:i + 8, 0], cfg.num_frames, seed=7 + i)
                                      for i in range(0, n, 8)])
    preds["repeat_first_frame"] = np.repeat(real[:, :1], cfg.num_frames, axis=1)
    out = {}
    for name, v in preds.items():
        p = float(np.mean([psnr(v[i, 1:], real[i, 1:]) for i in range(n)]))
        q = float(np.mean([ssim(v[i, 1:], real[i, 1:]) for i in range(n)]))
        out[name] = {"psnr_frames_2_to_T": p, "ssim_frames_2_to_T": q, **video_measures(v, real)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tganv2")
    ap.add_argument("--dtvnet")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {}
    if a.tganv2:
        res["tganv2"] = judge_tganv2(Path(a.tganv2), a.n)
    if a.dtvnet:
        res["dtvnet"] = judge_dtvnet(Path(a.dtvnet), a.n)
    text = json.dumps(res, indent=2)
    if a.out:
        Path(a.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
