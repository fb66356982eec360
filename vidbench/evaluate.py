"""`vidbench eval`: draw videos from a model, compare them with real clips under named metric protocols, and write a
run folder (config.json, result.json, per_video.jsonl, real_clips.jsonl, samples/*.mp4, samples.npz when small).

One protocol for both sides (DESIGN.md "CLI contract"; the rules below are recorded in every metric's protocol under
``protocol["eval"]`` and so are part of its protocol id):

* **Tasks.** ``unconditional`` (default): generated videos vs real clips (distribution and sample metrics; a paired
  metric is refused, since unconditional samples have no ground truth). ``predict`` (paper §4.1, Tab. 3): for each
  real clip, the sampler's ``predict(first_frame, T)`` (MoCoGAN-HD: Eqn. 8 inversion, then G_M from ẑ₁), paired with
  that clip's own frames; the UP-B row (frame 1 vs its reconstruction G(ẑ₁), frame 0 of the prediction) is its own
  entry ``<metric>_upb``. ``--gt``: the paper's GT rows from real clips only (real-vs-real Fréchet distances on two
  disjoint drawn sets of the same N; sample metrics such as ACD on the first set).
* **Real clips** are drawn by :mod:`vidbench.datasets.clips` (seeded, videos without replacement over the whole split,
  a random start per clip) and listed in ``real_clips.jsonl``.
* **Stride.** The stride the model was trained with (``sampler.frame_stride``, read from its checkpoint config);
  1 for ``samples:`` and for samplers that record none; ``--stride`` overrides. Recorded.
* **Resolution.** Real clips are Lanczos-resized by the dataset to the evaluation size (``--resolution``, the
  paper's 128²). Generated frames reach each metric through that metric's own named rule
  (``metric.eval_resize(real size)``, :func:`vidbench.metrics.resize.pre_resize`): the protocol's ``pre_resize``
  where it has one (``is10k_c3d``: cv2 cubic to 128), else cv2 INTER_AREA to the real size (an exact box mean for
  integer factors: MoCoGAN-HD's average pooling of generated frames). Paired metrics get the prediction at its clip's
  size (INTER_AREA). Upsampled or non-square generated frames, or an evaluation size other than the paper's 128²,
  make the value not comparable (reason recorded); the rule applied is in each entry's protocol.
* **N.** Each metric receives exactly its protocol's N generated and N real videos (the first N of the one stream);
  fewer (``--num-videos`` smaller, a short export) → ``comparable: false`` with the reason; never more.
* **Streaming.** Generated batches are resized, written (``samples/*.mp4`` at the evaluation size and a lossless
  ``work/fake_<batch>_<rule>.npy`` per batch and distinct resize rule) and fed to every metric as they come: one
  pass over the generated videos, one over the real clips, memory O(batch). ``samples.npz`` is written only when
  it is small (≤ 64 MiB) or asked for (``--save-npz``), streamed from the batch files.
* **Resume.** ``state.json`` in ``work/`` is updated atomically after each completed batch. ``eval --resume RUN_DIR``
  re-reads the run's config, *replays* the saved batches through fresh metrics (recomputing their features: metric
  accumulators are never persisted, so every metric kind resumes the same way) and continues generating from the
  first missing batch (``sample(..., start_batch=k)``; samplers without it are re-run from batch 0 and the first
  k batches dropped). Sampling is deterministic given the seed, so the result is identical. The real
  pass is deterministic and simply runs again. ``work/`` is removed when the run completes. The batch files need
  N·T·S²·3 bytes of disk per distinct resize rule while the run lasts (1.6 GB for 2,048 clips of 16 frames at
  128²); ``resumable=False`` (``--no-resume-files``) writes none and a killed run starts again.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidbench.errors import VidbenchError
from vidbench.metrics.base import MetricOptions
from vidbench.records import (
    new_record,
    new_run_dir,
    protocol_id,
    write_config,
    write_per_video,
    write_result,
)
from vidbench.registry import MODELS
from vidbench.runner import build_metric
from vidbench.video import write_video

TASKS = ("unconditional", "predict")
PAPER_EVAL_SIZE = 128  # the paper evaluates every metric on 128² frames (§4.1; PROTOCOLS.md FVD, IS pre_resize, ACD)
PAPER_INVERSION = {"iterations": 20_000, "lambda_vgg": 1.0}  # App. B, Eqn. 8
PREDICT_FRAMES = 31  # 16 codes with one interpolated midpoint each (MOCOGAN_HD_FACTS §12; the paper says "32")
NPZ_AUTO_BYTES = 64 << 20  # samples.npz written without --save-npz up to this size

# paper §4.1: the metric set of each dataset's table
DEFAULT_METRICS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ucf101", "unconditional"): ("is10k_c3d", "fvd2048_16f"),
    ("faceforensics", "unconditional"): ("fvd2048_16f", "acd256_facenet"),
    ("sky_timelapse", "unconditional"): ("fvd2048_16f",),
    ("sky_timelapse", "predict"): ("psnr_ssim_rgb",),
}
FALLBACK_METRICS = {"unconditional": ("fvd2048_16f",), "predict": ("psnr_ssim_rgb",)}


@dataclass(frozen=True)
class EvalConfig:
    model: str
    dataset: str
    checkpoint: str | None
    split: str | None = None  # None: the dataset's default split ("test" for --task predict, §4.1)
    metrics: tuple[str, ...] | None = None  # None: the paper's set for the dataset and task (DEFAULT_METRICS)
    num_videos: int | None = None  # None: each metric's protocol N; smaller -> not comparable; larger is capped
    num_frames: int | None = None  # None: the longest protocol's frames (16); 31 for --task predict
    resolution: int = 128  # evaluation size of both sides (MoCoGAN-HD evaluates at 128², PROTOCOLS.md FVD)
    seed: int = 0  # sampler seed and real-clip rule seed
    batch_size: int = 8
    device: str = "cpu"
    data_root: str | None = None
    detector: str | None = None
    detector_weights: str | None = None
    weights_dir: str | None = None
    fps: float = 10.0
    save_mp4: bool = True
    label: str | None = None  # free row name for tables (eval --label)
    task: str = "unconditional"  # unconditional | predict
    gt: bool = False  # the paper's GT rows from real clips only (no model)
    stride: int | None = None  # None: the model's training stride (checkpoint config); 1 for samples:
    save_npz: bool | None = None  # None: only when <= 64 MiB
    inversion_iterations: int = 20_000  # --task predict: Eqn. 8 iterations (App. B)
    lambda_vgg: float = 1.0  # --task predict: Eqn. 8 perceptual weight (App. B); 0 works without VGG16 (flagged)
    vgg_weights: str = "vgg16.imagenet"  # --task predict: registered name, a file, or "random-init" (tests)
    predict_interpolate: int = 1  # --task predict: midpoints between consecutive codes (16 codes -> 31 frames)
    bootstrap: int = 0  # resamples for the distribution metrics' confidence interval (MetricOptions.bootstrap)
    fast: bool = False  # metrics' opt-in fast mode where they have one (FVD: bf16 I3D trunk; in the protocol id)
    resumable: bool = True  # keep each generated batch in work/ until the run ends (disk: N·T·S²·3 bytes per rule)


# ---------------------------------------------------------------------------------------------------- helpers
def _proto_get(metric, *keys) -> Any:
    p = metric.protocol
    for key in keys:
        v = p.get(key) if isinstance(p, dict) else getattr(p, key, None)
        if v is not None:
            return v
    return None


def protocol_counts(metric) -> tuple[int | None, int | None]:
    """(N generated, N real) a metric's protocol asks for; None where the protocol names none."""
    if metric.kind == "distribution":
        n_fake = _proto_get(metric, "num_fake", "num_videos", "n")
        n_real = _proto_get(metric, "num_real") or n_fake
        return n_fake, n_real
    if metric.kind == "sample":
        return _proto_get(metric, "num_videos", "num_samples", "n"), None
    return None, None


def metric_resize(metric, size: int):
    """The rule that brings generated frames to ``metric``'s evaluation size (real clips are ``size``²): the metric's
    own ``eval_resize`` (protocol ``pre_resize``, else cv2 INTER_AREA to the real size); paired metrics and metrics
    without a rule get INTER_AREA to the real size (the prediction must match its clip)."""
    from vidbench.metrics.resize import GENERATED_RESIZE, EvalResize

    rule = None
    if metric.kind != "paired" and hasattr(metric, "eval_resize"):
        rule = metric.eval_resize((size, size))
    if rule is None or rule.size is None:
        rule = EvalResize((size, size), GENERATED_RESIZE, "evaluation size")
    return rule


def resolution_reason(h: int, w: int, size: int) -> str | None:
    if h != w:
        return f"generated frames are {h}x{w}, not square: resized to {size}² with a change of aspect"
    if h < size:
        return f"generated at {h}² < evaluation size {size}²: upsampled"
    return None


def _save_npy(path: Path, arr: np.ndarray) -> None:
    from vidbench.cache import atomic_path

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, arr)


def write_npz_streaming(path: Path, batch_files: list[Path]) -> Path:
    """``samples.npz`` (key ``video``, uint8 [N,T,H,W,C]) assembled batch by batch (memory O(batch)), atomically."""
    import zipfile

    from vidbench.cache import atomic_path

    shapes = [np.load(f, mmap_mode="r").shape for f in batch_files]
    n = sum(s[0] for s in shapes)
    shape = (n, *shapes[0][1:])
    with atomic_path(path, suffix=".npz") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            with zf.open("video.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": shape})
                for f in batch_files:
                    fh.write(np.ascontiguousarray(np.load(f)).tobytes())
    return path


def config_from_json(d: dict) -> EvalConfig:
    names = {f.name for f in dataclasses.fields(EvalConfig)}
    kw = {k: v for k, v in d.items() if k in names}
    if kw.get("metrics") is not None:
        kw["metrics"] = tuple(kw["metrics"])
    return EvalConfig(**kw)


class _NoRule:
    """Stands for "no metric": :func:`metric_resize` gives the plain evaluation-size rule (mp4s, samples.npz)."""

    kind = "paired"


@dataclass
class _Slot:
    """One requested metric, the counts it gets and what it was fed."""

    name: str
    metric: Any
    n_fake: int | None = None  # videos it reads from the generated (or predicted / second real) stream
    n_real: int | None = None
    proto_fake: int | None = None
    proto_real: int | None = None
    fed_fake: int = 0
    fed_real: int = 0
    real_cached: bool = False
    upb: Any = None  # --task predict: the UP-B twin of a paired metric
    ids: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- evaluate
def evaluate(cfg: EvalConfig, out: str | Path, *, yes: bool = False, progress: bool = True,
             resume: str | Path | None = None) -> Path:
    """Run ``cfg`` and return its run folder (``resume``: continue the killed run in that folder; ``cfg`` is then
    taken from its config.json and ``out`` is ignored)."""
    state: dict = {}
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.json").exists():
            raise VidbenchError(f"{run_dir}: not an eval run folder (no config.json); pass the folder `eval` printed")
        if (run_dir / "result.json").exists() and not (run_dir / "work").exists():
            raise VidbenchError(f"{run_dir}: this run already completed (result.json); nothing to resume")
        cfg = config_from_json(json.loads((run_dir / "config.json").read_text()))
        sp = run_dir / "work" / "state.json"
        state = json.loads(sp.read_text()) if sp.exists() else {}
    ev = _Evaluation(cfg, progress)
    first = None
    if resume is None:
        first = ev.first_batch(yes)  # ETA from one timed batch: above an hour the user must confirm
        run_dir = new_run_dir(out, "gt" if cfg.gt else cfg.model, cfg.dataset)
        write_config(run_dir, asdict(cfg))
    ev.start(run_dir, int(state.get("batches_done", 0)), state.get("generated_hw", []))
    ev.fake_pass(first)
    ev.real_pass()
    return ev.finish()


class _Evaluation:
    """One `vidbench eval`: the plan (metrics, counts, real clips) and its two passes (module docstring)."""

    def __init__(self, cfg: EvalConfig, progress: bool):
        self.cfg, self.progress = cfg, progress
        self.task = cfg.task
        if self.task not in TASKS:
            raise VidbenchError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if cfg.gt and self.task != "unconditional":
            raise VidbenchError("--gt computes the unconditional GT rows (real vs real); drop --task predict")
        self.metrics = self._build_metrics()
        self.sampler = None if cfg.gt else self._build_sampler()
        self.stride, self.stride_source = self._stride()
        self._build_dataset()
        self.slots = [_Slot(m.name, m) for m in self.metrics]
        self._counts()
        self._draw_real_clips()
        self.slot_rule = {s.name: metric_resize(s.metric, self.size) for s in self.slots}
        # distinct (size, method) pairs: rules that differ only in how they were chosen give the same pixels
        by_pixels = {(r.size, r.method): r for r in reversed([metric_resize(_NoRule, self.size),
                                                               *self.slot_rule.values()])}
        self.rules = list(reversed(list(by_pixels.values())))  # [0]: the plain evaluation size (mp4s, samples.npz)
        self.rule_index = {name: [(r.size, r.method) for r in self.rules].index((rz.size, rz.method))
                           for name, rz in self.slot_rule.items()}
        self.gen_hw: set[tuple[int, int]] = set()
        self.bs = max(1, int(cfg.batch_size))
        self.n_batches = 0 if cfg.gt else -(-self.n_fake_total // self.bs)
        self.predict_opts = {"iterations": cfg.inversion_iterations, "lambda_vgg": cfg.lambda_vgg,
                             "vgg_weights": cfg.vgg_weights, "weights_dir": cfg.weights_dir,
                             "interpolate": cfg.predict_interpolate, "progress": False}
        self._gen_it = None

    # ------------------------------------------------------------------------------------------------ plan
    def _build_metrics(self) -> list:
        cfg, task = self.cfg, self.task
        names = tuple(cfg.metrics) if cfg.metrics else DEFAULT_METRICS.get((cfg.dataset, task),
                                                                          FALLBACK_METRICS[task])
        if cfg.gt and not cfg.metrics:
            names = tuple(n for n in names if not n.startswith("is")) or ("fvd2048_16f",)
        opts = MetricOptions(device=cfg.device, batch_size=cfg.batch_size, detector=cfg.detector,
                             detector_weights=cfg.detector_weights, weights_dir=cfg.weights_dir, seed=cfg.seed,
                             progress=self.progress, bootstrap=int(cfg.bootstrap), fast=bool(cfg.fast))
        from vidbench.registry import METRICS

        for name in names:  # refuse a wrong kind before any detector is loaded
            self._check_kind(name, METRICS.get(name).meta.get("kind"))
        metrics = [build_metric(m, opts) for m in names]
        for m in metrics:
            self._check_kind(m.name, m.kind)
        return metrics

    def _check_kind(self, name: str, kind: str | None) -> None:
        task = self.task
        if task == "unconditional" and kind == "paired":
            raise VidbenchError(f"{name} pairs each prediction with its own ground truth; unconditional "
                                f"samples have none: run it with `vidbench eval --task predict`")
        if task == "predict" and kind is not None and kind != "paired":
            raise VidbenchError(f"--task predict scores paired metrics (psnr_ssim_rgb, psnr_ssim_y); {name} is "
                                f"a {kind} metric: run it in a separate `vidbench eval` without --task predict")
        if kind == "latent":
            raise VidbenchError(f"{name} is computed from latent samples: use `vidbench pca` / the "
                                "pca_variance metric on a PCA run")
        if self.cfg.gt and kind == "generator":
            raise VidbenchError(f"{name} needs a model; --gt computes rows from real clips only")

    def _build_sampler(self):
        cfg = self.cfg
        entry = MODELS.get(cfg.model)
        if not entry.meta.get("video"):
            raise VidbenchError(f"{cfg.model} is not a video model; `vidbench eval` needs one of the video models "
                                f"(`vidbench list models`)")
        if cfg.checkpoint is None and entry.meta.get("needs_checkpoint", True):
            raise VidbenchError(f"--checkpoint is required for {cfg.model} (evaluating random weights is "
                                "meaningless)")
        sampler = entry.obj(cfg.checkpoint, device=cfg.device)
        if self.task == "predict" and not hasattr(sampler, "predict"):
            raise VidbenchError(f"{cfg.model} has no predict(first_frames, T): it cannot run --task predict")
        return sampler

    def _stride(self) -> tuple[int, str]:
        cfg = self.cfg
        if cfg.stride is not None:
            stride, source = int(cfg.stride), "--stride"
        elif self.sampler is not None and getattr(self.sampler, "frame_stride", None):
            stride = int(self.sampler.frame_stride)
            source = ("samples: exported frames are consecutive" if cfg.model.startswith("samples:")
                      else "the model's training config (frame_stride)")
        else:
            stride, source = 1, ("--gt default (pass --stride to match the models compared)" if cfg.gt
                                 else "default 1: the model records no training stride")
        if stride < 1:
            raise VidbenchError(f"--stride must be >= 1, got {stride}")
        return stride, source

    def _build_dataset(self) -> None:
        from vidbench.datasets import DATASETS, build_dataset
        from vidbench.datasets.preprocess import ClipConfig

        cfg = self.cfg
        entry = DATASETS.get(cfg.dataset)
        split = cfg.split
        if split is None and self.task == "predict" and "test" in (entry.meta.get("splits") or ()):
            split = "test"  # §4.1: "Evaluation is performed on the testing set"
        frames_needed = [m.num_frames for m in self.metrics if m.num_frames]
        self.T = cfg.num_frames or (PREDICT_FRAMES if self.task == "predict" else max(frames_needed or [16]))
        self.size = int(cfg.resolution)
        kw: dict = {"stride": self.stride}
        if entry.meta.get("config") is ClipConfig or cfg.dataset.startswith("folder:"):
            kw["length_rule"] = "minimal"  # every video holding one T-frame window at this stride can give a clip
        self.dataset = build_dataset(cfg.dataset, split=split, num_frames=self.T, size=self.size, seed=0,
                                     data_root=cfg.data_root, progress=self.progress, **kw)
        self.split = self.dataset.split
        self.fp = self.dataset.fingerprint()

    def _counts(self) -> None:
        """Exactly the protocol's N per side and metric; fewer -> a reason; never more."""
        cfg = self.cfg
        for s in self.slots:
            m = s.metric
            if m.kind == "generator":
                continue
            if m.kind == "paired":
                s.proto_fake = s.proto_real = len(self.dataset)  # every clip of the split once (Tab. 3 test set)
            else:
                s.proto_fake, s.proto_real = protocol_counts(m)
                if cfg.gt and m.kind == "sample":  # sample metrics score the real clips themselves
                    s.proto_real, s.proto_fake = s.proto_fake, None
            for side in ("fake", "real"):
                proto = getattr(s, f"proto_{side}")
                if proto is None:
                    continue
                n = min(proto, cfg.num_videos) if cfg.num_videos else proto
                setattr(s, f"n_{side}", n)
                if n < proto and m.kind == "paired":
                    if side == "fake":
                        s.reasons.append(f"N={n} < the split's {proto} videos (Tab. 3 scores every test clip)")
                elif n < proto:
                    what = "generated" if side == "fake" else "real"
                    s.reasons.append(f"N={n} < protocol N={proto} ({what} videos)")
            if m.num_frames and self.T < m.num_frames:
                s.reasons.append(f"videos have {self.T} frames < the protocol's {m.num_frames}")
            if self.size != PAPER_EVAL_SIZE:
                s.reasons.append(f"evaluation size {self.size}² != the paper's {PAPER_EVAL_SIZE}²")
        available = getattr(self.sampler, "available", None)  # samples: exports hold a fixed number of videos
        if isinstance(available, int) and self.task == "unconditional":
            for s in self.slots:
                if s.n_fake is not None and s.n_fake > available:
                    s.n_fake = available
                    s.reasons.append(f"N={available} < protocol N={s.proto_fake} (only {available} exported videos)")
        self.n_fake_total = max([s.n_fake or 0 for s in self.slots], default=0)
        self.n_real_a = max([s.n_real or 0 for s in self.slots], default=0)
        if self.task == "predict":
            self.n_real_a = self.n_fake_total = max(self.n_real_a, self.n_fake_total)
        self.n_clips = self.n_real_a + (self.n_fake_total if cfg.gt else 0)  # --gt: set B follows set A
        if self.n_clips == 0 and self.n_fake_total == 0 and any(s.metric.kind != "generator" for s in self.slots):
            raise VidbenchError("no videos to evaluate: pass --num-videos N")

    def _draw_real_clips(self) -> None:
        from vidbench.datasets.clips import RealClipRule, clips_key, draw_real_clips

        cfg = self.cfg
        self.rule = RealClipRule(dataset=cfg.dataset, split=self.split, num_clips=self.n_clips, num_frames=self.T,
                                 stride=self.stride, resolution=self.size, seed=cfg.seed)
        self.refs = draw_real_clips(self.dataset, self.rule) if self.n_clips else []
        self.real_sets = {"A": (0, self.n_real_a)} | ({"B": (self.n_real_a, self.n_clips)} if cfg.gt else {})
        if cfg.gt and self.n_clips > len(self.dataset):
            for s in self.slots:
                s.warnings.append(f"the two real sets draw {self.n_clips} clips from {len(self.dataset)} videos: "
                                  "some videos give clips to both sets (different random starts)")
        for s in self.slots:  # the real-set rule reaches the metric (its real-statistics cache keys on it)
            if s.n_real:
                s.metric.options = dataclasses.replace(
                    s.metric.options,
                    real_clips={**asdict(self.rule), "num_clips": None, "dataset_fingerprint": self.fp,
                                "n": s.n_real, "key": clips_key(self.fp, self.rule, s.n_real)})

    # ------------------------------------------------------------------------------------------------ sources
    def real_batches(self, lo: int, hi: int, desc: str):
        """(clip refs, uint8 [B,T,S,S,3]) of drawn clips lo..hi, decoded one batch ahead in a thread."""
        from tqdm import tqdm

        from vidbench.datasets.clips import read_clip
        from vidbench.runner import prefetch

        def gen():
            for a in range(lo, hi, self.bs):
                part = self.refs[a:min(hi, a + self.bs)]
                yield part, np.stack([read_clip(self.dataset, r) for r in part])

        bar = tqdm(total=hi - lo, desc=desc, unit="clip", disable=not self.progress, leave=False)
        for part, vids in prefetch(gen()):
            bar.update(len(part))
            yield part, vids
        bar.close()

    def _batch_refs(self, b: int) -> list:
        return self.refs[b * self.bs:min(self.n_fake_total, (b + 1) * self.bs)]

    def _read_refs(self, part) -> np.ndarray:
        from vidbench.datasets.clips import read_clip

        return np.stack([read_clip(self.dataset, r) for r in part])

    def fit(self, v: np.ndarray) -> list[np.ndarray]:
        """Native uint8 [B,T',H,W,C] -> one array [B,T,h,w,C] per distinct resize rule (``self.rules``)."""
        from vidbench.metrics.resize import pre_resize

        v = np.asarray(v)
        if v.ndim != 5 or v.dtype != np.uint8:
            raise VidbenchError(f"{self.cfg.model}: sampler returned {v.dtype} {list(v.shape)}, expected uint8 "
                                "[B,T,H,W,C]")
        if v.shape[1] < self.T:
            raise VidbenchError(f"{self.cfg.model}: videos have {v.shape[1]} frames, the evaluation needs {self.T}; "
                                f"pass --frames {v.shape[1]} (not comparable below a metric's frames)")
        self.gen_hw.add((int(v.shape[2]), int(v.shape[3])))
        v = np.ascontiguousarray(v[:, :self.T])
        return [pre_resize(v, r) for r in self.rules]

    def generated(self, start_batch: int):
        """Batches ``start_batch``.. of generated (or predicted) videos, each as :meth:`fit` returns it."""
        cfg, s = self.cfg, self.sampler
        if self.task == "predict":
            for b in range(start_batch, self.n_batches):
                reals = self._read_refs(self._batch_refs(b))
                yield self.fit(s.predict(reals[:, 0], self.T, seed=cfg.seed * 1_000_003 + b,
                                         options=self.predict_opts))
            return
        kw = dict(num_frames=self.T, batch_size=self.bs, seed=cfg.seed)
        if start_batch and "start_batch" in inspect.signature(s.sample).parameters:
            it, skip = s.sample(self.n_fake_total, start_batch=start_batch, **kw), 0
        else:
            it, skip = s.sample(self.n_fake_total, **kw), start_batch
        for b, v in enumerate(it):
            if b >= skip:
                yield self.fit(v)

    def first_batch(self, yes: bool) -> list[np.ndarray] | None:
        """Generate and time batch 0; refuse when the whole generation would take above an hour without ``yes``."""
        if not self.n_batches:
            return None
        t0 = time.perf_counter()
        self._gen_it = self.generated(0)
        first = next(self._gen_it)
        eta_h = (time.perf_counter() - t0) * self.n_batches / 3600.0
        if eta_h > 1.0 and not yes:
            what = "predicting" if self.task == "predict" else "generating"
            raise VidbenchError(f"{what} {self.n_fake_total} videos needs about {eta_h:.1f} h here; pass --yes to "
                                "run it")
        return first

    # ------------------------------------------------------------------------------------------------ passes
    def start(self, run_dir: Path, done: int, replayed_hw: list) -> None:
        from vidbench.datasets.clips import write_real_clips

        self.run_dir, self.done = run_dir, done
        self.gen_hw |= {tuple(x) for x in replayed_hw}  # sizes of the batches a resume replays
        write_real_clips(run_dir / "real_clips.jsonl", self.refs, self.real_sets)
        self.work = run_dir / "work"
        self.work.mkdir(exist_ok=True)
        for d in (self.work, run_dir / "samples"):  # temporary files of writes a kill interrupted
            for tmp in d.glob(".*") if d.is_dir() else ():
                tmp.unlink(missing_ok=True)

    def feed_fake(self, arrays: list[np.ndarray], offset: int, reals: np.ndarray | None = None, part=None) -> None:
        """Give every metric the next videos of the generated side, up to its N."""
        for s in self.slots:
            if s.n_fake is None or s.fed_fake >= s.n_fake:
                continue
            v = arrays[self.rule_index[s.name]]
            take = min(len(v), s.n_fake - s.fed_fake)
            m = s.metric
            if m.kind == "distribution":
                m.update(v[:take], real=False)
            elif m.kind == "sample":
                m.update(v[:take])
            elif m.kind == "paired":
                m.update(v[:take], reals[:take])
                if s.upb is not None:
                    s.upb.update(v[:take, :1], reals[:take, :1])
                s.ids += [f"{offset + i:06d}|{part[i].video_id}" for i in range(take)]
            s.fed_fake += take

    def fake_pass(self, first: list[np.ndarray] | None) -> None:
        """One pass over the generated side: write each batch (work file per rule, mp4s), feed it, record progress."""
        from tqdm import tqdm

        from vidbench.cache import atomic_write_json

        cfg = self.cfg
        if cfg.gt:  # the GT rows' second real set stands in for the generated videos
            self.second_real_pass()
            return
        if not self.n_batches:
            return
        if self.task == "predict":
            for s in self.slots:
                s.upb = build_metric(s.name, s.metric.options)
        bar = tqdm(total=self.n_batches, desc="predict" if self.task == "predict" else "generate", unit="batch",
                   disable=not self.progress, leave=False)
        src = self._gen_it
        for b in range(self.n_batches):
            paths = [self.work / f"fake_{b:06d}_{j}.npy" for j in range(len(self.rules))]
            part = self._batch_refs(b) if self.task == "predict" else None
            reals = self._read_refs(part) if part is not None else None
            if b < self.done:  # resume: replay the saved batch through the fresh metrics
                arrays = [np.load(p) for p in paths]
            else:
                if first is not None:
                    arrays, first = first, None
                else:
                    if src is None:
                        src = self.generated(self.done)
                    arrays = next(src)
                for j, (p, a) in enumerate(zip(paths, arrays)):
                    if cfg.resumable or (j == 0 and self._npz_wanted()):
                        _save_npy(p, a)
                if cfg.save_mp4:
                    for i, clip in enumerate(arrays[0]):
                        write_video(self.run_dir / "samples" / f"{b * self.bs + i:06d}.mp4", clip, fps=cfg.fps)
            self.feed_fake(arrays, b * self.bs, reals, part)
            if b >= self.done and cfg.resumable:
                atomic_write_json(self.work / "state.json",
                                  {"batches_done": b + 1, "videos_done": b * self.bs + len(arrays[0]),
                                   "generated_hw": sorted(list(x) for x in self.gen_hw)})
            bar.update(1)
        bar.close()

    def second_real_pass(self) -> None:
        """``--gt``: the second real set (clips ``n_real_a`` on) on the generated side. Its statistics are real-clip
        statistics too, so metrics that cache real statistics cache them as well (keyed on the set's position)."""
        from vidbench.datasets.clips import clips_key

        def key(s: _Slot) -> str:
            return clips_key(self.fp, self.rule, s.n_fake, start=self.n_real_a)

        cacheable = [s for s in self.slots if s.n_fake and "fake" in s.metric.cache_sides]
        for s in cacheable:
            if s.metric.try_load_real_cache(key(s), side="fake"):
                s.fed_fake = s.n_fake
        if all(s.fed_fake >= s.n_fake for s in self.slots if s.n_fake):
            return
        for part, vids in self.real_batches(self.n_real_a, self.n_clips, "real set B"):
            self.feed_fake([vids] * len(self.rules), part[0].index - self.n_real_a)
        for s in cacheable:
            s.metric.save_real_cache(key(s), side="fake")

    def _npz_wanted(self) -> bool:
        """samples.npz: on request, or by default when it is small (N·T·S²·3 bytes at the evaluation size)."""
        if self.cfg.save_npz is not None:
            return bool(self.cfg.save_npz)
        return self.n_fake_total * self.T * self.size * self.size * 3 <= NPZ_AUTO_BYTES

    def real_pass(self) -> None:
        """One pass over the real clips for every metric that needs them and has no cached statistics."""
        from vidbench.datasets.clips import clips_key

        real_slots = [s for s in self.slots if s.n_real and
                      (s.metric.kind == "distribution" or (self.cfg.gt and s.metric.kind == "sample"))]
        for s in real_slots:
            if "real" in s.metric.cache_sides:
                s.real_cached = bool(s.metric.try_load_real_cache(clips_key(self.fp, self.rule, s.n_real)))
        need = max([s.n_real for s in real_slots if not s.real_cached], default=0)
        if not need:
            return
        for part, vids in self.real_batches(0, need, "real clips"):
            for s in real_slots:
                if s.real_cached or s.fed_real >= s.n_real:
                    continue
                take = min(len(vids), s.n_real - s.fed_real)
                if s.metric.kind == "distribution":
                    s.metric.update(vids[:take], real=True)
                else:
                    s.metric.update(vids[:take])
                    s.ids += [r.video_id for r in part[:take]]
                s.fed_real += take
        for s in real_slots:
            if "real" in s.metric.cache_sides and not s.real_cached:
                s.metric.save_real_cache(clips_key(self.fp, self.rule, s.n_real))

    # ------------------------------------------------------------------------------------------------ results
    def _eval_protocol(self) -> dict:
        cfg = self.cfg
        out = {"task": "gt" if cfg.gt else self.task, "resolution": self.size, "frames": self.T,
               "real_clips": self.rule.protocol_fields(), "real_resize": "centre square crop, PIL Lanczos",
               "n_rule": "exactly the protocol's N per side"}
        if self.task == "predict":
            vgg_hash = None
            if cfg.lambda_vgg > 0:
                vgg_hash = ("random-init" if cfg.vgg_weights == "random-init"
                            else _vgg_hash(cfg.vgg_weights, cfg.weights_dir))
            pred = (self.sampler.predict_settings(self.T, self.predict_opts)
                    if hasattr(self.sampler, "predict_settings") else {})
            out["predict"] = {"inversion_iterations": cfg.inversion_iterations, "lambda_vgg": cfg.lambda_vgg,
                              "vgg_weights_hash": vgg_hash, "frames_scored": self.T, **pred}
        return out

    def _generated_reasons(self, rz) -> list[str]:
        return [r for h, w in sorted(self.gen_hw) if (r := resolution_reason(h, w, rz.size[0]))]

    def results(self) -> tuple[dict[str, dict], dict[int, dict]]:
        """Metric entries (with the eval protocol, reasons and counts) and per-video rows."""
        cfg = self.cfg
        eval_proto = self._eval_protocol()
        results: dict[str, dict] = {}
        per_video: dict[int, dict] = {}
        for s in self.slots:
            m = s.metric
            if m.kind == "generator":
                make_fn = getattr(self.sampler, "generator_fn", None)
                if make_fn is None:
                    raise VidbenchError(f"{m.name} needs a generator callable; {cfg.model} does not provide one")
                entries = [(m.name, m.compute(make_fn(num_frames=m.num_frames or self.T, seed=cfg.seed)))]
            else:
                entries = [(m.name, m.compute())]
                if s.upb is not None:
                    entries.append((f"{m.name}_upb", s.upb.compute()))
            uses_real = m.kind in ("distribution", "paired") or cfg.gt
            proto_eval = eval_proto if uses_real else {k: v for k, v in eval_proto.items()
                                                         if k not in ("real_clips", "real_resize")}
            rz = self.slot_rule[s.name]
            if not cfg.gt:
                proto_eval = {**proto_eval, "fake_resize": {"size": list(rz.size), "method": rz.method,
                                                            "source": rz.source}}
            for name, res in entries:
                reasons = list(s.reasons)
                if m.kind != "generator":
                    reasons += [] if cfg.gt else self._generated_reasons(rz)
                    res["protocol"] = {**res["protocol"], "eval": proto_eval}
                    res["protocol_id"] = protocol_id(res["protocol"], res.get("weights_hash"))
                if self.task == "predict":
                    reasons += _predict_reasons(cfg, self.split)
                    if name.endswith("_upb"):
                        res.setdefault("extra", {})["definition"] = (
                            "frame 1 of each clip vs frame 0 of its prediction (G(ẑ1), the inverted code's "
                            "reconstruction): UP-B")
                _add_reasons(res, reasons)
                res["warnings"] = list(res.get("warnings", [])) + s.warnings
                res.setdefault("extra", {})["eval"] = {
                    "n_fake_used": s.fed_fake if s.n_fake else None,
                    "n_real_used": (s.n_real if s.real_cached else s.fed_real) if s.n_real else None,
                    "fake_resize": None if cfg.gt else rz.describe(), "stride": self.stride,
                    "stride_source": self.stride_source}
                random_det = (res.get("detector") or "").endswith("[random-init]")
                results[name + "[random-init]" if random_det and not name.endswith("[random-init]") else name] = res
            rows = (entries[0][1].get("extra") or {}).get("per_video") if m.kind in ("sample", "paired") else None
            if isinstance(rows, dict):
                ids = s.ids or [f"{i:06d}" for i in range(s.fed_fake)]
                for k, vals in rows.items():
                    if isinstance(vals, list) and len(vals) == len(ids):
                        for i, val in enumerate(vals):
                            row = per_video.setdefault(i, {"index": i, "id": ids[i], "seed": cfg.seed})
                            row[f"{m.name}.{k}"] = val
        return results, per_video

    def finish(self) -> Path:
        """Compute, write per_video.jsonl, samples.npz (when small), result.json; remove the work folder."""
        cfg, run_dir = self.cfg, self.run_dir
        results, per_video = self.results()
        sampler_settings = None
        if self.sampler is not None:
            s = self.sampler
            base = s.settings() if hasattr(s, "settings") else {"info": s.info()}
            sampler_settings = {**base, "stride": self.stride, "stride_source": self.stride_source,
                                "generated_size": [list(x) for x in sorted(self.gen_hw)],
                                "fake_resize": {x.name: self.slot_rule[x.name].describe() for x in self.slots}}
        real_clips = {**asdict(self.rule), "rule": self.rule.describe(), "rule_name": self.rule.rule,
                      "file": "real_clips.jsonl", "dataset_fingerprint": self.fp,
                      "sets": {k: list(v) for k, v in self.real_sets.items()}, "stride_source": self.stride_source}
        rec = new_record(model="gt" if cfg.gt else cfg.model,
                         dataset={"name": cfg.dataset, "split": self.split, "fingerprint": self.fp},
                         seed=cfg.seed, metrics=results, checkpoint=cfg.checkpoint,
                         checkpoint_hash=getattr(self.sampler, "checkpoint_hash", None),
                         recipe=getattr(self.sampler, "recipe", None), command="eval", task=self.task,
                         label=cfg.label if cfg.label is not None else ("GT" if cfg.gt else None),
                         sampler=sampler_settings, real_clips=real_clips)
        n_rows = len(per_video) if cfg.gt else max([s.fed_fake for s in self.slots] + [len(per_video)])
        write_per_video(run_dir, [per_video.get(i, {"index": i, "id": f"{i:06d}", "seed": cfg.seed})
                                  for i in range(n_rows)])
        files = sorted(self.work.glob("fake_*_0.npy"))
        if files and self._npz_wanted():
            write_npz_streaming(run_dir / "samples.npz", files)
        write_result(run_dir, rec)
        shutil.rmtree(self.work, ignore_errors=True)
        return run_dir


def _add_reasons(res: dict, reasons: list[str]) -> None:
    """Merge eval-level reasons into a metric entry (schema v2: comparable only without reasons)."""
    merged = list(dict.fromkeys([*(res.get("comparable_reasons") or []), *[r for r in reasons if r]]))
    if not res.get("comparable", False) and not merged:
        from vidbench.records import GENERIC_REASON

        merged = [GENERIC_REASON]
    res["comparable_reasons"] = merged
    res["comparable"] = bool(res.get("comparable", False)) and not merged


def _predict_reasons(cfg: EvalConfig, split: str) -> list[str]:
    out = []
    if cfg.inversion_iterations != PAPER_INVERSION["iterations"]:
        out.append(f"inversion {cfg.inversion_iterations} iterations (paper App. B: 20,000)")
    if cfg.lambda_vgg != PAPER_INVERSION["lambda_vgg"]:
        out.append(f"lambda_vgg={cfg.lambda_vgg:g} (paper App. B: 1; the VGG16 perceptual term "
                   f"{'is off' if cfg.lambda_vgg == 0 else 'is reweighted'})")
    elif cfg.vgg_weights == "random-init":
        out.append("VGG16 perceptual loss with random-init weights")
    if split != "test":
        out.append(f"split {split!r} (Tab. 3 scores the test split)")
    return out


def _vgg_hash(weights: str, weights_dir: str | None) -> str | None:
    from vidbench.weights import resolve_weights

    try:
        return resolve_weights(weights, weights_dir=weights_dir).sha256
    except VidbenchError:
        return None


__all__ = ["DEFAULT_METRICS", "EvalConfig", "config_from_json", "evaluate", "metric_resize", "protocol_counts",
           "write_npz_streaming"]
