"""G_M (Eqn. 1-2), interpolation and per-video noise, checked against a NumPy re-implementation of the LSTM."""

import numpy as np
import pytest
import torch
from vidbench.models.mocogan_hd.motion_generator import MotionGenerator, interpolate_latents


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_lstm(x, h, c, cell):
    """One torch.nn.LSTMCell step written out by hand (gate order i, f, g, o)."""
    wi, wh = cell.weight_ih.detach().double().numpy(), cell.weight_hh.detach().double().numpy()
    bi, bh = cell.bias_ih.detach().double().numpy(), cell.bias_hh.detach().double().numpy()
    g = x @ wi.T + bi + h @ wh.T + bh
    i, f, gg, o = np.split(g, 4, axis=-1)
    c = _sig(f) * c + _sig(i) * np.tanh(gg)
    return _sig(o) * np.tanh(c), c


def _perturb(m):
    with torch.no_grad():  # non-zero biases so the reference sees every term
        for p in m.parameters():
            p.add_(0.1 * torch.randn_like(p))


def _reference(m, z1, eps, mode):
    z1, eps = z1.double().numpy(), eps.double().numpy()
    b = z1.shape[0]
    h, c = _np_lstm(z1, np.zeros((b, m.hidden_dim)), np.zeros((b, m.hidden_dim)), m.enc_cell)
    zs = [z1]
    V = m.pca_basis.double().numpy()
    s = m.pca_std.double().numpy()
    for t in range(eps.shape[1]):
        h, c = _np_lstm(eps[:, t], h, c, m.cell)
        if mode == "paper":
            zs.append(zs[-1] + m.w_residual * h @ V)
        elif mode == "released":
            a = np.tanh(h @ m.w.detach().double().numpy() + m.b.detach().double().numpy())
            zs.append(zs[-1] + m.w_residual * a @ (s[:, None] * V))
        else:
            zs.append(h @ m.out_proj.weight.detach().double().numpy().T + m.out_proj.bias.detach().double().numpy())
    return np.stack(zs, 1)


def test_paper_residual_with_identity_basis_is_z_plus_lambda_h():
    torch.manual_seed(0)
    d = 6
    m = MotionGenerator(latent_dim=d, hidden_dim=d, n_pca=d, w_residual=0.5, basis=torch.eye(d), std=torch.ones(d))
    _perturb(m)
    z1, eps = torch.randn(3, d), torch.randn(3, 4, d)
    out = m(z1, 5, eps=eps)
    # with V = I, Eqn. 2 is z_t = z_{t-1} + 0.5 h_t, so consecutive differences are 0.5 × the LSTM hidden states
    diffs = (out.latents[:, 1:] - out.latents[:, :-1]).detach().numpy()
    np.testing.assert_allclose(diffs, 0.5 * out.hidden.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(out.latents.detach().numpy(), _reference(m, z1, eps, "paper"), atol=1e-5)
    assert torch.equal(out.latents[:, 0], z1)  # frame 1 is the input content code
    assert np.all(np.abs(out.hidden.detach().numpy()) < 1)  # h_t in [-1, 1] (Eqn. 2)


@pytest.mark.parametrize("mode", ["released", "none"])
def test_released_and_nonresidual_forms_match_reference(mode):
    torch.manual_seed(1)
    d, h, k = 8, 5, 4
    q, _ = torch.linalg.qr(torch.randn(d, d))
    basis, std = q.T[:k], torch.tensor([3.0, 2.0, 1.0, 0.5])
    m = MotionGenerator(latent_dim=d, hidden_dim=h, n_pca=k, w_residual=0.2, residual=mode != "none",
                        residual_mode="released", mi_input="hc", basis=basis, std=std)
    _perturb(m)
    z1, eps = torch.randn(2, d), torch.randn(2, 6, d)
    out = m(z1, 7, eps=eps)
    np.testing.assert_allclose(out.latents.detach().numpy(), _reference(m, z1, eps, mode), atol=1e-5)


def test_released_init_matches_documented_scheme():
    m = MotionGenerator(latent_dim=16, hidden_dim=8, n_pca=8, residual_mode="released", mi_input="hc")
    wih = m.enc_cell.weight_ih.detach()
    for g in range(4):  # each gate block [8, 16] is orthogonal: rows orthonormal
        blk = wih[g * 8:(g + 1) * 8]
        np.testing.assert_allclose((blk @ blk.T).numpy(), np.eye(8), atol=1e-5)
    assert torch.all(m.cell.bias_ih == 0) and torch.all(m.b == 0)
    assert 0.005 < m.w.std().item() < 0.05  # N(0, 0.02)
    assert m.fc1.in_features == 16 and m.fc2.out_features == 16  # H on concat(h, c)


def test_mi_head_input_sizes_and_any_length():
    m = MotionGenerator(latent_dim=12, hidden_dim=12, n_pca=12, mi_input="h")
    assert m.fc1.in_features == 12
    for t in (1, 2, 40):
        out = m(torch.randn(2, 12), t)
        assert out.latents.shape == (2, t, 12) and out.eps.shape == (2, t - 1, 12) and out.eps_hat.shape == (2, t - 1, 12)


def test_interpolation_midpoints_and_length():
    lat = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3) ** 1.5
    one = interpolate_latents(lat, 1)
    assert one.shape == (2, 7, 3)  # 2T-1
    a = lat.numpy()
    np.testing.assert_allclose(one[:, 0::2].numpy(), a)
    np.testing.assert_allclose(one[:, 1::2].numpy(), (a[:, :-1] + a[:, 1:]) / 2, rtol=1e-6)
    three = interpolate_latents(lat, 3)
    assert three.shape == (2, 13, 3)
    np.testing.assert_allclose(three[:, 1].numpy(), 0.75 * a[:, 0] + 0.25 * a[:, 1], rtol=1e-5)
    assert interpolate_latents(lat, 0) is lat
    assert interpolate_latents(torch.zeros(1, 16, 3), 1).shape[1] == 31  # the paper's 16 -> "32" frames


def test_paper_residual_requires_matching_sizes():
    with pytest.raises(ValueError, match="hidden_dim == n_pca"):
        MotionGenerator(latent_dim=16, hidden_dim=8, n_pca=4, residual_mode="paper")
