"""StyleGAN2 training: losses vs hand computations, finite losses with every regulariser on, exact resume, checkpoint
format, the CLI; slow: the tiny CPU preset improves the sliced-Wasserstein distance to real moving_mnist frames."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from vidbench.models import image_train as it
from vidbench.models import stylegan2 as sg


def _micro(**kw):
    base = dict(size=16, channel_max=8, style_dim=16, n_mlp=1, batch=4, pool_clips=6, num_frames=4, iters=4,
                path_regularize=2.0, mixing=0.9, augment="flip+translation", d_reg_every=2, g_reg_every=2, r1=1.0,
                sample_every=0, ckpt_every=0, log_every=1, n_sample=4)
    base.update(kw)
    return it.tiny_preset(**base)


class _Clip:
    def __init__(self, video):
        self.id, self.video = "x", video


class SquaresDataset:
    """8 clips of a bright square moving on black (uint8 [T,S,S,3]); keeps the fast tests free of dataset set-up."""

    def __init__(self, size=16, frames=4):
        self.size, self.frames = size, frames

    def __len__(self):
        return 8

    def __getitem__(self, i):
        v = np.zeros((self.frames, self.size, self.size, 3), np.uint8)
        for t in range(self.frames):
            y, x = (i + t) % (self.size - 4), (2 * i + t) % (self.size - 4)
            v[t, y:y + 4, x:x + 4] = 255
        return _Clip(v)


# -------------------------------------------------------------------------------------------- losses by hand
def test_logistic_losses_hand_computed():
    r, f = torch.tensor([[0.5], [-1.0]]), torch.tensor([[2.0], [0.0]])
    sp = lambda x: np.log1p(np.exp(x))
    assert math.isclose(float(it.d_logistic_loss(r, f)), (sp(-0.5) + sp(1.0)) / 2 + (sp(2.0) + sp(0.0)) / 2, rel_tol=1e-6)
    assert math.isclose(float(it.g_nonsaturating_loss(f)), (sp(-2.0) + sp(0.0)) / 2, rel_tol=1e-6)


def test_r1_penalty_linear_discriminator():
    a = torch.randn(1, 3, 4, 4)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    pred = (x * a).sum([1, 2, 3])  # D(x) = <a, x>: gradient a for every sample
    assert math.isclose(float(it.d_r1_penalty(pred, x)), float((a**2).sum()), rel_tol=1e-5)


def test_translation_matches_numpy_shift():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    out = it.augment_batch(x, "translation", 0.34, gen, flip_ok=False)
    gen = torch.Generator().manual_seed(0)
    tx, ty = torch.randint(-2, 3, (2,), generator=gen), torch.randint(-2, 3, (2,), generator=gen)
    for b in range(2):
        ref = np.zeros((3, 6, 6), np.float32)
        dy, dx = int(tx[b]), int(ty[b])
        src = x[b].numpy()
        for i in range(6):
            for j in range(6):
                if 0 <= i - dy < 6 and 0 <= j - dx < 6:
                    ref[:, i, j] = src[:, i - dy, j - dx]
        np.testing.assert_array_equal(out[b].numpy(), ref)


# -------------------------------------------------------------------------------------------- training loop
def test_few_steps_finite_with_all_regularisers(tmp_path):
    tr = it.StyleGAN2Trainer(_micro(), tmp_path / "run", dataset=SquaresDataset(), progress=False)
    tr.train()
    rows = list(csv.DictReader(open(tmp_path / "run" / "train_log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    for r in rows:
        assert math.isfinite(float(r["d_loss"])) and math.isfinite(float(r["g_loss"]))
    assert math.isfinite(float(rows[0]["r1"])) and math.isfinite(float(rows[0]["path_loss"]))  # step 0: both regs ran
    assert (tmp_path / "run" / "checkpoint.pt").exists()


def _run_states(tr):
    return [p.detach().clone() for p in list(tr.G_ema.parameters()) + list(tr.D.parameters())]


def test_resume_continues_identically(tmp_path):
    cfg = _micro(iters=6, ckpt_every=3)
    a = it.StyleGAN2Trainer(cfg, tmp_path / "a", dataset=SquaresDataset(), progress=False)
    a.train()
    b = it.StyleGAN2Trainer(cfg, tmp_path / "b", dataset=SquaresDataset(), progress=False)
    b.train(iters=3)
    del b
    b2 = it.resume_trainer(tmp_path / "b", dataset=SquaresDataset(), progress=False)
    assert b2.step == 3
    b2.train()
    for pa, pb in zip(_run_states(a), _run_states(b2)):
        assert torch.equal(pa, pb)
    la = list(csv.DictReader(open(tmp_path / "a" / "train_log.csv")))
    lb = list(csv.DictReader(open(tmp_path / "b" / "train_log.csv")))
    assert [r["d_loss"] for r in la] == [r["d_loss"] for r in lb]
    assert [r["g_loss"] for r in la] == [r["g_loss"] for r in lb]


def test_checkpoint_is_rosinality_compatible(tmp_path):
    tr = it.StyleGAN2Trainer(_micro(iters=2), tmp_path / "r", dataset=SquaresDataset(), progress=False)
    tr.train()
    G, meta = sg.load_rosinality_checkpoint(tmp_path / "r" / "checkpoint.pt")  # weights_only load inside
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.allclose(G(z, noise_mode="const"), tr.G_ema(z, noise_mode="const"), atol=1e-6)
    assert meta["config"]["size"] == 16 and meta["has_d"]


def test_export_keeps_only_the_ema_generator_and_its_provenance(tmp_path):
    tr = it.StyleGAN2Trainer(_micro(iters=2), tmp_path / "r", dataset=SquaresDataset(), progress=False)
    tr.train()
    out = it.export_generator(tmp_path / "r" / "checkpoint.pt", tmp_path / "g.pt", {"made_by": "test", "n": 2})
    small = torch.load(out, map_location="cpu", weights_only=True)
    assert set(small) == {"g_ema", "vidbench_config", "train_config", "step", "provenance", "format"}
    assert small["step"] == 2 and small["provenance"] == {"made_by": "test", "n": 2}
    assert out.stat().st_size < (tmp_path / "r" / "checkpoint.pt").stat().st_size / 2  # no G, D, optimisers
    G, meta = sg.load_rosinality_checkpoint(out)
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.equal(G(z, noise_mode="const"), tr.G_ema(z, noise_mode="const"))
    assert not meta["has_d"] and meta["step"] == 2 and meta["provenance"]["made_by"] == "test"
    assert meta["train_config"]["iters"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pt", "r"]  # written atomically: no temp file left


def test_fid_callback_hook_called(tmp_path):
    calls = []

    def fid(G):
        calls.append(G.sample(2).shape)
        return 42.0

    tr = it.StyleGAN2Trainer(_micro(iters=4, fid_every_kimg=0.008), tmp_path / "f", fid_callback=fid,
                               dataset=SquaresDataset(), progress=False)
    tr.train()
    rows = list(csv.DictReader(open(tmp_path / "f" / "train_log.csv")))
    assert len(calls) == 2 and [r["fid"] for r in rows] == ["", "42", "", "42"]  # every 8 images = 2 steps


def test_train_image_cli_and_resume(tmp_path):
    from vidbench.cli import cli

    args = ["train", "image", "--dataset", "moving_mnist", "--out", str(tmp_path), "--no-progress", "--json"]
    sets = ["size=16", "channel_max=8", "style_dim=16", "n_mlp=1", "batch=4", "pool_clips=4", "num_frames=4",
            "iters=2", "n_sample=4", "ckpt_every=0", "sample_every=0"]
    res = CliRunner().invoke(cli, args + sum([["--set", s] for s in sets], []))
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    run = Path(out["run_dir"])
    assert out["step"] == 2 and (run / "samples" / "final.png").exists() and (run / "config.json").exists()
    res2 = CliRunner().invoke(cli, ["train", "image", "--dataset", "moving_mnist", "--resume", str(run), "--set",
                                    "iters=3", "--no-progress", "--json"])
    assert res2.exit_code == 0, res2.output
    assert json.loads(res2.output)["step"] == 3
    bad = CliRunner().invoke(cli, args + ["--set", "nope=1"])
    assert bad.exit_code == 2 and "nope" in bad.output
    # FID tracking without the Inception weights: one-line error before any run folder is made
    before = set(tmp_path.iterdir())
    nofid = CliRunner().invoke(cli, args + ["--set", "fid_every_kimg=1"])
    assert nofid.exit_code == 2 and "inception_v3.fid" in nofid.output and set(tmp_path.iterdir()) == before


# -------------------------------------------------------------------------------------------- slow: real quality
def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_dirs: int = 512, seed: int = 0) -> float:
    """Sliced 1-Wasserstein distance between two equally sized point sets [N,D] (random unit directions)."""
    rng = np.random.default_rng(seed)
    dirs = rng.standard_normal((a.shape[1], n_dirs))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
    return float(np.abs(pa - pb).mean())


def _gray(x: torch.Tensor) -> np.ndarray:  # [N,3,H,W] in [-1,1] -> [N,H*W] in [0,1]
    return ((x.clamp(-1, 1).mean(1) + 1) / 2).flatten(1).double().numpy()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_tiny_preset_improves_sliced_wasserstein(tmp_path):
    torch.set_num_threads(1)
    iters = int(os.environ.get("VIDBENCH_TINY_ITERS", 3000))
    out = Path(os.environ.get("VIDBENCH_TINY_OUT", tmp_path / "tiny"))
    tr = it.StyleGAN2Trainer(it.tiny_preset(iters=iters), out, progress=False)
    gen = torch.Generator().manual_seed(99)
    real = _gray(torch.stack([tr.sampler.sample(1)[0] for _ in range(512)]))
    real2 = _gray(torch.stack([tr.sampler.sample(1)[0] for _ in range(512)]))

    def swd_now():
        with torch.no_grad():
            fake = torch.cat([tr.G_ema.sample(128, generator=gen) for _ in range(4)])
        return sliced_wasserstein(_gray(fake), real)

    start = swd_now()
    tr.save_samples("start.png")
    tr.train()
    end = swd_now()
    grid = tr.save_samples("end.png")
    floor = sliced_wasserstein(real2, real)  # two real samples: the best achievable at this N
    print(json.dumps({"swd_start": start, "swd_end": end, "swd_real_vs_real": floor, "grid": str(grid)}))
    assert end < 0.5 * start
    assert end < 6 * floor + 0.01
