"""DTVNet clean-room port: shapes against BASELINES.md §2, flows, motion normalisation, losses, learning, predict."""

import math

import numpy as np
import pytest
import torch
from vidbench.baselines import dtvnet as D
from vidbench.baselines.training import count_parameters

from vidbench.config import ConfigError
from vidbench.errors import VidbenchError


def micro(**kw) -> D.DTVNetConfig:
    return D.preset_config("micro", **kw)


# ------------------------------------------------------------------------------------------------ parameter counts
def official_counts(ngf=64, ndf=32, t=32, d=512, n_content=9, n_motion=6, n_map=3):
    """Hand counts from BASELINES.md §2.3-2.5 (bias-free convs unless stated; BN γ, β; EqualLinear W + b)."""
    bn = 2
    ofe = (2 * ndf * 3 * 16 + ndf * 2 * ndf * 64 + bn * 2 * ndf + 2 * ndf * 4 * ndf * 64 + bn * 4 * ndf
           + 4 * ndf * 8 * ndf * 64 + bn * 8 * ndf + 8 * ndf * 16 * ndf * 64 + bn * 16 * ndf
           + 16 * ndf * 16 * ndf * 2 * 16 + (16 * ndf * d + d))
    lin = d * d + d
    shared = 3 * ngf * 25 + bn * ngf + ngf * 2 * ngf * 9 + bn * 2 * ngf + 2 * ngf * 2 * ngf * 9 + bn * 2 * ngf
    resblock = lambda c: 2 * (c * c * 9) + 2 * bn * c  # noqa: E731
    content = n_content * resblock(2 * ngf)
    motion = (2 * ngf * ngf * 9 + bn * ngf + n_map * lin
              + n_motion * (resblock(ngf) + 2 * lin + (d * 2 * ngf + 2 * ngf)) + ngf * 2 * t * 9 + 2 * t)
    dec = 3 * t
    decoder = ((2 * ngf + 2 * t) * dec * 9 + bn * dec + dec * dec * 9 + bn * dec + dec * dec * 9 + bn * dec
               + dec * dec * 25 + dec)
    disc = 3 * ndf * 48 + ndf * 2 * ndf * 64 + 2 * ndf * 4 * ndf * 64 + 4 * ndf * 8 * ndf * 64 \
        + 8 * ndf * 16 * ndf * 64 + 16 * ndf * 32
    return ofe, shared + content + motion + decoder, disc


def test_parameter_counts_match_the_official_architecture():
    cfg = D.preset_config("sky_timelapse")
    with torch.device("meta"):
        e, g, d = D.FlowEncoder(cfg), D.DTVGenerator(cfg), D.DTVDiscriminator(cfg)
    assert (count_parameters(e), count_parameters(g), count_parameters(d)) == official_counts()
    assert count_parameters(e) == 19_797_376 and count_parameters(d) == 11_162_112


# ------------------------------------------------------------------------------------------------ shapes
def test_full_size_shapes_on_meta_device():
    cfg = D.preset_config("sky_timelapse")
    with torch.device("meta"):
        e, g, d = D.FlowEncoder(cfg), D.DTVGenerator(cfg), D.DTVDiscriminator(cfg)
        flows = torch.empty(2, 2, 32, 128, 128)
        v = e(flows)
        video, x_opt = g(torch.empty(2, 3, 128, 128), torch.empty(2, 512))
        score = d(video)
    assert v.shape == (2, 512)
    assert video.shape == (2, 3, 32, 128, 128) and x_opt.shape == (2, 64, 64, 64)
    assert score.shape == (2, 1)
    # encoder stages (T x H²): 32x64² -> 16x32² -> 8x16² -> 4x8² -> 2x4² -> 1x1²
    with torch.device("meta"):
        x = flows
        sizes = []
        for layer in e.net:
            x = layer(x)
            if isinstance(layer, torch.nn.Conv3d):
                sizes.append((x.shape[1], x.shape[2], x.shape[3]))
    assert sizes == [(32, 32, 64), (64, 16, 32), (128, 8, 16), (256, 4, 8), (512, 2, 4), (512, 1, 1)]


def test_micro_module_shapes_and_config_rules():
    cfg = micro()
    g = D.DTVGenerator(cfg)
    video, x_opt = g(torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, cfg.dlatent))
    assert video.shape == (2, 3, 8, 32, 32) and x_opt.shape == (2, 16, 16, 16)
    assert video.abs().max() <= 1
    assert D.DTVDiscriminator(cfg)(video).shape == (2, 1)
    assert D.FlowEncoder(cfg)(torch.randn(2, 2, 8, 32, 32)).shape == (2, cfg.dlatent)
    assert D.ResnetBlock(4)(torch.randn(1, 4, 5, 5)).shape == (1, 4, 5, 5)
    with pytest.raises(ConfigError):
        D.preset_config("micro", num_frames=16)  # must be size/4
    with pytest.raises(ConfigError):
        D.preset_config("micro", batch_size=1)


def test_equal_linear_and_adain_hand_cases():
    lin = D.EqualLinear(4, 3)
    x = torch.randn(2, 4)
    torch.testing.assert_close(lin(x), x @ lin.weight.T * math.sqrt(2 / 4))
    ada = D.AdaIN(3, 4)
    with torch.no_grad():
        ada.style.weight.zero_()  # style contributes nothing: γ = 1, β = 0 from the bias init
    x = torch.randn(2, 3, 5, 5)
    ref = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(ada(x, torch.randn(2, 4)), ref, rtol=1e-4, atol=1e-4)


def test_motion_normalisation_and_the_batch_of_one_decision():
    v = torch.tensor([[1.0, 10.0], [3.0, 14.0]])  # per-dim mean 2, 12; biased var 1, 4
    want = torch.tensor([[-1 / math.sqrt(1 + 1e-5), -2 / math.sqrt(4 + 1e-5)],
                         [1 / math.sqrt(1 + 1e-5), 2 / math.sqrt(4 + 1e-5)]])
    torch.testing.assert_close(D.normalize_motion(v), want)
    assert D.normalize_motion(torch.randn(1, 5)).abs().max() == 0  # the official quirk: batch of 1 -> v̂ = 0
    e = D.FlowEncoder(micro())
    flows = torch.randn(4, 2, 8, 32, 32)
    e.train()
    e.normalized(flows)
    assert not torch.equal(e.running_mean, torch.zeros_like(e.running_mean))
    e.eval()
    assert e.normalized(flows[:1]).abs().sum() > 0  # eval: running statistics, a batch of 1 keeps its motion


# ------------------------------------------------------------------------------------------------ optical flow
def test_farneback_recovers_a_known_translation():
    rng = np.random.default_rng(0)
    base = rng.random((24, 24))
    tex = np.kron(base, np.ones((4, 4)))  # 96² blocky texture, smoothed below
    import cv2

    tex = cv2.GaussianBlur((tex * 255).astype(np.uint8), (7, 7), 2)
    f0 = tex[10:74, 10:74]
    f1 = tex[9:73, 8:72]  # content moves by dx = +2, dy = +1 pixels
    clip = np.stack([np.repeat(f[:, :, None], 3, 2) for f in (f0, f1)])
    flows = D.farneback_flows(clip, micro(flow_winsize=15))
    assert flows.shape == (2, 64, 64, 2) and flows[0].sum() == 0  # flow_0 = 0
    med = np.median(flows[1, 16:48, 16:48].reshape(-1, 2), axis=0)
    np.testing.assert_allclose(med, [2.0, 1.0], atol=0.25)


def test_flow_target_halves_resolution_and_vectors():
    flows = torch.zeros(1, 2, 3, 8, 8)
    flows[:, 0] = 4.0
    flows[:, 1] = -2.0
    flows[:, :, 1] *= 3  # frame 1 three times larger
    tgt = D.flow_target(flows)
    assert tgt.shape == (1, 6, 4, 4)
    assert tgt[0, 0].unique().tolist() == [2.0] and tgt[0, 1].unique().tolist() == [-1.0]  # channel 2t + c
    assert tgt[0, 2].unique().tolist() == [6.0] and tgt[0, 3].unique().tolist() == [-3.0]


# ------------------------------------------------------------------------------------------------ losses
def test_losses_hand_values():
    total, lr, lf = D.d_loss(torch.ones(3, 1), torch.zeros(3, 1))
    assert total.item() == 0 and lr.item() == 0 and lf.item() == 0
    total, lr, lf = D.d_loss(torch.zeros(2, 1), torch.ones(2, 1))
    assert (total.item(), lr.item(), lf.item()) == (1.0, 1.0, 1.0)  # 0.5·(1 + 1)
    w = torch.tensor([3.0, 4.0])  # linear D: ∇ = w, ||w|| = 5 -> 10·(5 − 1)² = 160

    class Lin(torch.nn.Module):
        def forward(self, x):
            return (x * w).sum(1, keepdim=True)

    gp = D.gradient_penalty(Lin(), torch.randn(4, 2), torch.randn(4, 2), 10.0)
    assert gp.item() == pytest.approx(160.0, rel=1e-5)
    cfg = micro()
    v = torch.zeros(1, 3, 2, 2, 2)
    tot, parts = D.g_loss(torch.ones(1, 1), v, v + 0.5, torch.zeros(1, 4), torch.ones(1, 4), cfg)
    assert parts == {"g_gan": 0.0, "l1_rgb": 0.5, "l1_flow": 1.0}
    assert tot.item() == pytest.approx(100 * 0.5 + 1.0)


# ------------------------------------------------------------------------------------------------ learning
class _Clips:
    def __init__(self, videos):
        self.videos = videos

    def __len__(self):
        return len(self.videos)

    def __getitem__(self, i):
        from vidbench.datasets import Clip

        return Clip(id=str(i), video=self.videos[i])


def _sky_clips(n=2, frames=8, size=32):
    """Horizontal gradient sky with a bright blob drifting right."""
    v = np.zeros((n, frames, size, size, 3), np.uint8)
    v[..., 2] = np.linspace(120, 220, size, dtype=np.uint8)[None, None, :, None]
    for i in range(n):
        for t in range(frames):
            x = 2 + 2 * t + 4 * i
            v[i, t, 8:16, x:x + 8] = 240
    return v


def test_l1_reconstruction_drops_over_20_steps():
    tr = D.DTVNetTrainer(micro(total_steps=20), _Clips(_sky_clips()), progress=False)
    rows = [tr.train_step() for _ in range(20)]
    first = np.mean([r["l1_rgb"] for r in rows[:3]])
    last = np.mean([r["l1_rgb"] for r in rows[-3:]])
    assert last < 0.8 * first, (first, last)


def test_d_loss_drops_with_g_frozen_and_g_loss_with_d_frozen():
    torch.manual_seed(0)
    tr = D.DTVNetTrainer(micro(lr_d=1e-3), progress=False)
    video, flows = tr.batch_tensors(_sky_clips())
    with torch.no_grad():
        fake, _ = tr.forward_batch(video, flows)
    d_losses = []
    for _ in range(8):
        total, _, _ = D.d_loss(tr.D(video), tr.D(fake))
        tr.opt_d.zero_grad()
        total.backward()
        tr.opt_d.step()
        d_losses.append(total.item())
    assert d_losses[-1] < d_losses[0], d_losses
    tr.D.requires_grad_(False)
    g_losses = []
    for _ in range(8):
        fake, x_opt = tr.forward_batch(video, flows)
        total, _ = D.g_loss(tr.D(fake), fake, video, x_opt, D.flow_target(flows), tr.cfg)
        tr.opt_g.zero_grad()
        tr.opt_e.zero_grad()
        total.backward()
        tr.opt_g.step()
        tr.opt_e.step()
        g_losses.append(total.item())
    assert g_losses[-1] < g_losses[0], g_losses


def test_checkpoint_resume_is_exact(tmp_path):
    ds = _Clips(_sky_clips(4))
    a = D.DTVNetTrainer(micro(), ds, progress=False)
    a.train_step()
    ck = a.save_checkpoint(tmp_path / "ck.pt")
    a.train_step()
    a.train_step()
    b = D.DTVNetTrainer(micro(seed=3), ds, progress=False)
    b.cfg = a.cfg
    b.resume(ck)
    b.train_step()
    b.train_step()
    for name in ("E", "G", "D"):
        sa, sb = a.modules()[name].state_dict(), b.modules()[name].state_dict()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), (name, k)


# ------------------------------------------------------------------------------------------------ sampler
def test_predict_interface(tmp_path):
    tr = D.DTVNetTrainer(micro(), progress=False)
    tr.run_dir = tmp_path
    tr.save_checkpoint()
    s = D.load_sampler(str(tmp_path))
    frames = _sky_clips(3, size=48)[:, 0]  # another size: resized to the model's 32²
    out = s.predict(frames, 6, seed=1)
    assert out.shape == (3, 6, 32, 32, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, s.predict(frames, 6, seed=1))
    assert not np.array_equal(out, s.predict(frames, 6, seed=2))  # another motion vector, another video
    one = s.predict(frames[:1], 8, seed=1)  # a batch of one is fine (v̂ ~ N(0, I), no batch statistics)
    assert one.shape == (1, 8, 32, 32, 3)
    info = s.info()
    assert info["task"] == "predict" and info["input_resolution"] == [48, 48] and "N(0, I)" in info["motion_input"]
    s.predict(frames, 4, seed=0, options={"start_frame_source": "G(ẑ1) from inversion"})
    assert s.info()["start_frame_source"] == "G(ẑ1) from inversion"
    with pytest.raises(VidbenchError):
        s.predict(frames, 9)  # more frames than the model generates
    with pytest.raises(VidbenchError):
        s.predict(frames.astype(np.float32), 4)
    with pytest.raises(VidbenchError):
        next(s.sample(2, num_frames=8, seed=0, batch_size=2))
    from vidbench.registry import MODELS

    e = MODELS.get("dtvnet")
    assert e.meta["video"] is True and e.meta["task"] == "predict"
