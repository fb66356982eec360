"""Trainer: every ablation switch trains, recipes run, resume is exact, logs/GIFs are written, 2-rank gloo run."""

import csv
import os
import socket

import numpy as np
import pytest
import torch
from vidbench.models.mocogan_hd.config import tiny_config
from vidbench.models.mocogan_hd.trainer import Trainer


@pytest.fixture(scope="module")
def tiny_g():
    from vidbench.models.stylegan2 import Generator
    from vidbench.models.stylegan2 import tiny_config as sg_tiny

    torch.manual_seed(0)
    return Generator(sg_tiny(size=32, channels=16, style_dim=64, n_mlp=2)).eval().requires_grad_(False)


@pytest.fixture(scope="module")
def mnist():
    from vidbench.datasets import build_dataset

    return build_dataset("moving_mnist", split="train", num_frames=8, size=32, seed=0, num_videos=64)


def _basis():
    q, _ = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(5)))
    return q.T.contiguous(), torch.linspace(2, 0.5, 64)


def _trainer(g, ds, run_dir=None, **kw):
    base = dict(num_frames=4, frame_stride=1, batch_size=2, bank_size=16, proj_dim=16, biggan_ch=4, d_ndf=4)
    base.update(kw)
    basis, std = _basis()
    return Trainer(tiny_config(**base), g, basis, std, ds, run_dir=run_dir, progress=False)


def _flat(m):
    return torch.cat([p.detach().reshape(-1) for p in m.parameters()])


@pytest.mark.parametrize("switch", [
    {},
    {"use_video_d": False},
    {"use_image_d": False},
    {"residual": False},
    {"use_mi_loss": False},
    {"use_contrastive": False},
    {"recipe": "released", "g_steps_per_d": 2},
    {"recipe": "released", "domain": "cross", "g_steps_per_d": 2},
    {"domain": "cross"},
])
def test_every_switch_trains_a_step(tiny_g, mnist, switch):
    tr = _trainer(tiny_g, mnist, **switch)
    before = _flat(tr.gm).clone()
    dv0 = _flat(tr.dv).clone() if tr.dv is not None else None
    row = tr.train_step()
    assert all(np.isfinite(v) for k, v in row.items() if isinstance(v, float))
    assert not torch.equal(before, _flat(tr.gm))  # G_M was updated
    if dv0 is not None:
        assert not torch.equal(dv0, _flat(tr.dv))
    assert ("d_v" in row) == switch.get("use_video_d", True)
    assert ("d_i" in row) == switch.get("use_image_d", True)
    assert ("l_m" in row) == switch.get("use_mi_loss", True)
    if switch.get("use_contrastive") is False or switch.get("recipe") == "released" and "domain" not in switch:
        assert "l_contr" not in row
    if switch.get("residual") is False:
        assert hasattr(tr.gm, "out_proj")


@pytest.mark.parametrize("g_steps", [1, 2])
def test_d_fake_reuse_feeds_d_the_last_g_update_clips(tiny_g, mnist, g_steps, monkeypatch):
    """d_fake="reuse": one render per G update and none for the D update, whose D_V sees exactly the last G update's
    clips (detached); "regenerate" renders once more for D (MOCOGAN_HD_FACTS §11)."""
    for mode, renders in (("regenerate", g_steps + 1), ("reuse", g_steps)):
        tr = _trainer(tiny_g, mnist, d_fake=mode, g_steps_per_d=g_steps)
        made, seen = [], []
        gen, dv_forward = tr.generate, tr.dv.forward

        def counting_generate(b, gen=gen, made=made):
            out = gen(b)
            made.append(out[0].detach().clone())
            return out

        def recording_dv(x, dv_forward=dv_forward, seen=seen):
            seen.append((torch.is_grad_enabled(), x.detach().clone()))
            return dv_forward(x)

        monkeypatch.setattr(tr, "generate", counting_generate)
        monkeypatch.setattr(tr.dv, "forward", recording_dv)
        tr.train_step()
        assert len(made) == renders, mode
        # the D update's D_V calls: real then fake; its fake input is the last render (for both modes)
        d_fake_in = seen[-1][1]
        assert d_fake_in.shape[0] == made[-1].shape[0]
        if mode == "reuse":
            from vidbench.models.mocogan_hd.discriminators import time_reverse, video_d_input

            expect = time_reverse(video_d_input(made[-1], tr.cfg.domain), tr.cfg.time_reverse_p)
            assert torch.equal(d_fake_in, expect)
        assert tr._last_fake is None  # used once


def test_d_fake_is_validated():
    from vidbench.config import ConfigError

    with pytest.raises(ConfigError, match="d_fake"):
        tiny_config(d_fake="sometimes").validate()


def test_d_lr_sets_the_discriminators_lr_only(tiny_g, mnist):
    from vidbench.config import ConfigError

    same = _trainer(tiny_g, mnist, lr=3e-4)
    assert {g["lr"] for o in (same.opt_g, same.opt_dv, same.opt_di) for g in o.param_groups} == {3e-4}
    split = _trainer(tiny_g, mnist, lr=3e-4, d_lr=5e-5)
    assert [g["lr"] for g in split.opt_g.param_groups] == [3e-4]
    assert {g["lr"] for o in (split.opt_dv, split.opt_di) for g in o.param_groups} == {5e-5}
    with pytest.raises(ConfigError, match="d_lr"):
        tiny_config(d_lr=0.0).validate()


def _losses(row):
    return {k: v for k, v in row.items() if k not in ("time_s", "iter_s")}


@pytest.mark.parametrize("kw", [{"recipe": "released", "domain": "cross", "g_steps_per_d": 2}, {}])
def test_resume_reproduces_the_uninterrupted_run(tiny_g, mnist, tmp_path, kw):
    full = _trainer(tiny_g, mnist, **kw)
    rows = [full.train_step() for _ in range(3)]
    part = _trainer(tiny_g, mnist, **kw)
    part.train_step()
    part.train_step()
    ck = part.save_checkpoint(tmp_path / "ck.pt")
    torch.manual_seed(999)  # a fresh process would start from another RNG state
    resumed = _trainer(tiny_g, mnist, **kw)
    torch.manual_seed(12345)
    resumed.resume(ck)
    assert resumed.step == 2
    nxt = resumed.train_step()
    assert _losses(nxt) == _losses(rows[2])
    assert torch.equal(_flat(resumed.gm), _flat(full.gm))
    if full.banks:
        assert all(torch.equal(full.banks[n].queue, resumed.banks[n].queue) for n in full.banks)


def test_fit_writes_csv_gif_and_checkpoints(tiny_g, mnist, tmp_path):
    from PIL import Image

    tr = _trainer(tiny_g, mnist, run_dir=tmp_path, total_steps=3, sample_every=2, ckpt_every=2, num_grid=4)
    tr.fit()
    with open(tmp_path / "train_log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [1, 2, 3] and all(r["g_total"] for r in rows)
    gifs = sorted((tmp_path / "samples").glob("*.gif"))
    assert [g.name for g in gifs] == ["step_0000002.gif", "step_0000003.gif"]
    im = Image.open(gifs[0])
    assert im.n_frames == 4 and im.size == (2 + 2 * 34, 2 + 2 * 34)  # 2×2 grid of 32² videos, 4 frames
    assert (tmp_path / "checkpoints" / "latest.pt").exists() and (tmp_path / "checkpoints" / "step_0000002.pt").exists()
    tr.step = 2
    tr.truncate_log()
    with open(tmp_path / "train_log.csv") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [1, 2]


# ------------------------------------------------------------------------------------------------ 2 ranks, gloo
def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _worker(rank, port, out_dir, steps):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    try:
        from vidbench.models.stylegan2 import Generator
        from vidbench.models.stylegan2 import tiny_config as sg_tiny

        from vidbench.datasets import build_dataset

        torch.manual_seed(0)
        g = Generator(sg_tiny(size=32, channels=16, style_dim=64, n_mlp=2)).eval().requires_grad_(False)
        ds = build_dataset("moving_mnist", split="train", num_frames=4, size=32, seed=0, num_videos=32)
        tr = _trainer(g, ds, run_dir=out_dir if rank == 0 else None, recipe="released", domain="cross",
                      g_steps_per_d=1, batch_size=4, total_steps=steps, sample_every=0, ckpt_every=0)
        init = {k: _flat(m).clone() for k, m in (("gm", tr.gm), ("dv", tr.dv), ("di", tr.di))}
        tr.fit(steps)
        torch.save({"init": init, "final": {k: _flat(m) for k, m in (("gm", tr.gm), ("dv", tr.dv), ("di", tr.di))},
                    "bank": {n: tr.banks[n].queue.clone() for n in tr.banks}},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        torch.distributed.destroy_process_group()


def test_two_gloo_ranks_keep_identical_parameters(tmp_path):
    import torch.multiprocessing as mp

    steps = 3
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path), steps), nprocs=2, start_method="fork", join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in ("gm", "dv", "di"):
        assert torch.equal(r0["init"][k], r1["init"][k])
        assert torch.equal(r0["final"][k], r1["final"][k]), k  # gradients averaged -> identical updates
        assert not torch.equal(r0["init"][k], r0["final"][k])  # and they did train
    for n in r0["bank"]:
        assert torch.equal(r0["bank"][n], r1["bank"][n])  # gathered keys from both ranks
    with open(tmp_path / "train_log.csv") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [1, 2, 3]  # the loss curve, logged by rank 0
