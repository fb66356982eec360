"""TGANv2 clean-room port: shapes against BASELINES.md §1, the subsampling scheme, losses, learning, resume."""

import dataclasses

import numpy as np
import pytest
import torch
from vidbench.baselines import tgan_v2 as T
from vidbench.baselines.training import count_parameters, from_uint8, linear_lr

from vidbench.config import ConfigError


def micro(**kw) -> T.TGANv2Config:
    """The smallest model the architecture allows (64², 8 frames): fast enough for learning tests."""
    base = dict(z_dim=8, clstm_ch=8, ch=2, d_mid_ch=2, batch_size=2, num_frames=8, total_steps=10, seed=0, lr=1e-4)
    base.update(kw)
    return T.preset_config("tiny", **base)


# ------------------------------------------------------------------------------------------------ parameter counts
def official_generator_params(z=256, clstm=1024, t=3, n_layers=1, ch=32) -> int:
    """Hand count from BASELINES.md §1.2 (fc, ConvLSTM x/h convs, six GenBlocks, four render heads; BN γ and β)."""
    fc = z * clstm * t * t + clstm * t * t
    lstm = n_layers * (clstm * 4 * clstm * 9 + 4 * clstm + clstm * 4 * clstm * 9)
    w = [clstm, 16 * ch, 8 * ch, 4 * ch, 2 * ch, ch, ch]
    blocks = sum(2 * i + (i * o * 9 + o) + 2 * o + (o * o * 9 + o) + (i * o + o) for i, o in zip(w[:-1], w[1:]))
    heads = sum(2 * c + c * 3 * 9 + 3 for c in (4 * ch, 2 * ch, ch, ch))
    return fc + lstm + blocks + heads


def official_discriminator_params(m=64, levels=4) -> int:
    """Hand count from BASELINES.md §1.3 (OptimizedDisBlock 3→m, DisBlocks m→…→16m, Linear 16m→1), per level."""
    opt = (3 * m * 27 + m) + (m * m * 27 + m) + (3 * m + m)
    w = [m, 2 * m, 4 * m, 8 * m, 16 * m]
    dis = sum((i * i * 27 + i) + (i * o * 27 + o) + (i * o + o) for i, o in zip(w[:-1], w[1:]))
    return levels * (opt + dis + 16 * m + 1)


@pytest.mark.parametrize("preset,t", [("ucf101", 3), ("faceforensics", 4)])
def test_parameter_counts_match_the_official_architecture(preset, t):
    cfg = T.preset_config(preset)
    with torch.device("meta"):
        g, d = T.TGANv2Generator(cfg), T.MultiLevelDiscriminator(cfg.d_mid_ch)
    assert count_parameters(g) == official_generator_params(t=t)
    assert count_parameters(d) == official_discriminator_params()
    assert count_parameters(d) == 116_077_060  # 4 x 29,019,265


# ------------------------------------------------------------------------------------------------ shapes
def test_presets_are_the_readme_recipes():
    ucf, ff, yaml = T.preset_config("ucf101"), T.preset_config("faceforensics"), T.preset_config("yaml")
    assert (ucf.resolution, ff.resolution, T.preset_config("tiny").resolution) == (192, 256, 64)
    assert (ucf.clstm_ch, ucf.n_clstm_layers, ucf.lam, ucf.n_dis, ucf.subsample_batch) == (1024, 1, 0.5, 1, False)
    assert (ucf.batch_size, ucf.betas, ucf.adam_eps, ucf.lr, ucf.eval_resolution) == (128, (0.0, 0.9), 8e-8, 1e-4, 128)
    assert (yaml.clstm_ch, yaml.n_clstm_layers, yaml.lam, yaml.n_dis, yaml.subsample_batch) == (512, 3, 10.0, 3, True)
    with pytest.raises(ConfigError):
        T.preset_config("nope")
    with pytest.raises(ConfigError):
        T.preset_config("tiny", num_frames=12)  # not a multiple of 2^3


def test_convlstm_cell_matches_hand_gates():
    cell = T.ConvLSTMCell(2, 3)
    x = torch.randn(1, 2, 4, 4)
    h, c = cell(x, None)
    i, f, o, g = cell.wx(x).chunk(4, 1)  # zero state: c = σ(i)·tanh(g), h = σ(o)·tanh(c)
    torch.testing.assert_close(c, torch.sigmoid(i) * torch.tanh(g))
    torch.testing.assert_close(h, torch.sigmoid(o) * torch.tanh(c))
    h2, c2 = cell(x, (h, c))
    gi, gf, go, gg = (cell.wx(x) + cell.wh(h)).chunk(4, 1)
    torch.testing.assert_close(c2, torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg))
    assert h.shape == (1, 3, 4, 4)


def test_block_shapes():
    assert T.GenBlock(8, 4)(torch.randn(2, 8, 3, 3)).shape == (2, 4, 6, 6)
    out = T.RenderHead(4)(torch.randn(2, 4, 6, 6))
    assert out.shape == (2, 3, 6, 6) and out.abs().max() <= 1
    assert T.OptimizedDisBlock(3, 4)(torch.randn(1, 3, 4, 8, 8)).shape == (1, 4, 4, 4, 4)
    assert T.DisBlock(4, 8)(torch.randn(1, 4, 4, 8, 8)).shape == (1, 8, 2, 4, 4)


@pytest.mark.parametrize("frames,size,expected", [
    # BASELINES.md §1.3, UCF-101 (T, H) after D blocks 1..5 for levels 1..4
    (16, 24, [(16, 12), (8, 6), (4, 3), (2, 2), (1, 1)]),
    (8, 48, [(8, 24), (4, 12), (2, 6), (1, 3), (3, 2)]),
    (4, 96, [(4, 48), (2, 24), (1, 12), (3, 6), (2, 3)]),
    (2, 192, [(2, 96), (1, 48), (3, 24), (2, 12), (1, 6)]),
])
def test_discriminator_shapes_reproduce_the_chainer_padding_quirk(frames, size, expected):
    d = T.ResNetVideoDiscriminator(mid_ch=1)
    feats = d.features(torch.zeros(1, 3, frames, size, size))
    assert [(f.shape[2], f.shape[3]) for f in feats] == expected
    assert d(torch.zeros(2, 3, frames, size, size)).shape == (2, 1)


def test_chainer_downsample_hand_case():
    # T=1 -> kernel 1, pad 1 -> 3 frames (the outer two are zero padding); H=W=3 -> pad 1, kernel 2 -> 2, zeros counted
    out = T.chainer_downsample(torch.ones(1, 1, 1, 3, 3))
    assert out.shape == (1, 1, 3, 2, 2)
    assert out[0, 0, 0].abs().sum() == 0 and out[0, 0, 2].abs().sum() == 0
    torch.testing.assert_close(out[0, 0, 1], torch.tensor([[0.25, 0.5], [0.5, 1.0]]))
    even = T.chainer_downsample(torch.arange(16.0).view(1, 1, 1, 4, 4))  # even axes: plain 2x2 mean, no pad
    assert even.shape == (1, 1, 3, 2, 2)
    torch.testing.assert_close(even[0, 0, 1], torch.tensor([[2.5, 4.5], [10.5, 12.5]]))


# ------------------------------------------------------------------------------------------------ subsampling
def test_level_schedule_ucf101_and_faceforensics():
    sched = T.level_schedule(T.preset_config("ucf101"), training=True, batch=32)
    assert [(s["frames"], s["resolution"], s["batch"]) for s in sched] == [(16, 24, 32), (8, 48, 32), (4, 96, 32),
                                                                          (2, 192, 32)]
    ff = T.level_schedule(T.preset_config("faceforensics"), training=True)
    assert [(s["frames"], s["resolution"]) for s in ff] == [(16, 32), (8, 64), (4, 128), (2, 256)]
    assert T.level_schedule(T.preset_config("ucf101"), training=False) == [
        {"level": 4, "batch": 128, "frames": 16, "resolution": 192}]
    yb = T.level_schedule(T.preset_config("yaml"), training=True, batch=8)
    assert [s["batch"] for s in yb] == [8, 4, 2, 1]


def test_subsample_layer_keeps_offset_frames_for_the_whole_batch():
    b, t = 4, 8
    h = torch.arange(b * t, dtype=torch.float32).view(b * t, 1, 1, 1)  # value = n·T + t (Chainer folding)
    out, b2, t2 = T.subsample(h, b, t, 2, 1, False)
    assert (b2, t2) == (4, 4)
    assert out.flatten().tolist() == [n * 8 + f for n in range(4) for f in (1, 3, 5, 7)]
    out, b2, t2 = T.subsample(h, b, t, 2, 0, True)
    assert (b2, t2) == (2, 4)
    assert out.flatten().tolist() == [n * 8 + f for n in (0, 2) for f in (0, 2, 4, 6)]


def test_generator_sparse_in_training_dense_in_eval():
    cfg = micro(num_frames=16)
    g = T.TGANv2Generator(cfg)
    z = g.sample_z(3)
    assert z.min() >= -1 and z.max() <= 1
    outs = g(z)
    assert [tuple(o.shape) for o in outs] == [(3, 3, 16, 8, 8), (3, 3, 8, 16, 16), (3, 3, 4, 32, 32),
                                              (3, 3, 2, 64, 64)]
    g.eval()
    assert g(z).shape == (3, 3, 16, 64, 64)
    assert g(z, 20).shape == (3, 3, 20, 64, 64)  # the CLSTM runs any number of steps
    gb = T.TGANv2Generator(micro(subsample_batch=True, batch_size=8))
    assert [o.shape[0] for o in gb(gb.sample_z(8))] == [8, 4, 2, 1]


def test_real_pyramid_levels_are_offset_frame_subsets():
    cfg = micro(num_frames=16)
    b = 3
    t = torch.arange(16.0).view(1, 1, 16, 1, 1)
    x = (t + 100 * torch.arange(b).view(b, 1, 1, 1, 1)).expand(b, 3, 16, 64, 64).contiguous()
    levels = T.real_pyramid(x, cfg, torch.Generator().manual_seed(3))
    assert [tuple(v.shape) for v in levels] == [(3, 3, 16, 8, 8), (3, 3, 8, 16, 16), (3, 3, 4, 32, 32),
                                                (3, 3, 2, 64, 64)]
    for n in range(b):
        prev = list(range(16))
        for v in levels[1:]:
            frames = [int(round(f)) - 100 * n for f in v[n, 0, :, 0, 0].tolist()]
            off = prev.index(frames[0])
            assert off in (0, 1) and frames == prev[off::2]  # frames o::2 of the previous level
            prev = frames
    torch.testing.assert_close(levels[0][1, 0, :, 3, 3], torch.arange(16.0) + 100)  # all frames, avg-pooled 8x8
    sub = T.real_pyramid(x, dataclasses.replace(cfg, subsample_batch=True))
    assert [v.shape[0] for v in sub] == [3, 2, 1, 1]  # samples ::2^(l-1)


# ------------------------------------------------------------------------------------------------ losses
def test_softplus_losses_hand_values():
    torch.testing.assert_close(T.generator_loss(torch.zeros(4, 1)), torch.tensor(np.log(2.0), dtype=torch.float32))
    lr, lf = T.discriminator_loss(torch.tensor([[0.0], [2.0]]), torch.tensor([[0.0]]))
    torch.testing.assert_close(lr, torch.tensor((np.log(2) + np.log1p(np.exp(-2.0))) / 2, dtype=torch.float32))
    torch.testing.assert_close(lf, torch.tensor(np.log(2.0), dtype=torch.float32))


def test_r1_is_summed_over_the_batch():
    w = torch.tensor([0.5, -1.0, 2.0])

    def penalty(n):
        xs = [torch.randn(n, 3, requires_grad=True), torch.randn(n, 3, requires_grad=True)]
        y = torch.cat([(x * w).sum(1, keepdim=True) for x in xs])  # linear D: ∂ΣD/∂x = w for every sample
        return T.r1_penalty(y, xs, lam=0.5).item()

    # λ · Σ_levels Σ_batch ||w||² = 0.5 · 2 · n · 5.25
    assert penalty(3) == pytest.approx(0.5 * 2 * 3 * 5.25)
    assert penalty(6) == pytest.approx(2 * penalty(3))  # a sum, not a mean


def test_optimiser_and_linear_decay():
    tr = T.TGANv2Trainer(micro(total_steps=100), progress=False)
    for o in (tr.opt_g, tr.opt_d):
        assert o.defaults["betas"] == (0.0, 0.9) and o.defaults["eps"] == 8e-8 and o.defaults["lr"] == 1e-4
    assert linear_lr(1e-4, 0, 100) == 1e-4
    assert linear_lr(1e-4, 25, 100) == pytest.approx(7.5e-5)
    assert linear_lr(1e-4, 100, 100) == 0.0
    tr.step = 50
    assert tr.current_lr() == pytest.approx(5e-5)


# ------------------------------------------------------------------------------------------------ learning
def _moving_clips(n=2, frames=8, size=64):
    """Bright squares moving right on black (a fixed real batch)."""
    v = np.zeros((n, frames, size, size, 3), np.uint8)
    for i in range(n):
        for t in range(frames):
            x = 4 + 4 * t + 8 * i
            v[i, t, 20:36, x:x + 16] = 255
    return v


def test_generator_loss_drops_with_d_frozen():
    torch.manual_seed(0)
    tr = T.TGANv2Trainer(micro(lr=1e-3), progress=False)
    z = tr.G.sample_z(2)
    losses = []
    tr.D.requires_grad_(False)
    for _ in range(8):
        loss = T.generator_loss(tr.D(tr.G(z, offsets=[0, 0, 0])))
        tr.opt_g.zero_grad()
        loss.backward()
        tr.opt_g.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.01, losses


def test_discriminator_loss_drops_with_g_frozen():
    torch.manual_seed(0)
    tr = T.TGANv2Trainer(micro(lr=1e-3), progress=False)
    tr.G.requires_grad_(False)
    x = from_uint8(_moving_clips())
    reals = T.real_pyramid(x, tr.cfg, torch.Generator().manual_seed(0))
    losses = [tr.d_update(reals)["loss_d"] for _ in range(8)]
    assert losses[-1] < losses[0] - 0.05, losses


class _Clips:
    def __init__(self, videos):
        self.videos = videos

    def __len__(self):
        return len(self.videos)

    def __getitem__(self, i):
        from vidbench.datasets import Clip

        return Clip(id=str(i), video=self.videos[i])


def test_checkpoint_resume_is_exact(tmp_path):
    ds = _Clips(_moving_clips(4))
    a = T.TGANv2Trainer(micro(), ds, progress=False)
    a.train_step()
    a.train_step()
    ck = a.save_checkpoint(tmp_path / "ck.pt")
    a.train_step()
    a.train_step()
    b = T.TGANv2Trainer(micro(seed=5), ds, progress=False)  # different init: everything must come from the file
    b.cfg = a.cfg
    b.resume(ck)
    assert b.step == 2
    b.train_step()
    b.train_step()
    for (k, pa), (_, pb) in zip(a.G.state_dict().items(), b.G.state_dict().items()):
        assert torch.equal(pa, pb), k
    for (k, pa), (_, pb) in zip(a.D.state_dict().items(), b.D.state_dict().items()):
        assert torch.equal(pa, pb), k


def test_sampler_is_deterministic_and_resizes(tmp_path):
    tr = T.TGANv2Trainer(micro(), progress=False)
    tr.run_dir = tmp_path
    tr.save_checkpoint()
    s = T.load_sampler(str(tmp_path), resolution=32)
    a = np.concatenate(list(s.sample(3, num_frames=8, seed=4, batch_size=2)))
    b = np.concatenate(list(s.sample(3, num_frames=8, seed=4, batch_size=2)))
    assert a.shape == (3, 8, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert s.info()["native_resolution"] == 64 and len(s.checkpoint_hash) == 64
    native = T.load_sampler(str(tmp_path))
    assert next(native.sample(1, num_frames=8, seed=0, batch_size=1)).shape == (1, 8, 64, 64, 3)


def test_registered_as_unconditional_video_model():
    from vidbench.registry import MODELS

    e = MODELS.get("tganv2")
    assert e.meta["video"] is True and e.meta["task"] == "unconditional"
    from vidbench.errors import VidbenchError

    with pytest.raises(VidbenchError):
        e.obj(None)
    with pytest.raises(VidbenchError):
        e.obj("/nonexistent/run")
