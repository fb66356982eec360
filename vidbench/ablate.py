"""`vidbench ablate --table 4|5`: the paper's ablations end to end (§4.3, Tables 4 and 5).

Every variant is trained from one base config with the trainer's own switches, evaluated with the table's metric
protocols (N, frames and resolution scaled by the budget; each number keeps its own protocol name, e.g. ``fvd32_16f``),
and the table is rendered by :mod:`vidbench.tables` with the published numbers beside it.

* Table 4 (UCF-101, in-domain, λ = 0.5): ``w/o Eqn. 2`` (``residual=false``: z_t from h_t, no residual),
  ``w/o D_I`` (``use_image_d=false``), ``w/o D_V`` (``use_video_d=false``), ``Full-128`` (image generator at the
  evaluation size) and ``Full-256`` (image generator at twice the evaluation size; frames resized for evaluation).
  Metrics: IS (``is10k_c3d``) and FVD (``fvd2048_16f``).
* Table 5 (cross-domain, λ = 0.2; image generator from ``--image-dataset``, motion from ``--dataset``): ``w/o L_contr``
  (``use_contrastive=false``), ``w/o L_m`` (``use_mi_loss=false``), ``Full``. Metrics: ACD and motion diversity
  (App. D). ACD needs faces: on data without faces it has no value and the table says why.

Budgets: ``tiny`` (embedded datasets, a few minutes on 2 CPU cores; every number is labelled not comparable),
``small`` (a longer CPU/GPU smoke) and ``paper`` (App. B: Adam lr 1e-4, λ 0.5 / 0.2, λ_m = λ_contr = λ_f = 1, batch 16,
the registered paper protocols at full N; meant for GPUs via ``torchrun``; needs ``--image-generator``).

The sweep is resumable: each variant folder holds ``status.json`` with the hash of its resolved config (training and
evaluation settings, image generator and PCA hashes) and the code commit; a finished variant with the same hash and
commit is reused. A variant that fails is recorded as failed with its error and the others still run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidbench.errors import VidbenchError, WeightsMissingError

TABLES = ("4", "5")
BUDGETS = ("tiny", "small", "paper")


@dataclass(frozen=True)
class Budget:
    """How big every part of an ablation sweep is."""

    name: str
    image_iters: int  # StyleGAN2 steps when the sweep trains its own image generator (0: --image-generator needed)
    image_preset: str  # vidbench.models.image_train preset used when training it ("tiny")
    pca_samples: int  # W codes for the PCA (paper App. A.1: 1,000,000)
    config: dict  # MoCoGANHDConfig fields shared by every variant (on top of the recipe defaults)
    eval_resolution: int  # every variant's frames are resized to this size (paper: 128²)
    eval_frames: int
    eval_videos: int | None  # None: each protocol's own N
    batch_size: int = 8  # evaluation batch
    div_videos: int = 100  # motion diversity K (App. D)
    div_content: int = 50  # motion diversity M (App. D)
    smoke_detectors: bool = False  # a missing detector weight falls back to a labelled [random-init] detector
    cross_image_size: int = 32  # Table 5: size of the image generator trained for the cross-domain pair
    image_generators: tuple[tuple[str, str, str], ...] = ()  # (table, kind, registered weights) used when not given
    datasets: tuple[tuple[str, str, str | None], ...] = ()  # (table, dataset, image dataset) defaults


_TINY_MOTION = dict(latent_dim=128, n_pca=32, hidden_dim=32, num_frames=8, frame_size=32, d_ndf=8, biggan_ch=8,
                    proj_dim=32, bank_size=64, batch_size=4, total_steps=30, lr=5e-4, log_every=5, sample_every=0,
                    ckpt_every=0, num_grid=4)
BUDGET_SPECS: dict[str, Budget] = {
    "tiny": Budget(name="tiny", image_iters=80, image_preset="tiny", pca_samples=5000, config=_TINY_MOTION,
                   eval_resolution=32, eval_frames=16, eval_videos=32, div_videos=8, div_content=4,
                   smoke_detectors=True,
                   datasets=(("4", "moving_mnist", None), ("5", "synthetic_sky", "moving_mnist"))),
    "small": Budget(name="small", image_iters=1500, image_preset="tiny", pca_samples=50_000,
                    config={**_TINY_MOTION, "total_steps": 1000, "batch_size": 8, "n_pca": 64, "hidden_dim": 64},
                    eval_resolution=32, eval_frames=16, eval_videos=256, div_videos=32, div_content=16,
                    smoke_detectors=True,
                    datasets=(("4", "moving_mnist", None), ("5", "synthetic_sky", "moving_mnist"))),
    # App. B: lr 1e-4 (G_M, D_V, D_I), λ 0.5 in-domain / 0.2 cross-domain (recipe), λ_m = λ_contr = λ_f = 1, batch 16
    "paper": Budget(name="paper", image_iters=0, image_preset="paper", pca_samples=1_000_000,
                    config=dict(lr=1e-4, mi_weight=1.0, contr_weight=1.0, match_weight=1.0, batch_size=16,
                                num_frames=16, frame_size=128),
                    eval_resolution=128, eval_frames=16, eval_videos=None, cross_image_size=256,
                    datasets=(("4", "ucf101", None), ("5", "voxceleb", "ffhq")),
                    # the authors' UCF-101 256² StyleGAN2 (Table 1/4) and the FFHQ 256² model (rosinality port)
                    image_generators=(("4", "full", "stylegan2.ucf101_256_mocoganhd"),
                                      ("5", "cross", "stylegan2.ffhq256_rosinality"))),
}


@dataclass(frozen=True)
class Variant:
    label: str  # row label in the table (= record label)
    overrides: dict  # MoCoGANHDConfig switches
    image: str = "full"  # "full": generator at 2x the evaluation size (Full-256); "eval": at the evaluation size;
    # "cross": the cross-domain image generator (Table 5)


@dataclass(frozen=True)
class MetricPlan:
    """One metric column: the paper protocol and how a budget scales it."""

    paper: str  # registered protocol used at the paper budget
    scaled: str  # name pattern at smaller budgets ({N}, {T}, {K}, {M} filled from the budget)
    smoke_detector: str | None = None  # labelled random-init detector allowed at smoke budgets (None: skip instead)


TABLE_SPECS: dict[str, dict[str, Any]] = {
    "4": {
        "domain": "in",
        "split": {"paper": "all"},
        "variants": (
            Variant("w/o Eqn. 2", {"residual": False}),
            Variant("w/o D_I", {"use_image_d": False}),
            Variant("w/o D_V", {"use_video_d": False}),
            Variant("Full-128", {}, image="eval"),
            Variant("Full-256", {}),
        ),
        # a random-init C3D gives a class posterior of noise: IS is skipped (with the reason) when the C3D is missing
        "metrics": (MetricPlan("is10k_c3d", "is10k_c3d"),
                    MetricPlan("fvd2048_16f", "fvd{N}_{T}f", smoke_detector="i3d[random-init]")),
    },
    "5": {
        "domain": "cross",
        "split": {},
        "variants": (
            Variant("w/o L_contr", {"use_contrastive": False}, image="cross"),
            Variant("w/o L_m", {"use_mi_loss": False}, image="cross"),
            Variant("Full", {}, image="cross"),
        ),
        "metrics": (MetricPlan("acd256_facenet", "acd256_dlib"),
                    MetricPlan("motion_div100x50_16f", "motion_div{K}x{M}_{T}f")),
    },
}


@dataclass(frozen=True)
class AblationConfig:
    table: str
    budget: str = "tiny"
    dataset: str | None = None  # motion / video dataset (default: the budget's)
    image_dataset: str | None = None  # Table 5: the image generator's dataset (default: the budget's)
    image_generator: str | None = None  # CKPT or registered name; else trained by the sweep (not at paper budget)
    image_generator_small: str | None = None  # Table 4 Full-128 generator (at the evaluation size)
    pca: str | None = None  # PCA .npz of --image-generator (else computed)
    data_root: str | None = None
    seed: int = 0
    device: str = "cpu"
    overrides: tuple[str, ...] = ()  # --set k=v applied to every variant


# ------------------------------------------------------------------------------------------------ planning
def _budget(name: str) -> Budget:
    if name not in BUDGET_SPECS:
        raise VidbenchError(f"unknown budget {name!r}; use one of {', '.join(BUDGETS)}")
    return BUDGET_SPECS[name]


def _table(table: str) -> dict:
    if str(table) not in TABLE_SPECS:
        raise VidbenchError(f"ablations exist for paper tables {', '.join(TABLES)}, not {table!r}")
    return TABLE_SPECS[str(table)]


def resolve_datasets(cfg: AblationConfig) -> tuple[str, str]:
    """(video dataset, image dataset)."""
    b = _budget(cfg.budget)
    defaults = {t: (d, i) for t, d, i in b.datasets}
    d, i = defaults[cfg.table]
    dataset = cfg.dataset or d
    image_dataset = cfg.image_dataset or i or dataset
    if cfg.table == "4" and cfg.image_dataset and cfg.image_dataset != dataset:
        raise VidbenchError("Table 4 is in-domain: drop --image-dataset (the image generator uses --dataset)")
    return dataset, image_dataset


def metric_names(table: str, budget: Budget) -> list[tuple[MetricPlan, str]]:
    out = []
    for mp in _table(table)["metrics"]:
        if budget.name == "paper":
            out.append((mp, mp.paper))
        else:
            out.append((mp, mp.scaled.format(N=budget.eval_videos, T=budget.eval_frames, K=budget.div_videos,
                                              M=budget.div_content)))
    return out


def variant_config(cfg: AblationConfig, variant: Variant, latent_dim: int | None = None):
    """The resolved :class:`MoCoGANHDConfig` of one variant (budget base + table domain + variant switches)."""
    from vidbench.config import apply_overrides
    from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config

    b = _budget(cfg.budget)
    base = {**b.config, "domain": _table(cfg.table)["domain"], "seed": cfg.seed}
    if latent_dim is not None:
        base["latent_dim"] = int(latent_dim)
    mc = MoCoGANHDConfig(**base)
    mc = apply_overrides(mc, list(cfg.overrides))
    mc = dataclasses.replace(mc, **variant.overrides)
    mc.validate()
    return resolve_config(mc)


def image_sizes(budget: Budget) -> dict[str, int]:
    """Generator size per variant kind: ``eval`` = the evaluation size, ``full`` = twice it (the paper's 128 / 256)."""
    return {"eval": budget.eval_resolution, "full": 2 * budget.eval_resolution, "cross": budget.cross_image_size}


def given_image_generator(cfg: AblationConfig, kind: str) -> str | None:
    """The checkpoint the user gave for ``kind`` (``--image-generator-small`` for Full-128), else the budget's
    registered default for this table, else None (the sweep trains one)."""
    given = cfg.image_generator_small if kind == "eval" else cfg.image_generator
    if given:
        return given
    for t, k, name in _budget(cfg.budget).image_generators:
        if t == cfg.table and k == kind:
            return name
    return None


def plan(cfg: AblationConfig) -> dict:
    """Everything the sweep will do, resolved (printed by ``--dry-run``)."""
    b = _budget(cfg.budget)
    spec = _table(cfg.table)
    dataset, image_dataset = resolve_datasets(cfg)
    sizes = image_sizes(b)
    needed = sorted({v.image for v in spec["variants"]})
    variants = []
    for v in spec["variants"]:
        rc = variant_config(cfg, v)
        variants.append({"label": v.label, "switches": v.overrides, "image_generator": v.image,
                         "image_size": sizes[v.image], "config": json.loads(json.dumps(dataclasses.asdict(rc)))})
    evals = [{"metric": name, "paper_protocol": mp.paper, "num_videos": b.eval_videos,
              "num_frames": b.eval_frames, "resolution": b.eval_resolution,
              "split": spec["split"].get(b.name), "smoke_detector": mp.smoke_detector if b.smoke_detectors else None}
             for mp, name in metric_names(cfg.table, b)]
    images = {}
    for kind in needed:
        given = given_image_generator(cfg, kind)
        images[kind] = {"size": sizes[kind], "dataset": image_dataset, "checkpoint": given,
                        "train_iters": 0 if given else b.image_iters, "preset": b.image_preset}
    out = {"table": cfg.table, "budget": dataclasses.asdict(b), "dataset": dataset, "image_dataset": image_dataset,
           "domain": spec["domain"], "image_generators": images, "pca_samples": b.pca_samples,
           "variants": variants, "eval": evals}
    if b.name == "paper":
        out["launch"] = ("torchrun --nproc_per_node 8 -m vidbench.cli ablate --table {t} --budget paper "
                         "--dataset {d}{i}{s} --data-root DIR --device cuda --out runs/").format(
            t=cfg.table, d=dataset, i=f" --image-dataset {image_dataset}" if cfg.table == "5" else "",
            s=" --image-generator-small CKPT128" if cfg.table == "4" else "")
    return out


def config_hash(obj: Any) -> str:
    from vidbench.records import canonical_json

    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------ sweep
@dataclass
class VariantResult:
    label: str
    status: str  # ok | failed | reused
    elapsed_s: float
    eval_dirs: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _read_status(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label).strip("_").lower()


def _image_generator(cfg: AblationConfig, b: Budget, kind: str, size: int, dataset: str, root: Path,
                     progress: bool, log) -> Path:
    """A StyleGAN2 checkpoint for ``kind`` (given, or trained once per (size, dataset, budget, commit))."""
    from vidbench.records import git_commit

    given = given_image_generator(cfg, kind)
    if given:
        from vidbench.weights import resolve_weights

        return Path(resolve_weights(given).path)
    if b.image_iters <= 0:
        flag = "--image-generator-small" if kind == "eval" else "--image-generator"
        raise VidbenchError(f"budget {b.name} does not train image generators: pass {flag} CKPT (a StyleGAN2 at "
                            f"{size}² trained on {dataset}, e.g. from `vidbench train image`)")
    from vidbench.models.image_train import PRESETS, StyleGAN2Trainer

    icfg = PRESETS[b.image_preset](dataset=dataset, size=size, iters=b.image_iters, seed=cfg.seed, sample_every=0,
                                   ckpt_every=0, log_every=max(1, min(25, b.image_iters)), pool_clips=128)
    h = config_hash({"image": dataclasses.asdict(icfg), "commit": git_commit()})
    run = root / f"image_generator_{dataset}_{size}"
    st = _read_status(run / "status.json")
    ck = run / "checkpoint.pt"
    if st and st.get("hash") == h and ck.is_file():
        log(f"  image generator {size}² on {dataset}: reused {ck}")
        return ck
    log(f"  image generator {size}² on {dataset}: {b.image_iters} StyleGAN2 steps")
    t = time.perf_counter()
    tr = StyleGAN2Trainer(icfg, run, progress=progress)
    tr.train()
    tr.save_checkpoint()
    from vidbench.cache import atomic_write_json

    atomic_write_json(run / "status.json", {"hash": h, "elapsed_s": round(time.perf_counter() - t, 1)})
    return ck


def _pca(cfg: AblationConfig, b: Budget, G, g_path: Path, root: Path, log) -> Path:
    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.mocogan_hd.released import sha256_of

    if cfg.pca and cfg.image_generator and Path(g_path) == Path(cfg.image_generator):
        return Path(cfg.pca)
    h = config_hash({"g": sha256_of(Path(g_path)), "samples": b.pca_samples, "seed": cfg.seed})
    path = root / f"pca_{h}.npz"
    if not path.is_file():
        log(f"  W-space PCA of {Path(g_path).name} from {b.pca_samples} codes")
        pca = compute_w_pca(G, n_samples=b.pca_samples, batch_size=min(10_000, b.pca_samples),
                            n_components=int(G.style_dim), seed=cfg.seed, progress=False)
        save_pca(path, pca)
    return path


def run_ablation(cfg: AblationConfig, out: str | Path = "runs", *, progress: bool = True, quiet: bool = False,
                 yes: bool = False) -> dict:
    """Train, evaluate and tabulate every variant of ``cfg.table``; returns a summary (also ``summary.json``)."""
    import torch
    from tqdm import tqdm

    from vidbench.cache import atomic_write_json, atomic_write_text
    from vidbench.datasets import build_dataset
    from vidbench.evaluate import EvalConfig, evaluate
    from vidbench.models.mocogan_hd.released import load_pca_file, sha256_of
    from vidbench.models.mocogan_hd.trainer import Trainer
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.records import find_records, git_commit
    from vidbench.tables import build_table, render

    def log(msg: str) -> None:
        if not quiet:
            tqdm.write(msg, file=sys.stderr)

    b = _budget(cfg.budget)
    spec = _table(cfg.table)
    dataset, image_dataset = resolve_datasets(cfg)
    root = Path(out) / f"ablation-table{cfg.table}-{b.name}"
    root.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    commit = git_commit()
    sizes = image_sizes(b)
    metrics = metric_names(cfg.table, b)
    gens: dict[str, tuple[Any, Path, Path]] = {}  # kind -> (G, checkpoint, pca)
    results: list[VariantResult] = []
    table_notes: list[str] = []
    # phase 1: train every variant (all ranks under torchrun); phase 2: evaluate on rank 0 only
    from vidbench.models.mocogan_hd.trainer import dist_info

    rank, world = dist_info()
    split = spec["split"].get(b.name)
    evals = [{"metric": name, "smoke": mp.smoke_detector if b.smoke_detectors else None} for mp, name in metrics]
    eval_common = {"num_videos": b.eval_videos, "num_frames": b.eval_frames, "resolution": b.eval_resolution,
                   "split": split, "seed": cfg.seed, "batch_size": b.batch_size}
    pending: list[tuple[Variant, Path, str, float]] = []  # trained, to evaluate: (variant, dir, hash, train time)

    def failed(v: Variant, vdir: Path, t0: float, err: BaseException) -> None:
        elapsed = time.perf_counter() - t0
        results.append(VariantResult(v.label, "failed", elapsed, error=f"{type(err).__name__}: {err}"))
        log(f"[{v.label}] FAILED: {type(err).__name__}: {err} (traceback in {vdir / 'error.txt'})")
        if rank == 0:
            vdir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(vdir / "error.txt", traceback.format_exc())
            atomic_write_json(vdir / "status.json", {"status": "failed", "label": v.label, "commit": commit,
                                                     "error": f"{type(err).__name__}: {err}",
                                                     "elapsed_s": round(elapsed, 1)})

    bar = tqdm(spec["variants"], desc=f"table {cfg.table} ({b.name})", unit="variant", disable=not progress)
    for v in bar:
        bar.set_postfix_str(v.label)
        vdir = root / "variants" / _slug(v.label)
        t0 = time.perf_counter()
        try:
            if v.image not in gens:
                if world > 1 and not given_image_generator(cfg, v.image):
                    raise VidbenchError("a distributed sweep does not train image generators: pass --image-generator")
                ck = _image_generator(cfg, b, v.image, sizes[v.image], image_dataset, root, progress, log)
                G, _ = load_rosinality_checkpoint(ck, device=cfg.device)
                G.eval().requires_grad_(False)
                if rank == 0:
                    pca_path = _pca(cfg, b, G, ck, root, log)
                if world > 1:
                    torch.distributed.barrier()
                    pca_path = _pca(cfg, b, G, ck, root, log)  # found on disk now
                gens[v.image] = (G, ck, pca_path)
            G, ck, pca_path = gens[v.image]
            rc = variant_config(cfg, v, latent_dim=int(G.style_dim))
            h = config_hash({"config": dataclasses.asdict(rc), "g": sha256_of(ck), "pca": sha256_of(pca_path),
                             "dataset": dataset, "data_root": cfg.data_root, "eval": evals, "common": eval_common})
            st = _read_status(vdir / "status.json")
            if st and st.get("status") == "ok" and st.get("hash") == h and st.get("commit") == commit and all(
                    (Path(d) / "result.json").is_file() for d in st.get("eval_dirs", [])):
                log(f"[{v.label}] reused (same config hash {h} and commit)")
                results.append(VariantResult(v.label, "reused", 0.0, st["eval_dirs"], notes=st.get("notes", [])))
                continue
            what = ", ".join(f"{k}={val}" for k, val in v.overrides.items()) or "full method"
            log(f"[{v.label}] train G_M: {rc.total_steps} steps ({what})")
            basis, std, _ = load_pca_file(pca_path)
            ds = build_dataset(dataset, split=None, num_frames=rc.num_frames * rc.frame_stride, size=int(G.size),
                               stride=1, seed=rc.seed, data_root=cfg.data_root)
            meta = {"model": "mocohd", "recipe": rc.recipe, "label": v.label,
                    "dataset": {"name": dataset, "fingerprint": ds.fingerprint()},
                    "image_generator": {"path": str(Path(ck).resolve()), "dataset": image_dataset},
                    "pca": {"path": str(Path(pca_path).resolve())}, "world_size": world}
            trainer = Trainer(rc, G, basis, std, ds, run_dir=vdir / "train", device=cfg.device, progress=progress,
                              meta=meta)
            trainer.fit()
            trainer.save_checkpoint(keep=False)
            pending.append((v, vdir, h, time.perf_counter() - t0))
        except Exception as err:  # one failing variant must not lose the others
            failed(v, vdir, t0, err)
    bar.close()
    if world > 1:
        torch.distributed.barrier()
        if rank != 0:
            return {"rank": rank, "trained": [v.label for v, *_ in pending]}
    for v, vdir, h, train_s in pending:
        t0 = time.perf_counter() - train_s
        try:
            eval_dirs, notes = [], []
            for e in evals:
                ecfg = EvalConfig(model="mocohd", dataset=dataset, checkpoint=str(vdir / "train"),
                                  metrics=(e["metric"],), label=v.label, data_root=cfg.data_root, device=cfg.device,
                                  save_mp4=False, **eval_common)
                try:
                    d = evaluate(ecfg, vdir / "eval", yes=yes, progress=progress)
                except WeightsMissingError as err:
                    if not e["smoke"]:
                        notes.append(f"{e['metric']} not measured: {err}")
                        continue
                    d = evaluate(dataclasses.replace(ecfg, detector=e["smoke"]), vdir / "eval", yes=yes,
                                 progress=progress)
                    notes.append(f"{e['metric']}: detector weights missing, measured with {e['smoke']} "
                                 "(smoke only, not comparable)")
                eval_dirs.append(str(d))
            elapsed = time.perf_counter() - t0
            atomic_write_json(vdir / "status.json", {"status": "ok", "label": v.label, "hash": h, "commit": commit,
                                                     "eval_dirs": eval_dirs, "notes": notes,
                                                     "train_s": round(train_s, 1), "elapsed_s": round(elapsed, 1)})
            results.append(VariantResult(v.label, "ok", elapsed, eval_dirs, notes=notes))
            log(f"[{v.label}] done in {elapsed:.0f} s (training {train_s:.0f} s)")
        except Exception as err:
            failed(v, vdir, t0, err)
    order = {v.label: i for i, v in enumerate(spec["variants"])}
    results.sort(key=lambda r: order.get(r.label, len(order)))
    by_note: dict[str, list[str]] = {}  # the same note for several variants is printed once
    missing: list[tuple[str, str, str]] = []
    for r in results:
        for n in r.notes:
            by_note.setdefault(n, []).append(r.label)
            if " not measured: " in n:
                missing.append((r.label, n.split(" not measured: ")[0], "not measured: " + n.split(
                    " not measured: ", 1)[1]))
        if r.status == "failed":
            table_notes.append(f"{r.label}: failed ({r.error})")
    table_notes += [f"{', '.join(labels)}: {n}" for n, labels in by_note.items() if " not measured: " not in n]
    total = time.perf_counter() - t_start
    table_notes.insert(0, f"Measured rows: `vidbench ablate --table {cfg.table} --budget {b.name}` on {dataset}"
                          + (f" (image generator on {image_dataset})" if cfg.table == "5" else "")
                          + f", {b.config.get('total_steps', 'default')} G_M steps per variant, evaluation at "
                          f"{b.eval_resolution}² x {b.eval_frames} frames; sweep time {total:.0f} s.")
    if cfg.table == "4":
        table_notes.insert(1, f"Full-128 / Full-256 here: image generator at {sizes['eval']}² / {sizes['full']}², "
                              f"both evaluated at {b.eval_resolution}².")
    dirs = [d for r in results for d in r.eval_dirs]
    records = find_records(*dirs) if dirs else []
    res = build_table(cfg.table, records, notes=table_notes, not_measured=missing)
    paths = {}
    for fmt, ext in (("md", "md"), ("csv", "csv"), ("latex", "tex"), ("html", "html")):
        paths[fmt] = str(atomic_write_text(root / f"table{cfg.table}.{ext}", render(res, fmt)))
    summary = {"table": cfg.table, "budget": b.name, "root": str(root), "dataset": dataset,
               "image_dataset": image_dataset, "elapsed_s": round(total, 1), "tables": paths,
               "variants": [dataclasses.asdict(r) for r in results], "torch_threads": torch.get_num_threads(),
               "cpu_count": os.cpu_count()}
    atomic_write_json(root / "summary.json", summary)
    if results and all(r.status == "failed" for r in results):
        raise VidbenchError(f"every variant failed; see {root}/variants/*/error.txt (first: {results[0].error})")
    return summary


__all__ = ["AblationConfig", "Budget", "BUDGETS", "BUDGET_SPECS", "TABLES", "TABLE_SPECS", "Variant", "plan",
           "run_ablation", "variant_config", "metric_names", "config_hash"]
