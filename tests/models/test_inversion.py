"""GAN inversion (Eqn. 8): reconstruction error of a real frame drops; loss vs hand computation; VGG16 weights from
the documented torchvision key list; clear error when the weights are missing offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from vidbench.models import inversion as inv
from vidbench.models import stylegan2 as sg

from vidbench.errors import WeightsMissingError
from vidbench.registry import WEIGHTS
from vidbench.video import read_video


def _real_frame(shared_data, size=32) -> torch.Tensor:
    v = read_video(shared_data / "video" / "quality" / "carphone_pristine_176x144.mp4", num_frames=1)  # [1,144,176,3]
    f = torch.from_numpy(v[0]).permute(2, 0, 1).float()[None] / 127.5 - 1  # [1,3,144,176]
    f = f[:, :, :, 16:160]  # centre square 144x144
    return F.interpolate(f, size=(size, size), mode="area")


def test_inversion_reduces_error_on_real_frame(shared_data):
    torch.manual_seed(0)
    G = sg.Generator(sg.tiny_config(size=32)).eval()
    x = _real_frame(shared_data)
    cfg = inv.InversionConfig(iterations=150, lr=0.05, space="w+", vgg_weights="random-init", n_mean=256,
                              vgg_layers=("relu1_2", "relu2_2"), log_every=50)
    res = inv.invert(G, x, cfg, progress=False)
    with torch.no_grad():
        recon = G.synthesis(res.w, noise_mode="const")
    mse_np = float(((recon - x) ** 2).mean())  # independent recomputation
    start = float(((G.synthesis(G.mean_latent(256, generator=torch.Generator().manual_seed(0))
                                .expand(1, -1), noise_mode="const") - x) ** 2).mean())
    assert res.image.shape == (1, 3, 32, 32) and res.w.shape == (1, G.n_latent, G.style_dim)
    assert np.isclose(res.mse_end[0], mse_np, rtol=1e-4)
    assert np.isclose(res.mse_start[0], start, rtol=1e-4)
    assert res.mse_end[0] < 0.6 * res.mse_start[0], (res.mse_start, res.mse_end)
    assert res.info["vgg"]["label"] == "vgg16[random-init]" and res.info["lambda_vgg"] == 1.0


def test_lambda_zero_offline_recorded(shared_data):
    torch.manual_seed(1)
    G = sg.Generator(sg.tiny_config(size=16)).eval()
    x = _real_frame(shared_data, 16)
    res = inv.invert(G, x, inv.InversionConfig(iterations=30, lambda_vgg=0.0, lr=0.05, n_mean=64), progress=False)
    assert res.info["lambda_vgg"] == 0.0 and "lambda_vgg=0" in res.info["vgg"]["label"]
    assert res.w.shape == (1, G.style_dim) and res.mse_end[0] < res.mse_start[0]


def test_inversion_loss_hand_computed():
    x, y = torch.zeros(2, 3, 2, 2), torch.ones(2, 3, 2, 2)
    fa, fb = [torch.zeros(2, 4, 1, 1)], [torch.full((2, 4, 1, 1), 2.0)]
    loss, mse = inv.inversion_loss(x, y, fa, fb, 0.5)
    assert torch.allclose(mse, torch.ones(2)) and torch.allclose(loss, torch.full((2,), 1 + 0.5 * 4))


def test_vgg_missing_weights_is_clear():
    assert "vgg16.imagenet" in WEIGHTS.names()
    with pytest.raises(WeightsMissingError, match="vgg16-397923af.pth"):
        inv.build_vgg16_features("vgg16.imagenet")


def test_vgg_loads_documented_torchvision_layout(tmp_path):
    # 32 keys: features.{0,2,5,7,10,12,14,17,19,21,24,26,28} and classifier.{0,3,6} (CHECKPOINT_FORMATS.md §6)
    convs = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256), 14: (256, 256),
             17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512), 26: (512, 512), 28: (512, 512)}
    sd = {}
    for i, (o, c) in convs.items():
        sd[f"features.{i}.weight"], sd[f"features.{i}.bias"] = torch.randn(o, c, 3, 3) * 0.05, torch.randn(o) * 0.05
    for i, (o, c) in {0: (4096, 25088), 3: (4096, 4096), 6: (1000, 4096)}.items():
        sd[f"classifier.{i}.weight"], sd[f"classifier.{i}.bias"] = torch.zeros(o, c), torch.zeros(o)
    assert len(sd) == 32
    torch.save(sd, tmp_path / "vgg16-397923af.pth")
    net, info = inv.build_vgg16_features(str(tmp_path / "vgg16-397923af.pth"), layers=("relu1_2",))
    assert info["verified"] is False  # a user file whose hash is not the registered one
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    out = net(x)[0]
    ref = F.relu(F.conv2d(F.relu(F.conv2d(((x + 1) / 2 - net.mean) / net.std, sd["features.0.weight"],
                                          sd["features.0.bias"], padding=1)), sd["features.2.weight"],
                          sd["features.2.bias"], padding=1))
    assert torch.allclose(out, ref, atol=1e-5)
