"""Loading the authors' released files: modelR_epoch_N.pth (DDP `module.` keys), StyleGAN2 .pt, pca_*.npy.

The fake modelR is built from the key list of the released RNNModule (MOCOGAN_HD_FACTS.md §6,
MoCoGAN-HD@27356ba:models/rnn.py), filled with random weights, and the loaded model is compared with a NumPy
forward of the released equations computed straight from the file's tensors.
"""

import numpy as np
import pytest
import torch

from vidbench.errors import VidbenchError

Z, H, K = 64, 16, 16  # tiny StyleGAN2 has style_dim 64; released sizes are 512 / 384 / 384


def _released_keys(z=Z, h=H, k=K):
    keys = {}
    for cell in ("enc_cell", "cell"):
        keys[f"module.{cell}.weight_ih"] = (4 * h, z)
        keys[f"module.{cell}.weight_hh"] = (4 * h, h)
        keys[f"module.{cell}.bias_ih"] = (4 * h,)
        keys[f"module.{cell}.bias_hh"] = (4 * h,)
    keys.update({"module.w": (h, k), "module.b": (k,), "module.fc1.weight": (z, 2 * h), "module.fc1.bias": (z,),
                 "module.fc2.weight": (z, z), "module.fc2.bias": (z,)})
    return keys


@pytest.fixture
def released_dir(tmp_path):
    from vidbench.models.stylegan2 import Generator, tiny_config, to_rosinality_state_dict

    g = torch.Generator().manual_seed(0)
    sd = {k: 0.3 * torch.randn(s, generator=g) for k, s in _released_keys().items()}
    torch.save(sd, tmp_path / "modelR_epoch_3.pth")
    torch.save({k: v * 0 for k, v in sd.items()}, tmp_path / "modelR_epoch_1.pth")
    torch.manual_seed(0)
    G = Generator(tiny_config(size=32, channels=16, style_dim=Z, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, tmp_path / "ffhq_tiny.pt")
    pca = tmp_path / "pca_stats" / "tiny"
    pca.mkdir(parents=True)
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(Z, Z)))
    np.save(pca / "pca_comp.npy", q.T.astype(np.float32))
    np.save(pca / "pca_stdev.npy", np.linspace(3, 0.1, Z).astype(np.float32))
    return tmp_path, sd, q.T, np.linspace(3, 0.1, Z)


def _np_released_forward(sd, z1, eps, comp, std, lam=0.2):
    t = {k[len("module."):]: v.double().numpy() for k, v in sd.items()}
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731

    def cell(name, x, h, c):
        g = x @ t[f"{name}.weight_ih"].T + t[f"{name}.bias_ih"] + h @ t[f"{name}.weight_hh"].T + t[f"{name}.bias_hh"]
        i, f, gg, o = np.split(g, 4, axis=-1)
        c = sig(f) * c + sig(i) * np.tanh(gg)
        return sig(o) * np.tanh(c), c

    b = z1.shape[0]
    h, c = cell("enc_cell", z1, np.zeros((b, H)), np.zeros((b, H)))
    basis = std[:K, None] * comp[:K]
    out, hs, cs = [z1], [], []
    for s in range(eps.shape[1]):
        h, c = cell("cell", eps[:, s], h, c)
        out.append(out[-1] + lam * np.tanh(h @ t["w"] + t["b"]) @ basis)
        hs.append(h)
        cs.append(c)
    hc = np.concatenate([np.stack(hs, 1), np.stack(cs, 1)], -1)
    e_rec = np.maximum(hc @ t["fc1.weight"].T + t["fc1.bias"], 0) @ t["fc2.weight"].T + t["fc2.bias"]
    return np.stack(out, 1), e_rec


def test_load_released_folder_matches_numpy_forward(released_dir):
    from vidbench.models.mocogan_hd.released import load_released

    folder, sd, comp, std = released_dir
    model, meta = load_released(folder)
    assert meta["modelR"].endswith("modelR_epoch_3.pth")  # highest epoch by default
    assert model.recipe == "released" and model.motion_generator.w_residual == 0.2
    z1 = torch.randn(2, Z, dtype=torch.float64).float()
    eps = torch.randn(2, 5, Z)
    out = model.latents(z1, 6, eps=eps, from_code=True)
    ref, e_rec = _np_released_forward(sd, z1.double().numpy(), eps.double().numpy(), comp, std)
    np.testing.assert_allclose(out.latents.detach().numpy(), ref, atol=2e-5)
    np.testing.assert_allclose(out.eps_hat.detach().numpy(), e_rec, atol=2e-5)
    video = model.sample(2, 4, seed=0)
    assert video.shape == (2, 4, 3, 32, 32)


def test_mocohd_registry_sampler_on_released_folder(released_dir):
    from vidbench.registry import MODELS

    entry = MODELS.get("mocohd")
    assert entry.meta["video"]
    sampler = entry.obj(str(released_dir[0]), device="cpu")
    batches = list(sampler.sample(5, num_frames=4, seed=1, batch_size=2))
    assert [b.shape for b in batches] == [(2, 4, 32, 32, 3), (2, 4, 32, 32, 3), (1, 4, 32, 32, 3)]
    assert batches[0].dtype == np.uint8
    again = next(sampler.sample(2, num_frames=4, seed=1, batch_size=2))
    assert np.array_equal(again, batches[0])  # deterministic given the seed
    assert sampler.recipe == "released" and len(sampler.checkpoint_hash) == 64


def test_released_loader_rejects_bad_files(released_dir, tmp_path):
    from vidbench.models.mocogan_hd.released import load_released, remap_released_rnn

    _, sd, _, _ = released_dir
    bad = dict(sd)
    bad["module.w"] = torch.zeros(H, K + 1)
    with pytest.raises(VidbenchError, match="shape"):
        remap_released_rnn(bad)
    missing = {k: v for k, v in sd.items() if k != "module.fc2.bias"}
    with pytest.raises(VidbenchError, match="missing"):
        remap_released_rnn(missing)
    extra = {**sd, "module.extra": torch.zeros(1)}
    with pytest.raises(VidbenchError, match="unexpected"):
        remap_released_rnn(extra)
    # a pickled object that is not plain tensors is refused by weights_only loading
    evil = tmp_path / "evil"
    evil.mkdir()
    torch.save({"module.w": torch.nn.Linear(2, 2)}, evil / "modelR_epoch_0.pth")
    with pytest.raises(VidbenchError, match="weights_only"):
        load_released(evil, image_generator=released_dir[0] / "ffhq_tiny.pt", pca=released_dir[0] / "pca_stats" / "tiny")
