"""`vidbench train motion` — train the MoCoGAN-HD motion generator (G_M, D_V, D_I) with a frozen image generator.

Single process: ``vidbench train motion --dataset moving_mnist --image-generator G.pt --pca pca.npz``.
Data parallel: ``torchrun --nproc_per_node 8 -m vidbench.cli train motion ...`` (nccl on GPUs, gloo on CPU).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import click

from vidbench.errors import VidbenchError

# settings a resumed run may change: they do not alter the trajectory of the training (only its length and outputs)
RESUME_KEYS = frozenset({"total_steps", "log_every", "sample_every", "ckpt_every", "num_grid", "num_workers", "fps"})


def _init_distributed():
    """Initialise torch.distributed from torchrun's environment; returns (rank, world, device)."""
    import torch

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available()
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
    return torch.distributed.get_rank(), world, torch.device(f"cuda:{local}" if use_cuda else "cpu")


def _broadcast_str(value: str | None) -> str:
    import torch

    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return value
    obj = [value]
    torch.distributed.broadcast_object_list(obj, 0)
    return obj[0]


@click.command("motion")
@click.option("--dataset", required=True, help="Video dataset name (vidbench list datasets), e.g. moving_mnist, ucf101.")
@click.option("--image-generator", "image_generator", default=None,
              help="Frozen StyleGAN2 checkpoint (rosinality .pt with g_ema, or a registered weights name).")
@click.option("--pca", "pca", default=None,
              help="W-space PCA: .npz from `vidbench pca`, or a folder with pca_comp.npy + pca_stdev.npy.")
@click.option("--data-root", default=None, help="Folder holding the real dataset (or $VIDBENCH_DATA).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Config override, repeatable, e.g. --set recipe=released --set domain=cross --set total_steps=1000.")
@click.option("--out", default="runs", show_default=True, help="Parent folder of the run folder.")
@click.option("--resume", "resume", default=None, help="Run folder to continue exactly from checkpoints/latest.pt.")
def command(dataset, image_generator, pca, data_root, overrides, out, resume):
    """Train MoCoGAN-HD's motion generator (paper §3, Eqn. 1-7; recipes `paper` and `released`).

    \b
    Example:
      vidbench pca --image-generator G.pt --samples 100000 --out pca.npz
      vidbench train motion --dataset moving_mnist --image-generator G.pt --pca pca.npz \\
          --set recipe=released --set total_steps=2000 --out runs/
    """
    import torch

    from vidbench.config import apply_overrides, config_from_dict
    from vidbench.datasets import build_dataset
    from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config
    from vidbench.models.mocogan_hd.released import load_pca_file, sha256_of
    from vidbench.models.mocogan_hd.trainer import Trainer, check_resumable, load_checkpoint_file
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.records import new_record, new_run_dir, write_config, write_result
    from vidbench.weights import resolve_weights

    rank, world, device = _init_distributed()

    ckpt_sd = None
    if resume:
        run_dir = Path(resume)
        latest = run_dir / "checkpoints" / "latest.pt"
        if not latest.exists():
            raise VidbenchError(f"{run_dir}: no checkpoints/latest.pt to resume from (is it a `vidbench train motion` "
                                "run folder?)")
        ckpt_sd = load_checkpoint_file(latest)
        check_resumable(ckpt_sd, latest, world)
        try:
            cfg = config_from_dict(MoCoGANHDConfig, ckpt_sd["config"])
            cfg.validate()
        except (KeyError, TypeError, ValueError, VidbenchError) as e:  # the saved config is not valid
            raise VidbenchError(f"{latest}: the checkpoint's config is not valid ({e}); the file was edited or "
                                "written by another version — start a new run") from None
        saved = cfg
        cfg = apply_overrides(cfg, list(overrides))
        changed = sorted(f.name for f in dataclasses.fields(cfg)
                         if f.name not in RESUME_KEYS and getattr(cfg, f.name) != getattr(saved, f.name))
        if changed:
            raise VidbenchError(f"--set {', '.join(changed)}: cannot change on --resume (an exact resume keeps the "
                                f"run's config; only {', '.join(sorted(RESUME_KEYS))} may change); start a new run")
        meta = ckpt_sd.get("meta") or {}
        if meta.get("dataset", {}).get("name") not in (None, dataset):
            raise VidbenchError(f"{run_dir} was trained on {meta['dataset']['name']!r}, not {dataset!r}")
        image_generator = image_generator or meta.get("image_generator", {}).get("path")
        pca = pca or meta.get("pca", {}).get("path")
        data_root = data_root or meta.get("dataset", {}).get("data_root")
    else:
        cfg = apply_overrides(MoCoGANHDConfig(), list(overrides))
    if not image_generator:
        raise VidbenchError("--image-generator CKPT is required (a rosinality StyleGAN2 .pt, e.g. from "
                            "`vidbench train image`)")
    if not pca:
        raise VidbenchError("--pca is required (make it with `vidbench pca --image-generator CKPT --out pca.npz`)")
    g_res = resolve_weights(image_generator)
    try:
        G, g_meta = load_rosinality_checkpoint(g_res.path, device=device)
    except VidbenchError as e:
        if str(g_res.path) in str(e):
            raise
        raise VidbenchError(f"{g_res.path}: --image-generator: {e}") from None
    keys = {o.split("=", 1)[0].strip() for o in overrides}
    if "latent_dim" not in keys and cfg.latent_dim != G.style_dim and not resume:
        cfg = dataclasses.replace(cfg, latent_dim=int(G.style_dim))
    basis, std, pca_meta = load_pca_file(pca)
    rcfg = resolve_config(cfg)
    if rcfg.latent_dim != G.style_dim:
        raise VidbenchError(f"latent_dim {rcfg.latent_dim} != image generator style_dim {G.style_dim}")
    if basis.shape[1] != rcfg.latent_dim:
        raise VidbenchError(f"{pca}: components have width {basis.shape[1]}, the image generator's W has "
                            f"{rcfg.latent_dim}; compute the PCA of this generator")
    if basis.shape[0] < rcfg.n_pca:
        raise VidbenchError(f"{pca}: {basis.shape[0]} components < n_pca={rcfg.n_pca}; pass "
                            f"--set n_pca={basis.shape[0]} --set hidden_dim={basis.shape[0]} or recompute the PCA")
    cfg.validate()

    # the trainer keeps every frame_stride-th frame itself, so the dataset must not subsample again (stride=1)
    ds = build_dataset(dataset, split=None, num_frames=rcfg.num_frames * rcfg.frame_stride, size=rcfg.frame_size,
                       stride=1,
                       seed=rcfg.seed, data_root=data_root)
    if len(ds) // world < rcfg.batch_size // world:  # fail before creating a run folder
        raise VidbenchError(f"{dataset} has {len(ds)} usable video(s), fewer than one batch of {rcfg.batch_size} "
                            f"(batch_size) over {world} rank(s); use more videos or --set batch_size=<smaller>")
    if not resume:
        run_dir = Path(_broadcast_str(str(new_run_dir(out, "mocohd", dataset)) if rank == 0 else None))
    meta = {
        "model": "mocohd",
        "recipe": rcfg.recipe,
        "dataset": {"name": dataset, "split": getattr(ds, "split", None), "fingerprint": ds.fingerprint(),
                    "data_root": str(data_root) if data_root else None},
        "image_generator": {"path": str(Path(g_res.path).resolve()), "sha256": g_res.sha256 or sha256_of(Path(g_res.path)),
                            "config": g_meta.get("config")},
        "pca": {**pca_meta, "path": str(Path(pca).resolve())},
        "world_size": world,
    }
    trainer = Trainer(cfg, G, basis, std, ds, run_dir=run_dir, device=device, meta=meta)
    if ckpt_sd is not None:
        trainer.resume(run_dir / "checkpoints" / "latest.pt")
        trainer.truncate_log()
    elif rank == 0:
        write_config(run_dir, {**meta, "config": dataclasses.asdict(rcfg),
                               "requested": json.loads(json.dumps(dataclasses.asdict(cfg)))})
    trainer.fit()
    if rank == 0:
        rec = new_record(model="mocohd", dataset={k: v for k, v in meta["dataset"].items() if k != "data_root"},
                         seed=rcfg.seed, checkpoint=str(run_dir / "checkpoints" / "latest.pt"),
                         checkpoint_hash=sha256_of(run_dir / "checkpoints" / "latest.pt"), recipe=rcfg.recipe,
                         command="train motion")
        write_result(run_dir, rec)
        click.echo(str(run_dir))
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
