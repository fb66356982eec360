"""`vidbench eval`: draw videos from a model, compare them with a dataset under named metric protocols, and write a
run folder (config.json, result.json, per_video.jsonl, samples/*.mp4, samples.npz)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidbench.errors import VidbenchError
from vidbench.metrics.base import MetricOptions
from vidbench.records import new_record, new_run_dir, write_config, write_per_video, write_result
from vidbench.registry import MODELS
from vidbench.runner import build_metric, run_metric
from vidbench.video import write_video, write_videos_npz


@dataclass(frozen=True)
class EvalConfig:
    model: str
    dataset: str
    checkpoint: str | None
    split: str | None = None
    metrics: tuple[str, ...] = ("fvd2048_16f",)
    num_videos: int | None = None  # None: each metric's protocol N
    num_frames: int = 16
    resolution: int = 128  # MoCoGAN-HD evaluates at 128² (PROTOCOLS.md FVD)
    seed: int = 0
    batch_size: int = 8
    device: str = "cpu"
    data_root: str | None = None
    detector: str | None = None
    detector_weights: str | None = None
    weights_dir: str | None = None
    fps: float = 10.0
    save_mp4: bool = True
    label: str | None = None  # free row name for tables (eval --label)


def _protocol_n(metric) -> int | None:
    if metric.kind in ("generator", "latent"):  # they draw their own samples
        return None
    p = metric.protocol
    for key in ("num_videos", "n", "num_samples", "n_fake"):
        v = p.get(key) if isinstance(p, dict) else getattr(p, key, None)
        if isinstance(v, int):
            return v
    return None


def evaluate(cfg: EvalConfig, out: str | Path, *, yes: bool = False, progress: bool = True) -> Path:
    from tqdm import tqdm

    from vidbench.datasets import build_dataset

    entry = MODELS.get(cfg.model)
    if not entry.meta.get("video"):
        raise VidbenchError(f"{cfg.model} is not a video model; `vidbench eval` needs one of the video models "
                            f"(`vidbench list models`)")
    if cfg.checkpoint is None and entry.meta.get("needs_checkpoint", True):
        raise VidbenchError(f"--checkpoint is required for {cfg.model} (evaluating random weights is meaningless)")
    opts = MetricOptions(device=cfg.device, batch_size=cfg.batch_size, detector=cfg.detector,
                         detector_weights=cfg.detector_weights, weights_dir=cfg.weights_dir, seed=cfg.seed,
                         progress=progress)
    metrics = [build_metric(m, opts) for m in cfg.metrics]
    n = cfg.num_videos or max((_protocol_n(m) or 0) for m in metrics) or 256
    sampler = entry.obj(cfg.checkpoint, device=cfg.device)
    dataset = build_dataset(cfg.dataset, split=cfg.split, num_frames=cfg.num_frames, size=cfg.resolution,
                            seed=cfg.seed, data_root=cfg.data_root)
    # rough ETA from one timed batch; above an hour the user must confirm
    t0 = time.perf_counter()
    gen = sampler.sample(n, num_frames=cfg.num_frames, seed=cfg.seed, batch_size=cfg.batch_size)
    first = next(gen)
    per_batch = time.perf_counter() - t0
    eta_h = per_batch * (n / max(1, len(first))) / 3600.0
    if eta_h > 1.0 and not yes:
        raise VidbenchError(f"generating {n} videos needs about {eta_h:.1f} h here; pass --yes to run it")

    run_dir = new_run_dir(out, cfg.model, cfg.dataset)
    write_config(run_dir, asdict(cfg))
    videos = [first]
    for b in tqdm(gen, total=None, desc="generate", disable=not progress, leave=False):
        videos.append(b)
    fake = np.concatenate(videos)[:n]  # uint8 [N,T,H,W,C]
    write_videos_npz(run_dir / "samples.npz", fake)
    if cfg.save_mp4:
        for i, v in enumerate(fake):
            write_video(run_dir / "samples" / f"{i:06d}.mp4", v, fps=cfg.fps)

    bs = cfg.batch_size

    def fake_batches():
        for s in range(0, len(fake), bs):
            yield [f"{i:06d}" for i in range(s, min(s + bs, len(fake)))], list(fake[s:s + bs])

    def real_batches():
        ids, vids = [], []
        for i in range(min(len(dataset), n)):
            clip = dataset[i]
            ids.append(clip.id)
            vids.append(clip.video)
            if len(vids) == bs:
                yield ids, vids
                ids, vids = [], []
        if vids:
            yield ids, vids

    results, rows_by_index = {}, {}
    for metric in metrics:
        if metric.kind == "generator":  # e.g. motion diversity: the metric drives the model through a callable
            make_fn = getattr(sampler, "generator_fn", None)
            if make_fn is None:
                raise VidbenchError(f"{metric.name} needs a generator callable; {cfg.model} does not provide one")
            res, rows = metric.compute(make_fn(num_frames=metric.num_frames or cfg.num_frames, seed=cfg.seed)), []
        elif metric.kind == "latent":
            raise VidbenchError(f"{metric.name} is computed from latent samples: use `vidbench pca` / the "
                                "pca_variance metric on a PCA run")
        else:
            res, rows = run_metric(metric, fake_batches=fake_batches, real_batches=real_batches,
                                   real_fingerprint=dataset.fingerprint())
        random_det = (res.get("detector") or "").endswith("[random-init]")
        results[metric.name + "[random-init]" if random_det and not metric.name.endswith("[random-init]")
                else metric.name] = res
        for r in rows:
            rows_by_index.setdefault(r["index"], {"index": r["index"], "id": r["id"].split("|")[0],
                                                  "seed": cfg.seed}).update(
                {f"{metric.name}.{k}": v for k, v in r.items() if k not in ("index", "id", "seed")})
    rec = new_record(model=cfg.model, dataset={"name": cfg.dataset, "split": cfg.split,
                                               "fingerprint": dataset.fingerprint()},
                     seed=cfg.seed, metrics=results, checkpoint=cfg.checkpoint,
                     checkpoint_hash=getattr(sampler, "checkpoint_hash", None),
                     recipe=getattr(sampler, "recipe", None), task="unconditional", label=cfg.label,
                     sampler=sampler.settings() if hasattr(sampler, "settings") else sampler.info())
    rows = [rows_by_index.get(i, {"index": i, "id": f"{i:06d}", "seed": cfg.seed}) for i in range(len(fake))]
    write_per_video(run_dir, rows)
    write_result(run_dir, rec)
    return run_dir
