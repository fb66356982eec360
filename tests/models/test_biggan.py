"""BigGAN: loaders on fake state dicts written from the documented BigGAN-PyTorch key table (CHECKPOINT_FORMATS.md §5a),
spectral norm vs numpy SVD, conditional BN vs the formula, and the MoCoGAN-HD D_I interface."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # noqa: I001
from vidbench.models import biggan as bg

from vidbench.errors import VidbenchError


def documented_G(ch: int, n_classes=1000, shared=128, zc=20) -> dict[str, tuple]:
    """G.pth key -> shape of the I128 config (hier, attention at 64) written from the documented table."""
    s: dict[str, tuple] = {"shared.weight": (n_classes, shared)}
    cond = shared + zc

    def sn(p, shape, bias=True):
        s[f"{p}.weight"] = shape
        if bias:
            s[f"{p}.bias"] = (shape[0],)
        s[f"{p}.u0"], s[f"{p}.sv0"] = (1, shape[0]), (1,)

    sn("linear", (16 * ch * 16, zc))
    ins, outs = [16, 16, 8, 4, 2], [16, 8, 4, 2, 1]
    for i, (a, b) in enumerate(zip(ins, outs)):
        a, b = a * ch, b * ch
        p = f"blocks.{i}.0"
        sn(f"{p}.conv1", (b, a, 3, 3))
        sn(f"{p}.conv2", (b, b, 3, 3))
        sn(f"{p}.conv_sc", (b, a, 1, 1))
        for bn, c in (("bn1", a), ("bn2", b)):
            s[f"{p}.{bn}.stored_mean"] = s[f"{p}.{bn}.stored_var"] = (c,)
            sn(f"{p}.{bn}.gain", (c, cond), bias=False)
            sn(f"{p}.{bn}.bias", (c, cond), bias=False)
    c = 2 * ch  # attention after block 3 (64x64, 192 channels at ch=96)
    s["blocks.3.1.gamma"] = ()
    sn("blocks.3.1.theta", (c // 8, c, 1, 1), bias=False)
    sn("blocks.3.1.phi", (c // 8, c, 1, 1), bias=False)
    sn("blocks.3.1.g", (c // 2, c, 1, 1), bias=False)
    sn("blocks.3.1.o", (c, c // 2, 1, 1), bias=False)
    for k in ("gain", "bias", "stored_mean", "stored_var"):
        s[f"output_layer.0.{k}"] = (ch,)
    sn("output_layer.2", (3, ch, 3, 3))
    return s


def documented_D(ch: int, n_classes=1000) -> dict[str, tuple]:
    s: dict[str, tuple] = {}

    def sn(p, shape, bias=True):
        s[f"{p}.weight"] = shape
        if bias:
            s[f"{p}.bias"] = (shape[0],)
        s[f"{p}.u0"], s[f"{p}.sv0"] = (1, shape[0]), (1,)

    ins, outs = [3, ch, 2 * ch, 4 * ch, 8 * ch, 16 * ch], [ch, 2 * ch, 4 * ch, 8 * ch, 16 * ch, 16 * ch]
    for i, (a, b) in enumerate(zip(ins, outs)):
        sn(f"blocks.{i}.0.conv1", (b, a, 3, 3))
        sn(f"blocks.{i}.0.conv2", (b, b, 3, 3))
        if a != b or i < 5:  # the last block keeps 4x4 and its width: identity shortcut
            sn(f"blocks.{i}.0.conv_sc", (b, a, 1, 1))
    s["blocks.0.1.gamma"] = ()
    sn("blocks.0.1.theta", (ch // 8, ch, 1, 1), bias=False)
    sn("blocks.0.1.phi", (ch // 8, ch, 1, 1), bias=False)
    sn("blocks.0.1.g", (ch // 2, ch, 1, 1), bias=False)
    sn("blocks.0.1.o", (ch, ch // 2, 1, 1), bias=False)
    sn("linear", (1, 16 * ch))
    s["embed.weight"], s["embed.u0"], s["embed.sv0"] = (n_classes, 16 * ch), (1, n_classes), (1,)
    return s


def _n_params(shapes):
    return sum(int(np.prod(v)) for k, v in shapes.items() if not k.endswith((".u0", ".sv0", "stored_mean", "stored_var")))


def test_documented_counts():
    g, d = documented_G(96), documented_D(96)
    assert (len(g), _n_params(g)) == (166, 70_433_988)
    assert (len(d), _n_params(d)) == (88, 87_982_370)


def _fill(shapes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for k, shp in shapes.items():
        if k.endswith("stored_var"):
            sd[k] = 1 + torch.rand(shp, generator=gen)
        elif k.endswith(".sv0"):
            sd[k] = torch.ones(shp)
        else:
            sd[k] = 0.05 * torch.randn(shp, generator=gen)
    return sd


def test_generator_loader_fake_checkpoint(tmp_path):
    sd = _fill(documented_G(16, n_classes=10))
    torch.save(sd, tmp_path / "G_ema.pth")
    G, meta = bg.load_biggan_checkpoint(tmp_path / "G_ema.pth")
    assert (G.cfg.resolution, G.cfg.ch, G.cfg.dim_z, G.cfg.shared_dim, G.cfg.hier, G.cfg.attention) == (
        128, 16, 120, 128, True, "64")
    assert torch.equal(G.blocks[3][1].theta.weight, sd["blocks.3.1.theta.weight"])
    with torch.no_grad():
        img = G(torch.randn(2, 120), torch.tensor([1, 7]))
    assert img.shape == (2, 3, 128, 128) and img.abs().max() <= 1 and img.std() > 1e-4
    bad = dict(sd)
    bad["blocks.1.0.conv2.weight"] = torch.zeros(16 * 4, 16 * 8, 3, 3)
    with pytest.raises(VidbenchError, match="blocks.1.0.conv2.weight"):
        bg.load_biggan_checkpoint(bad)


def test_discriminator_loader_fake_checkpoint():
    sd = _fill(documented_D(16, n_classes=10))
    D = bg.load_biggan_discriminator(sd)
    assert D.cfg.attention == "64" and D.cfg.n_classes == 10 and D.trunk_dim == 256
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert D(x).shape == (2, 1) and D(x, torch.tensor([0, 3])).shape == (2, 1)


def test_spectral_norm_matches_svd():
    torch.manual_seed(0)
    lin = bg.SNLinear(7, 5)
    lin.train()
    x = torch.randn(3, 7)
    for _ in range(60):
        lin(x)
    sigma = np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(float(lin.sv0) - sigma) < 1e-3 * sigma
    W = lin.W_().detach().numpy()
    assert abs(np.linalg.svd(W, compute_uv=False)[0] - 1) < 1e-3


def test_ccbn_formula_eval():
    torch.manual_seed(0)
    bn = bg.CCBN(4, 6).eval()
    bn.stored_mean.copy_(torch.randn(4))
    bn.stored_var.copy_(torch.rand(4) + 0.5)
    x, y = torch.randn(2, 4, 3, 3), torch.randn(2, 6)
    out = bn(x, y).detach().numpy()
    gW, bW = bn.gain.W_().detach().numpy(), bn.bias.W_().detach().numpy()
    yn = y.numpy()
    for b in range(2):
        gain, bias = 1 + yn[b] @ gW.T, yn[b] @ bW.T
        ref = (x[b].numpy() - bn.stored_mean.numpy()[:, None, None]) / np.sqrt(bn.stored_var.numpy()[:, None, None] + 1e-5)
        np.testing.assert_allclose(out[b], ref * gain[:, None, None] + bias[:, None, None], rtol=1e-4, atol=1e-5)


def test_mocogan_hd_image_discriminator_interface():
    torch.manual_seed(0)
    D = bg.BigGANDiscriminator(64, 8)  # no attention (paper App. A.2.2)
    assert not any(isinstance(m, bg.Attention) for m in D.modules())
    x = torch.randn(4, 3, 64, 64, requires_grad=True)
    f = D.features(x)
    assert f.shape == (4, 16 * 8) and D(x).shape == (4, 1)
    Dp = bg.BigGANDiscriminator(64, 8, proj_dim=32)
    assert Dp.features(x).shape == (4, 32) and (Dp.features(x) >= 0).all()  # ReLU(proj0(.))
    D(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_torch_spectral_norm_remap():
    m = torch.nn.Module()
    m.linear = torch.nn.utils.spectral_norm(torch.nn.Linear(8, 1))
    sd = bg.remap_torch_spectral_norm(m.state_dict())
    assert set(sd) == {"linear.weight", "linear.bias", "linear.u0", "linear.sv0"}
    assert sd["linear.u0"].shape == (1, 1)
