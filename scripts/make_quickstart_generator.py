"""Export the frozen image generator that ships with vidbench for `vidbench quickstart`.

The file ``vidbench/assets/stylegan2-moving_mnist32-tiny.pt`` is the step-3,000 checkpoint of this training (2-core
AMD EPYC, one torch thread, 1,200 s to step 3,000; the run was configured for 14,000 steps):

    StyleGAN2Trainer(tiny_preset(seed=0, iters=14000, batch=32, r1=0.05, lr=0.0025, augment="translation",
                                 ema_half_life_kimg=10.0, pool_clips=4096, sample_every=1000, ckpt_every=1000), RUN)
    python scripts/make_quickstart_generator.py RUN --step 3000 --made-by "..." --note "..."

The recipe from the command line, stopping at step 3,000 (it uses every core, so its float rounding and the generator
differ):

    vidbench train image --dataset moving_mnist --preset tiny --set iters=3000 --set batch=32 --set r1=0.05 \
        --set lr=0.0025 --set augment=translation --set ema_half_life_kimg=10 --set pool_clips=4096 --set seed=0

`vidbench quickstart --train-image-generator` trains with this recipe too (3,000 steps).

It keeps the EMA generator of the chosen checkpoint and a provenance record (the run's configuration, training wall
time from its log, the machine, the vidbench commit, torch version), then prints the sha256 and size to pin in the
``stylegan2.moving_mnist32_tiny`` weights entry (``models/stylegan2.py``). The training is seeded, so the
same commands give the same generator on the same machine and torch build; other machines give a different (equally
trained) one, which needs its own sha256.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path

import torch
from vidbench.models.image_train import export_generator

from vidbench.machine import cpu_summary
from vidbench.records import git_commit
from vidbench.weights import sha256_file

ASSET = Path(__file__).resolve().parents[1] / "vidbench" / "assets" / "stylegan2-moving_mnist32-tiny.pt"


def _train_seconds(run: Path, step: int) -> float | None:
    """Elapsed training seconds at ``step`` from the run's train_log.csv (None when the log has no such row)."""
    with open(run / "train_log.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("step") and int(r["step"]) <= step]
    return float(rows[-1]["elapsed_s"]) if rows else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a `vidbench train image` run folder")
    ap.add_argument("--step", type=int, default=None, help="checkpoint step (default: the latest, checkpoint.pt)")
    ap.add_argument("--out", type=Path, default=ASSET)
    ap.add_argument("--note", default=None,
                    help="free text stored in the provenance (e.g. what it was checked against)")
    ap.add_argument("--made-by", default="vidbench train image (config below) + scripts/make_quickstart_generator.py",
                    help="how the run was trained (the exact command)")
    args = ap.parse_args()
    ckpt = args.run / "checkpoint.pt" if args.step is None else args.run / "checkpoints" / f"{args.step:06d}.pt"
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    step = int(state["step"])
    cfg_file = args.run / "config.json"  # `vidbench train image` writes it; a StyleGAN2Trainer run has the checkpoint's
    provenance = {
        "made_by": args.made_by,
        "run_config": json.loads(cfg_file.read_text()) if cfg_file.exists() else state["train_config"],
        "step": step,
        "train_wall_s": _train_seconds(args.run, step),
        "machine": cpu_summary(),
        "torch": str(torch.__version__),
        "vidbench_commit": git_commit(),
        "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
    }
    path = export_generator(ckpt, args.out, provenance)
    print(json.dumps({"path": str(path), "sha256": sha256_file(path), "size": path.stat().st_size, "step": step}))


if __name__ == "__main__":
    main()
