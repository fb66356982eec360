"""SIGKILL at random points, then resume: image training, motion training and eval (slow).

Each job kind first runs uninterrupted (the reference, through the real CLI in a subprocess, one thread). Then the same
job is started and killed with SIGKILL after a random delay drawn uniformly over the reference's wall time, resumed
(``--resume RUN_DIR``), killed again, ... until at least ``KILLS`` kills; then it is resumed to the end. A job that
finishes before its kill ends an *episode* and a fresh one starts, so every kill lands somewhere in a job. After every
kill, every file under a final name in the run folder must be complete (``_harness.validate_file``); temporary files of
the interrupted write may exist until the resume removes them. At the end: the result equals the reference exactly
(same weights / log rows / metric value), and no temporary file is left.

``python -m pytest tests/reliability/test_interrupt.py -m slow -s`` prints the figures (kills survived per job kind).
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import _harness as H  # tests/reliability/_harness.py (importable: see conftest.py)
import pytest
import torch

KILLS = 10
FIGURES: dict[str, dict] = {}


@dataclass
class Job:
    kind: str
    fresh: Callable[[Path], list[str]]  # out folder -> argv
    resume: Callable[[Path], list[str]]  # run folder -> argv
    resumable: Callable[[Path], bool]  # does the run folder hold what --resume needs?
    result: Callable[[Path], dict]  # run folder -> comparable result (tensors, rows, values)
    done: Callable[[Path], bool]


def _popen(args, env, cwd):
    return subprocess.Popen([sys.executable, "-m", "vidbench.cli", *map(str, args)], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir()) if out.exists() else []


def _check_no_partial_files(folder: Path) -> list[str]:
    problems = []
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = Path(dirpath) / f
            if H.is_temp_name(f):
                continue  # a write the kill interrupted: removed by the resume, checked at the end
            why = H.validate_file(p)
            if why:
                problems.append(f"{p}: {why}")
    return problems


def _temp_files(folder: Path) -> list[Path]:
    return [Path(d) / f for d, _, fs in os.walk(folder) for f in fs if H.is_temp_name(f)]


def run_with_kills(job: Job, tmp: Path, env: dict, ref_seconds: float, kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    stats = {"kills": 0, "episodes": 0, "finished_before_kill": 0, "partial_files": [], "delays": []}
    episodes: list[Path] = []
    episode = 0
    while stats["kills"] < kills:
        out = tmp / f"episode{episode}"
        run = None
        while True:
            args = job.resume(run) if run is not None else job.fresh(out)
            t0 = time.perf_counter()
            p = _popen(args, env, tmp)
            delay = rng.uniform(0.0, ref_seconds)
            try:
                p.wait(timeout=delay)
                err = p.stderr.read()
                assert p.returncode == 0, f"{job.kind}: rc={p.returncode} after resume\n{err[-3000:]}"
                stats["finished_before_kill"] += 1
                if run is None:  # a whole job ran quicker than the reference did: draw later delays from its time
                    ref_seconds = min(ref_seconds, time.perf_counter() - t0)
                break
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stderr.close()
                stats["kills"] += 1
                stats["delays"].append(round(delay, 2))
            stats["partial_files"] += _check_no_partial_files(out) if out.exists() else []
            if any(job.done(r) for r in _runs(out)):  # killed after its last write (e.g. while printing): finished
                break
            resumable = [r for r in _runs(out) if job.resumable(r)]
            run = resumable[-1] if resumable else None  # killed before the first checkpoint: start again
            if stats["kills"] >= kills and run is not None:
                p = _popen(job.resume(run), env, tmp)  # enough kills: finish the job
                _, err = p.communicate(timeout=600)
                assert p.returncode == 0, f"{job.kind}: final resume failed\n{err[-3000:]}"
                break
        finished = [r for r in _runs(out) if job.done(r)]
        assert len(finished) == 1, f"{job.kind}: expected one finished run in {out}, got {_runs(out)}"
        episodes.append(finished[0])
        episode += 1
    stats["episodes"] = len(episodes)
    stats["runs"] = episodes
    return stats


def _tensors_equal(a, b, path="") -> list[str]:
    if isinstance(a, torch.Tensor):
        return [] if isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b) else [path]
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [path + " (keys)"]
        return [d for k in a for d in _tensors_equal(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [path + " (len)"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _tensors_equal(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def _log_rows(path: Path, drop: tuple[str, ...]) -> list[dict]:
    with open(path, newline="") as fh:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(fh)]


def _assert_same(job: Job, ref: Path, runs: list[Path]) -> None:
    want = job.result(ref)
    for r in runs:
        got = job.result(r)
        diffs = _tensors_equal(want, got)
        assert not diffs, f"{job.kind}: {r} differs from the uninterrupted run at {diffs[:5]}"
        left = _temp_files(r)
        assert not left, f"{job.kind}: temporary files left in {r}: {left}"


def _run_job(job: Job, tmp: Path, env: dict) -> dict:
    t0 = time.perf_counter()
    p = _popen(job.fresh(tmp / "reference"), env, tmp)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-3000:]
    ref_seconds = time.perf_counter() - t0
    (ref,) = [r for r in _runs(tmp / "reference") if job.done(r)]
    stats = run_with_kills(job, tmp, env, ref_seconds, KILLS, seed=hash(job.kind) % 1000)
    assert not stats["partial_files"], stats["partial_files"][:5]
    _assert_same(job, ref, stats["runs"])
    FIGURES[job.kind] = {"kills_survived": stats["kills"], "episodes": stats["episodes"],
                         "reference_s": round(ref_seconds, 1), "partial_files": len(stats["partial_files"])}
    report = os.environ.get("VIDBENCH_RELIABILITY_REPORT")  # JSON lines with the figures, for the README
    if report:
        with open(report, "a") as fh:
            fh.write(json.dumps({"job": job.kind, **FIGURES[job.kind], "kill_delays_s": stats["delays"]}) + "\n")
    print(f"\n{job.kind}: {stats['kills']} SIGKILLs survived over {stats['episodes']} episode(s) "
          f"(kill delays {stats['delays']} s, reference {ref_seconds:.1f} s), identical result, 0 files lost")
    return stats


# ------------------------------------------------------------------------------------------------ the jobs
def motion_job(assets: Path) -> Job:
    sets = ["total_steps=12"]
    return Job(
        "train motion",
        fresh=lambda out: H.motion_args(assets, out, *sets),
        resume=lambda run: ["train", "motion", "--dataset", "moving_mnist", "--resume", str(run)],
        resumable=lambda run: (run / "checkpoints" / "latest.pt").exists(),
        result=lambda run: {
            **{k: v for k, v in torch.load(run / "checkpoints" / "latest.pt", weights_only=True).items()
               if k in ("motion_generator", "video_d", "image_d", "image_d_ema", "banks", "optim", "step", "epoch",
                        "data_pos")},
            "log": _log_rows(run / "train_log.csv", ("time_s", "iter_s"))},
        done=lambda run: (run / "result.json").exists(),
    )


def image_job() -> Job:
    return Job(
        "train image",
        fresh=lambda out: H.image_args(out, "iters=16"),
        resume=lambda run: ["train", "image", "--dataset", "moving_mnist", "--no-progress", "--resume", str(run)],
        resumable=lambda run: (run / "checkpoint.pt").exists(),
        result=lambda run: {
            **{k: v for k, v in torch.load(run / "checkpoint.pt", weights_only=True).items()
               if k in ("g", "g_ema", "d", "g_optim", "d_optim", "step", "mean_path_length")},
            "log": _log_rows(run / "train_log.csv", ("elapsed_s",))},
        done=lambda run: (run / "samples" / "final.png").exists() and _final_step(run) == 16,
    )


def _final_step(run: Path) -> int:
    try:
        return int(torch.load(run / "checkpoint.pt", weights_only=True)["step"])
    except Exception:  # noqa: BLE001
        return -1


def eval_job(assets: Path) -> Job:
    base = ["eval", "--model", f"samples:{assets / 'fake16'}", "--dataset", f"folder:{assets / 'real16'}",
            "--metrics", "fvd2_16f", "--detector", "i3d[random-init]", "--frames", "16", "--resolution", "32",
            "--batch-size", "1", "--json"]
    return Job(
        "eval",
        fresh=lambda out: base + ["--out", str(out)],
        resume=lambda run: ["eval", "--resume", str(run), "--json"],  # the config comes from the run folder
        resumable=lambda run: (run / "config.json").exists(),
        result=lambda run: {k: v for k, v in json.loads((run / "result.json").read_text())["metrics"][
            "fvd2_16f[random-init]"].items() if k in ("value", "n_real", "n_fake", "protocol_id")},
        done=lambda run: (run / "result.json").exists(),
    )


@pytest.fixture
def env(tmp_path):
    return H.cli_env(tmp_path / "cache")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes on 2 idle cores; far longer on a loaded machine
def test_motion_training_survives_sigkill(assets, tmp_path, env):
    _run_job(motion_job(assets), tmp_path, env)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes on 2 idle cores; far longer on a loaded machine
def test_image_training_survives_sigkill(tmp_path, env):
    _run_job(image_job(), tmp_path, env)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes on 2 idle cores; far longer on a loaded machine
def test_eval_survives_sigkill(assets, tmp_path, env):
    _run_job(eval_job(assets), tmp_path, env)
