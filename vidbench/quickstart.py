"""`vidbench quickstart`: the offline end-to-end demo, on the embedded ``moving_mnist`` dataset.

1. train a tiny StyleGAN2 on moving_mnist frames (the frozen image generator of MoCoGAN-HD, §3);
2. W-space PCA of its mapping network (the V of Eqn. 2);
3. train MoCoGAN-HD's motion generator G_M with the frozen image generator (Eqn. 1–7, recipe ``paper``);
4. ``vidbench eval``: sample videos, write mp4 + npz, score them — FVD (I3D; with random weights unless the real
   TF-Hub weights are found, in which case the number is labelled ``[random-init]`` and ``comparable: false``),
   motion diversity (App. D) of the trained model vs its step-0 self, and the PCA variance curve (App. E);
5. print a summary with every path.

Nothing is downloaded. ``--smoke`` runs the same steps with tiny budgets (< 60 s; used by the tests).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vidbench.cache import atomic_write_json
from vidbench.errors import VidbenchError, WeightsMissingError


@dataclass(frozen=True)
class QuickstartBudget:
    image_iters: int  # StyleGAN2 steps at 32² (batch 16)
    pca_samples: int  # W codes for the PCA
    motion_steps: int  # G_M iterations
    motion_batch: int  # videos per G_M iteration
    motion_lr: float  # Adam lr of G_M, D_V, D_I (paper: 1e-4 for days on 8 GPUs; the demo uses 5e-4 for minutes)
    train_frames: int  # frames per training clip
    eval_videos: int  # videos generated and scored (FVD N)
    eval_frames: int  # frames per evaluated video (I3D needs >= 9)
    div_videos: int  # motion diversity K
    div_content: int  # motion diversity M


FULL = QuickstartBudget(image_iters=3000, pca_samples=20_000, motion_steps=600, motion_batch=8, motion_lr=5e-4,
                        train_frames=8, eval_videos=64,
                        eval_frames=16, div_videos=16, div_content=8)
SMOKE = QuickstartBudget(image_iters=8, pca_samples=2_000, motion_steps=3, motion_batch=4, motion_lr=5e-4,
                         train_frames=8, eval_videos=8,
                         eval_frames=16, div_videos=4, div_content=2)


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def frame_change(videos: np.ndarray) -> float:
    """Mean absolute change between consecutive frames of uint8 videos [N,T,H,W,C], in [0, 1] pixel units."""
    v = videos.astype(np.float32) / 255.0
    return float(np.abs(np.diff(v, axis=1)).mean())


def _fvd_detector() -> tuple[str | None, str]:
    """Use the real TF-Hub I3D weights when present; else the clearly labelled random-init detector."""
    from vidbench.weights import resolve_weights

    try:
        resolve_weights("i3d.kinetics400_tfhub")
        return None, "i3d.kinetics400_tfhub"
    except WeightsMissingError:
        return "i3d[random-init]", "i3d[random-init] (real weights not found: number is for the demo only)"


def run_quickstart(out: str | Path = "runs", *, smoke: bool = False, seed: int = 0, quiet: bool = False) -> dict:
    from vidbench.datasets import build_dataset
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.metrics.base import MetricOptions
    from vidbench.models.image_train import StyleGAN2Trainer, tiny_preset
    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.mocogan_hd import resolve_config, tiny_config
    from vidbench.models.mocogan_hd.trainer import Trainer
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.records import format_metric_line, read_result
    from vidbench.runner import build_metric

    b = SMOKE if smoke else FULL
    t_start = time.perf_counter()
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(out) / f"quickstart-{'smoke-' if smoke else ''}{stamp}"
    if root.exists():
        raise VidbenchError(f"{root} exists; pass another --out")
    root.mkdir(parents=True)
    progress = not quiet
    timings: dict[str, float] = {}
    torch.manual_seed(seed)

    # 1. image generator ------------------------------------------------------------------------------------
    _log(f"[1/4] StyleGAN2 (32², tiny) on moving_mnist frames: {b.image_iters} steps", quiet)
    t = time.perf_counter()
    icfg = tiny_preset(iters=b.image_iters, seed=seed, sample_every=0, ckpt_every=0,
                       pool_clips=32 if smoke else 256, log_every=max(1, min(25, b.image_iters)))
    itrainer = StyleGAN2Trainer(icfg, root / "image_generator", progress=progress)
    itrainer.train()
    grid_png = itrainer.save_samples("final.png")
    g_ckpt = root / "image_generator" / "checkpoint.pt"
    G, _ = load_rosinality_checkpoint(g_ckpt)
    G.eval().requires_grad_(False)
    timings["image_generator_s"] = time.perf_counter() - t

    # 2. PCA of W ---------------------------------------------------------------------------------------------
    _log(f"[2/4] W-space PCA from {b.pca_samples} codes", quiet)
    t = time.perf_counter()
    pca = compute_w_pca(G, n_samples=b.pca_samples, batch_size=1000, n_components=int(G.style_dim), seed=seed,
                        progress=False)
    pca_path = save_pca(root / "pca.npz", pca)
    from vidbench.metrics.pca_variance import PAPER as PCA_PAPER
    from vidbench.metrics.pca_variance import PcaVariance

    # the paper's protocol at this generator's W width (the protocol id records the difference)
    pcav = PcaVariance("pca_variance", dataclasses.replace(PCA_PAPER, dim=int(G.style_dim)))
    with torch.no_grad():
        w = G.mapping(torch.randn(min(b.pca_samples, 5000), G.style_dim, generator=torch.Generator().manual_seed(seed)))
    pca_result = pcav.compute(w.numpy(), plot_path=root / "pca_variance.png")
    timings["pca_s"] = time.perf_counter() - t

    # 3. motion generator --------------------------------------------------------------------------------------
    _log(f"[3/4] MoCoGAN-HD motion generator (recipe paper): {b.motion_steps} steps", quiet)
    t = time.perf_counter()
    n_pca = min(32, int(G.style_dim))
    mcfg = tiny_config(latent_dim=int(G.style_dim), n_pca=n_pca, hidden_dim=n_pca, num_frames=b.train_frames,
                       frame_size=int(G.size), total_steps=b.motion_steps, seed=seed, batch_size=b.motion_batch,
                       lr=b.motion_lr,
                       sample_every=b.motion_steps, ckpt_every=b.motion_steps, log_every=1)
    # the trainer keeps every frame_stride-th frame itself (MOCOGAN_HD_FACTS §4), so the dataset uses stride 1
    stride = resolve_config(mcfg).frame_stride
    ds = build_dataset("moving_mnist", num_frames=mcfg.num_frames * stride, size=int(G.size), seed=seed,
                       stride=1)
    basis = torch.as_tensor(pca.components)
    std = torch.as_tensor(pca.stdev)
    meta = {"model": "mocohd", "dataset": {"name": "moving_mnist", "fingerprint": ds.fingerprint()},
            "image_generator": {"path": str(g_ckpt.resolve())}, "pca": {"path": str(Path(pca_path).resolve())}}
    mtrainer = Trainer(mcfg, G, basis, std, ds, run_dir=root / "motion", progress=progress, meta=meta)
    step0_sampler_state = {k: v.clone() for k, v in mtrainer.gm.state_dict().items()}
    mtrainer.fit()
    motion_run = root / "motion"
    timings["motion_generator_s"] = time.perf_counter() - t

    # 4. evaluation -----------------------------------------------------------------------------------------
    _log(f"[4/4] eval: {b.eval_videos} videos × {b.eval_frames} frames", quiet)
    t = time.perf_counter()
    detector, detector_note = _fvd_detector()
    fvd_name = f"fvd{b.eval_videos}_{b.eval_frames}f"
    div_name = f"motion_div{b.div_videos}x{b.div_content}_{b.eval_frames}f"
    cfg = EvalConfig(model="mocohd", dataset="moving_mnist", checkpoint=str(motion_run), split="test",
                     metrics=(fvd_name, div_name), num_videos=b.eval_videos, num_frames=b.eval_frames,
                     resolution=int(G.size), seed=seed, batch_size=8, detector=detector, fps=8.0)
    eval_dir = evaluate(cfg, root / "eval", progress=progress)
    rec = read_result(eval_dir)
    # the same motion-diversity protocol on the step-0 motion generator: "frames move" means above this baseline
    from vidbench.models.mocogan_hd import load_sampler

    s0 = load_sampler(str(motion_run))
    s0.model.motion_generator.load_state_dict(step0_sampler_state)
    div0 = build_metric(div_name, MetricOptions(batch_size=8, progress=False)).compute(
        s0.generator_fn(num_frames=b.eval_frames, seed=seed))
    # "frames move": mean |x_{t+1} - x_t| (pixels in [0, 1]) of trained, step-0 and real clips
    with np.load(eval_dir / "samples.npz") as z:
        fake = z["video"]
    step0 = np.concatenate(list(s0.sample(len(fake), num_frames=b.eval_frames, seed=seed, batch_size=8)))
    test = build_dataset("moving_mnist", split="test", num_frames=b.eval_frames, size=int(G.size), seed=seed)
    real = np.stack([test[i].video for i in range(len(fake))])
    motion = {k: frame_change(v) for k, v in (("trained", fake), ("step0", step0), ("real", real))}
    timings["eval_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start

    summary = {
        "root": str(root),
        "smoke": smoke,
        "budget": dataclasses.asdict(b),
        "image_generator": {"checkpoint": str(g_ckpt), "samples_png": str(grid_png),
                            "final_losses": {k: itrainer.last.get(k) for k in ("d_loss", "g_loss")}},
        "pca": {"file": str(pca_path), "plot": str(root / "pca_variance.png"),
                "components_for_85pct": pca_result["value"]},
        "motion_generator": {"run": str(motion_run), "log": str(motion_run / "train_log.csv"),
                             "samples": sorted(str(p) for p in (motion_run / "samples").glob("*.gif"))},
        "eval": {"run": str(eval_dir), "detector": detector_note,
                 "metrics": {k: {"value": v["value"], "std": v.get("std"), "protocol_id": v["protocol_id"],
                                 "comparable": v["comparable"]} for k, v in rec["metrics"].items()},
                 "motion_div_step0": {"value": div0["value"], "std": div0.get("std")},
                 "frame_change": motion},
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }
    atomic_write_json(root / "quickstart.json", summary)
    if not quiet:
        print()
        print(f"quickstart finished in {timings['total_s']:.0f} s — everything is under {root}")
        print(f"  image generator samples: {grid_png}")
        print(f"  PCA: {pca_path} (components for 85 % of W variance: {pca_result['value']:.0f}); plot "
              f"{root / 'pca_variance.png'}")
        print(f"  motion training log: {motion_run / 'train_log.csv'}")
        print(f"  generated videos: {eval_dir / 'samples'} (mp4) and {eval_dir / 'samples.npz'}")
        for k, v in rec["metrics"].items():
            print("  " + format_metric_line(k, v).replace("\n", "\n  "))
        print(f"  {div_name} of the untrained (step-0) motion generator: {div0['value']:.4g} ± {div0['std']:.3g}")
        print(f"  mean frame-to-frame change |x_t+1 - x_t| (pixels in [0,1]): trained {motion['trained']:.4f}, "
              f"step-0 {motion['step0']:.4f}, real moving_mnist {motion['real']:.4f}")
        print(f"  FVD detector: {detector_note}")
    return json.loads(json.dumps(summary))
