"""Quickstart image-generator training speed: milliseconds per StyleGAN2 step (tiny preset, 32², the quickstart's
R1 γ) at each thread count, float32 and — for information — under bf16 autocast, in one run on this machine.

The quickstart trains in float32 (bf16 autocast would change the generator it trains, and its learning signal is
seed-fragile: README, "The quickstart"); the bf16 column says what that would buy. Also a yardstick for comparing
quickstart stage times across days on a shared machine. Prints one JSON object with the CPU's model and flags. Not a
test: run by hand, e.g.

    python benchmarks/stylegan2_train_step.py --threads 1,2 --out benchmarks/results_stylegan2_train_step_cpu2.json
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import torch

from vidbench.machine import cpu_summary, emit_benchmark


def main() -> None:
    from vidbench.models.image_train import StyleGAN2Trainer, tiny_preset

    from vidbench.quickstart import FULL

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per setting (after 3 warm-up steps)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out: dict = {"setting": f"tiny preset, batch {FULL.image_batch}, R1 gamma {FULL.image_r1}, augment "
                            f"{FULL.image_augment} (the quickstart's --train-image-generator recipe)",
                 "cpu": cpu_summary(), "torch": torch.__version__, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = tiny_preset(iters=10, batch=FULL.image_batch, r1=FULL.image_r1, lr=FULL.image_lr,
                          augment=FULL.image_augment, sample_every=0, ckpt_every=0, pool_clips=32, log_every=10**9)
        trainer = StyleGAN2Trainer(cfg, Path(tmp) / "run", progress=False)
        for nt in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(nt)
            row: dict = {"threads": nt}
            for name in ("fp32", "bf16_autocast"):
                ctx = (torch.autocast("cpu", dtype=torch.bfloat16) if name == "bf16_autocast"
                       else contextlib.nullcontext())
                with ctx:
                    for _ in range(3):
                        trainer.train_step()
                    t = time.perf_counter()
                    for _ in range(args.steps):
                        trainer.train_step()
                row[f"{name}_ms_per_step"] = round(1000 * (time.perf_counter() - t) / args.steps, 1)
            row["bf16_speedup"] = round(row["fp32_ms_per_step"] / row["bf16_autocast_ms_per_step"], 3)
            out["runs"].append(row)
    emit_benchmark(out, args.out)


if __name__ == "__main__":
    main()
