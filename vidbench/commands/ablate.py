"""`vidbench ablate --table 4|5 [--budget tiny|small|paper] [--dry-run]` — the paper's ablations end to end."""

from __future__ import annotations

import dataclasses
import json
import os

import click

from vidbench.ablate import BUDGETS, TABLES


@click.command()
@click.option("--table", "table", required=True, type=click.Choice(list(TABLES)), help="Paper ablation table.")
@click.option("--budget", type=click.Choice(list(BUDGETS)), default="tiny", show_default=True,
              help="tiny: embedded data, minutes on CPU; small: longer smoke; paper: App. B recipe (GPUs, torchrun).")
@click.option("--dataset", default=None, help="Video dataset (motion for Table 5). Default: the budget's.")
@click.option("--image-dataset", default=None, help="Table 5: dataset of the image generator (cross-domain).")
@click.option("--image-generator", default=None, help="StyleGAN2 checkpoint (else the sweep trains a tiny one).")
@click.option("--image-generator-small", default=None,
              help="Table 4 Full-128: StyleGAN2 at the evaluation size (paper: 128²).")
@click.option("--pca", default=None, help="W-space PCA .npz of --image-generator (else computed).")
@click.option("--data-root", default=None, help="Folder with the real datasets (or $VIDBENCH_DATA).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="MoCoGANHDConfig override for every variant.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--out", default="runs", show_default=True, help="Parent folder of ablation-table<N>-<budget>/.")
@click.option("--dry-run", is_flag=True, help="Print the resolved config of every variant and the evaluation plan.")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "latex", "html"]), default="md", show_default=True,
              help="Format of the table printed at the end (all four are written to the output folder).")
@click.option("--yes", is_flag=True, help="Run evaluations estimated above one hour.")
@click.option("--threads", type=int, default=None,
              help="torch intra-op threads (default: torch's; 1 is much faster on a busy shared CPU).")
def command(table, budget, dataset, image_dataset, image_generator, image_generator_small, pca, data_root, overrides,
            seed, device, out, dry_run, fmt, yes, threads):
    """Train every variant of paper Table 4 or 5 with the trainer's switches, evaluate, render the table.

    Table 4 (in-domain): w/o Eqn. 2, w/o D_I, w/o D_V, Full-128, Full-256 (IS, FVD). Table 5 (cross-domain, image
    generator from --image-dataset, motion from --dataset): w/o L_contr, w/o L_m, Full (ACD, motion diversity).
    A variant finished with the same config hash and code commit is reused; a failing variant is recorded and the
    others still run.

    \b
    Example:
      vidbench ablate --table 4 --budget tiny --out runs/
      vidbench ablate --table 5 --budget tiny --image-dataset moving_mnist --dataset synthetic_sky
      vidbench ablate --table 4 --budget paper --dry-run
    """
    import sys

    from vidbench.ablate import AblationConfig, plan, run_ablation

    cfg = AblationConfig(table=table, budget=budget, dataset=dataset, image_dataset=image_dataset,
                         image_generator=image_generator, image_generator_small=image_generator_small, pca=pca,
                         data_root=data_root, seed=seed, device=device, overrides=tuple(overrides))
    if dry_run:
        click.echo(json.dumps(plan(cfg), indent=2))
        return
    if threads:
        import torch

        torch.set_num_threads(threads)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # torchrun: every rank trains, rank 0 evaluates and renders
        from vidbench.commands.train_motion import _init_distributed

        _, _, dev = _init_distributed()
        cfg = dataclasses.replace(cfg, device=str(dev))
    summary = run_ablation(cfg, out, progress=sys.stderr.isatty(), yes=yes)
    if "rank" in summary:
        return
    for v in summary["variants"]:
        click.echo(f"{v['label']}: {v['status']} ({v['elapsed_s']:.0f} s){' - ' + v['error'] if v['error'] else ''}",
                   err=True)
    click.echo(f"sweep time {summary['elapsed_s']:.0f} s; tables in {summary['root']}", err=True)
    click.echo(open(summary["tables"][fmt], encoding="utf-8").read(), nl=False)
