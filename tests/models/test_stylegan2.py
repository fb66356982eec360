"""StyleGAN2: ops vs scipy/hand computations, the rosinality loader on a fake checkpoint built from the documented key
list (CHECKPOINT_FORMATS.md §4, not from our state_dict), safe loading, and the generic image-generator test."""

from __future__ import annotations

import argparse
import pickle

import numpy as np
import pytest
import scipy.signal
import torch  # noqa: I001  (before anything that may import tensorflow)
from vidbench.models import stylegan2 as sg

from vidbench.errors import VidbenchError
from vidbench.registry import MODELS, WEIGHTS


# ------------------------------------------------------------------------------------------ the documented layout
def documented_g_ema_256(gen: torch.Generator) -> dict[str, torch.Tensor]:
    """g_ema of rosinality's Generator(256, 512, n_mlp=8, channel_multiplier=2), written from the table in
    CHECKPOINT_FORMATS.md §4 (key patterns + shapes), filled with random tensors."""
    rnd = lambda *s: torch.randn(*s, generator=gen)
    blur = torch.tensor([1.0, 3, 3, 1])
    blur = blur[None] * blur[:, None]
    blur = blur / blur.sum() * 4  # upsampling FIR kernel buffer (factor² gain)
    sd: dict[str, torch.Tensor] = {}
    for i in range(1, 9):
        sd[f"style.{i}.weight"], sd[f"style.{i}.bias"] = rnd(512, 512) * 100, rnd(512) * 0.1  # stored randn/lr_mul
    sd["input.input"] = rnd(1, 512, 4, 4)

    def styled(p, cin, cout):
        sd[f"{p}.conv.weight"] = rnd(1, cout, cin, 3, 3)
        sd[f"{p}.conv.modulation.weight"] = rnd(cin, 512)
        sd[f"{p}.conv.modulation.bias"] = 1 + 0.1 * rnd(cin)
        sd[f"{p}.noise.weight"] = 0.1 * rnd(1)
        sd[f"{p}.activate.bias"] = 0.1 * rnd(cout)

    def torgb(p, cin):
        sd[f"{p}.conv.weight"] = rnd(1, 3, cin, 1, 1)
        sd[f"{p}.conv.modulation.weight"] = rnd(cin, 512)
        sd[f"{p}.conv.modulation.bias"] = 1 + 0.1 * rnd(cin)
        sd[f"{p}.bias"] = 0.1 * rnd(1, 3, 1, 1)

    styled("conv1", 512, 512)
    torgb("to_rgb1", 512)
    # convs.{2i} upsampling / convs.{2i+1}; 256: [512]*8 then 256, 256, 128, 128 (doc table)
    conv_out = [512, 512, 512, 512, 512, 512, 512, 512, 256, 256, 128, 128]
    cin = 512
    for k, cout in enumerate(conv_out):
        styled(f"convs.{k}", cin, cout)
        if k % 2 == 0:
            sd[f"convs.{k}.conv.blur.kernel"] = blur.clone()
        cin = cout
    for i, c in enumerate([512, 512, 512, 512, 256, 128]):
        torgb(f"to_rgbs.{i}", c)
        sd[f"to_rgbs.{i}.upsample.kernel"] = blur.clone()
    sd["noises.noise_0"] = rnd(1, 1, 4, 4)
    for k in range(1, 7):  # noise_{2k-1}, noise_{2k}: [1,1,2^(k+2),2^(k+2)]
        r = 2 ** (k + 2)
        sd[f"noises.noise_{2 * k - 1}"], sd[f"noises.noise_{2 * k}"] = rnd(1, 1, r, r), rnd(1, 1, r, r)
    return sd


@pytest.fixture(scope="module")
def fake_ckpt_path(tmp_path_factory):
    gen = torch.Generator().manual_seed(0)
    g_ema = documented_g_ema_256(gen)
    ckpt = {
        "g_ema": g_ema,
        "latent_avg": torch.randn(512, generator=gen),
        "args": argparse.Namespace(size=256, channel_multiplier=2, n_sample=64, r1=10.0),  # training-checkpoint style
    }
    path = tmp_path_factory.mktemp("sg2") / "ffhq_256.pt"
    torch.save(ckpt, path)
    return path, g_ema


def test_documented_layout_counts(fake_ckpt_path):
    _, g_ema = fake_ckpt_path
    assert len(g_ema) == 135  # CHECKPOINT_FORMATS.md §4
    params = sum(v.numel() for k, v in g_ema.items() if not k.startswith("noises.") and not k.endswith(".kernel"))
    assert params == 30_034_338


def test_rosinality_checkpoint_loads_and_runs(fake_ckpt_path):
    torch.manual_seed(0)
    path, g_ema = fake_ckpt_path
    G, meta = sg.load_rosinality_checkpoint(path)
    assert (G.size, G.style_dim, G.n_latent, G.cfg.n_mlp, G.cfg.channel_multiplier) == (256, 512, 14, 8, 2)
    assert meta["args"]["size"] == 256 and meta["keys"] == 135 and meta["latent_avg"].shape == (1, 512)
    # parameters really come from the file (independent of our naming): mapping layer 3, conv 10 weight, noise 12
    assert torch.equal(G.mapping_net.layers[2].weight, g_ema["style.3.weight"])
    assert torch.equal(G.blocks[5].conv0.conv.weight, g_ema["convs.10.conv.weight"])
    assert torch.equal(G.noises.noise_12, g_ema["noises.noise_12"])
    z = torch.randn(1, 512)
    with torch.no_grad():
        img = G(z, noise_mode="const")
    assert img.shape == (1, 3, 256, 256) and torch.isfinite(img).all()

    # mapping network by hand from the file: PixelNorm then 8 x (x W^T * 0.01/sqrt(512) + b*0.01, lrelu*sqrt2)
    x = z.double() / torch.sqrt((z.double() ** 2).mean(1, keepdim=True) + 1e-8)
    for i in range(1, 9):
        x = x @ (g_ema[f"style.{i}.weight"].double() * 0.01 / np.sqrt(512)).T + g_ema[f"style.{i}.bias"].double() * 0.01
        x = torch.nn.functional.leaky_relu(x, 0.2) * np.sqrt(2)
    with torch.no_grad():
        assert torch.allclose(G.mapping(z).double(), x, rtol=1e-4, atol=1e-4)

    # loading twice gives the same function (const noise), and none/const differ because noise strengths are nonzero
    G2, _ = sg.load_rosinality_checkpoint(path)
    with torch.no_grad():
        w = G.mapping(z)
        a = G.synthesis(w, noise_mode="const")
        b = G2.synthesis(w, noise_mode="const")
        c = G2.synthesis(w, noise_mode="none")
    assert torch.allclose(a, b, atol=1e-5)
    assert (a - c).abs().max() > 1e-3


def test_checkpoint_shape_mismatch_is_clear(fake_ckpt_path):
    _, g_ema = fake_ckpt_path
    bad = dict(g_ema)
    bad["convs.3.conv.modulation.weight"] = torch.zeros(511, 512)
    with pytest.raises(VidbenchError, match="convs.3.conv.modulation.weight"):
        sg.load_rosinality_checkpoint({"g_ema": bad})
    missing = {k: v for k, v in g_ema.items() if k != "to_rgbs.2.bias"}
    with pytest.raises(VidbenchError, match="missing"):
        sg.load_rosinality_checkpoint({"g_ema": missing})


def test_rosinality_discriminator_from_documented_keys(fake_ckpt_path):
    """d at 256 per CHECKPOINT_FORMATS.md §4: 50 keys; ResBlocks 128->256->512->512->512->512->512."""
    _, g_ema = fake_ckpt_path
    blur = torch.full((4, 4), 1 / 16)
    d = {"convs.0.0.weight": torch.randn(128, 3, 1, 1), "convs.0.1.bias": torch.zeros(128)}
    for k, (cin, cout) in enumerate([(128, 256), (256, 512)] + [(512, 512)] * 4, start=1):
        d[f"convs.{k}.conv1.0.weight"], d[f"convs.{k}.conv1.1.bias"] = torch.randn(cin, cin, 3, 3), torch.zeros(cin)
        d[f"convs.{k}.conv2.0.kernel"], d[f"convs.{k}.conv2.1.weight"] = blur, torch.randn(cout, cin, 3, 3)
        d[f"convs.{k}.conv2.2.bias"], d[f"convs.{k}.skip.0.kernel"] = torch.zeros(cout), blur
        d[f"convs.{k}.skip.1.weight"] = torch.randn(cout, cin, 1, 1)
    d["final_conv.0.weight"], d["final_conv.1.bias"] = torch.randn(512, 513, 3, 3), torch.zeros(512)
    d["final_linear.0.weight"], d["final_linear.0.bias"] = torch.randn(512, 8192), torch.zeros(512)
    d["final_linear.1.weight"], d["final_linear.1.bias"] = torch.randn(1, 512), torch.zeros(1)
    assert len(d) == 50
    D = sg.load_rosinality_discriminator({"g_ema": g_ema, "d": d})
    assert torch.equal(D.final_conv[0].weight, d["final_conv.0.weight"])
    with torch.no_grad():
        out = D(torch.randn(2, 3, 256, 256))
    assert out.shape == (2, 1) and torch.isfinite(out).all()


class _Evil:
    def __reduce__(self):
        return (print, ("should never run",))


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"g_ema": {}, "x": _Evil()}, f)
    with pytest.raises(VidbenchError, match="weights_only"):
        sg.load_rosinality_checkpoint(path)


def test_export_roundtrip_tiny(tmp_path):
    torch.manual_seed(1)
    cfg = sg.tiny_config(size=32)
    G = sg.Generator(cfg)
    for p in G.parameters():  # make noise strengths etc. nonzero
        p.data.add_(0.05 * torch.randn_like(p))
    sd = sg.to_rosinality_state_dict(G)
    torch.save({"g_ema": sd, "vidbench_config": {"lr_mlp": cfg.lr_mlp}}, tmp_path / "g.pt")
    G2, meta = sg.load_rosinality_checkpoint(tmp_path / "g.pt")
    assert meta["config"]["channels"] is None or list(meta["config"]["channels"]) == list(G.channels.values())
    z = torch.randn(3, cfg.style_dim)
    with torch.no_grad():
        assert torch.allclose(G(z, noise_mode="const"), G2(z, noise_mode="const"), atol=1e-6)


# ------------------------------------------------------------------------------------------ ops vs references
def test_upsample_matches_scipy_upfirdn():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6))
    h = np.array([1.0, 3, 3, 1]) / 8 * 2  # separable factor of make_kernel([1,3,3,1]) * 2²
    up = sg.Upsample((1, 3, 3, 1))
    out = up(torch.tensor(x, dtype=torch.float32)[None, None])[0, 0].numpy()
    ref = scipy.signal.upfirdn(h, x, up=2, axis=0)[1 : 1 + 10]
    ref = scipy.signal.upfirdn(h, ref, up=2, axis=1)[:, 1 : 1 + 12]
    assert out.shape == (10, 12)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_downsample_blur_matches_scipy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 8))
    k = np.array([1.0, 3, 3, 1]) / 8
    out = sg.upfirdn2d(torch.tensor(x, dtype=torch.float32)[None, None], sg.make_kernel((1, 3, 3, 1)), down=2,
                       pad=(1, 1))[0, 0].numpy()
    ref = scipy.signal.convolve2d(np.pad(x, 1), np.outer(k, k), mode="valid")[::2, ::2]
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_modulated_conv_matches_hand_computation():
    torch.manual_seed(0)
    conv = sg.ModulatedConv2d(4, 5, 3, style_dim=6)
    x, s = torch.randn(2, 4, 7, 7), torch.randn(2, 6)
    out = conv(x, s).detach().numpy().astype(np.float64)
    conv.fused = True  # grouped-conv form must agree too
    np.testing.assert_allclose(conv(x, s).detach().numpy(), out, rtol=1e-4, atol=1e-5)
    W = conv.weight.detach().numpy()[0].astype(np.float64)  # [5,4,3,3]
    A, bmod = conv.modulation.weight.detach().numpy(), conv.modulation.bias.detach().numpy()
    for b in range(2):
        style = s[b].numpy() @ (A / np.sqrt(6)).T + bmod  # [4]
        w = W / np.sqrt(4 * 9) * style[None, :, None, None]
        w = w / np.sqrt((w**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-8)
        xp = np.pad(x[b].numpy().astype(np.float64), ((0, 0), (1, 1), (1, 1)))
        ref = np.stack([sum(scipy.signal.correlate2d(xp[i], w[o, i], mode="valid") for i in range(4)) for o in range(5)])
        np.testing.assert_allclose(out[b], ref, rtol=1e-4, atol=1e-4)


def test_minibatch_stddev_hand_computed():
    x = torch.randn(8, 6, 4, 4)
    out = sg.minibatch_stddev(x, group_size=4)
    xn = x.numpy().astype(np.float64).reshape(4, 2, 6, 4, 4)
    sd = np.sqrt(xn.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # [2]: one value per group member slot
    assert out.shape == (8, 7, 4, 4)
    for b in range(8):
        np.testing.assert_allclose(out[b, 6].numpy(), sd[b % 2], rtol=1e-5)


@pytest.mark.parametrize("kind", ["up", "down"])
def test_fused_and_unfused_resampling_agree(kind):
    torch.manual_seed(0)
    conv = sg.ModulatedConv2d(3, 4, 3, style_dim=5, upsample=kind == "up", downsample=kind == "down")
    x, s = torch.randn(2, 3, 8, 8), torch.randn(2, 5)
    a = conv(x, s)
    conv.fused = True
    b = conv(x, s)
    assert a.shape == b.shape == ((2, 4, 16, 16) if kind == "up" else (2, 4, 4, 4))
    assert torch.allclose(a, b, atol=1e-5)


def test_noise_modes_and_w_plus():
    torch.manual_seed(0)
    G = sg.Generator(sg.tiny_config(size=16))
    for blk in [G.conv1] + [m for b in G.blocks for m in (b.conv0, b.conv1)]:
        blk.noise.weight.data.fill_(0.5)
    z = torch.randn(2, G.style_dim)
    with torch.no_grad():
        w = G.mapping(z)
        r1, r2 = G.synthesis(w, "random"), G.synthesis(w, "random")
        c1, c2 = G.synthesis(w, "const"), G.synthesis(w, "const")
        n1 = G.synthesis(w, "none")
        wp = G.synthesis(w[:, None].expand(-1, G.n_latent, -1).contiguous(), "none")
        per_video = G.make_noise(1)  # one map per layer, shared by both "frames"
        f = G.synthesis(w, noise=[n.expand(2, -1, -1, -1) for n in per_video])
    assert (r1 - r2).abs().max() > 1e-4
    assert torch.equal(c1, c2) and torch.allclose(n1, wp, atol=1e-6)
    assert (n1 - c1).abs().max() > 1e-4
    # same noise maps for both samples: differences come only from w; with equal w the frames are identical
    with torch.no_grad():
        same = G.synthesis(w[:1].expand(2, -1), noise=[n.expand(2, -1, -1, -1) for n in per_video])
    assert torch.allclose(same[0], same[1], atol=1e-6) and f.shape == (2, 3, 16, 16)


# ------------------------------------------------------------------------------------------ generic generator test
IMAGE_GENERATORS = [e.name for e in MODELS.entries() if e.meta.get("kind") == "image_generator"]


def test_every_registered_image_generator_is_covered():
    assert {"stylegan2", "biggan"} <= set(IMAGE_GENERATORS)


@pytest.mark.parametrize("name", IMAGE_GENERATORS)
def test_generic_image_generator(name):
    torch.manual_seed(0)
    entry = MODELS.get(name)
    cfg = entry.meta["tiny_config"]()
    G = entry.obj(cfg).eval()
    with torch.no_grad():
        img = G.sample(3, generator=torch.Generator().manual_seed(0))
    assert img.shape == (3, 3, cfg.size if hasattr(cfg, "size") else cfg.resolution, img.shape[-1])
    assert img.shape[-1] == img.shape[-2]
    assert torch.isfinite(img).all()
    assert img.std() > 1e-4  # not a constant image
    rng = entry.meta["output_range"]  # None: linear output (StyleGAN2), about [-1,1] but not clamped
    if rng is not None:
        assert img.min() >= rng[0] and img.max() <= rng[1]
    else:
        assert img.abs().mean() < 20


def test_weights_registered():
    names = WEIGHTS.names()
    assert "stylegan2.ffhq256_rosinality" in names
    spec = WEIGHTS.get("stylegan2.ffhq256_rosinality").obj
    assert spec.filename == "ffhq_256.pt" and spec.sha256 is None  # no published hash
