"""Eqn. 3-6 and the released losses on hand-checkable inputs (NumPy / SciPy references)."""

import numpy as np
import pytest
import torch
from scipy.special import log_softmax
from vidbench.models.mocogan_hd import losses as L


def _np_infonce(qa, qb, bank, tau, self_logit):
    """Eqn. 6 written as loops: each of the 2N views is an anchor; SciPy log-softmax over its similarities."""
    views = np.concatenate([qa, qb])
    views = views / np.linalg.norm(views, axis=1, keepdims=True)
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    n2, n = len(views), len(qa)
    total = 0.0
    for i in range(n2):
        logits = []
        for j in range(n2):
            if j == i:
                if self_logit == "zero":
                    logits.append(0.0)
                continue
            logits.append(views[i] @ views[j] / tau)
        logits += [views[i] @ b / tau for b in bank]
        pos = (i + n) % n2
        # index of the positive in the list (the self entry is removed before it when excluded)
        pos_idx = pos if (self_logit == "zero" or pos < i) else pos - 1
        total -= log_softmax(np.array(logits))[pos_idx]
    return total / n2


@pytest.mark.parametrize("self_logit", ["exclude", "zero"])
@pytest.mark.parametrize("k", [0, 7])
def test_info_nce_matches_direct_log_softmax(self_logit, k):
    rng = np.random.default_rng(0)
    qa, qb, bank = rng.normal(size=(5, 8)), rng.normal(size=(5, 8)), rng.normal(size=(k, 8))
    got = L.info_nce_loss(torch.tensor(qa), torch.tensor(qb), torch.tensor(bank), tau=0.07, self_logit=self_logit)
    np.testing.assert_allclose(got.item(), _np_infonce(qa, qb, bank, 0.07, self_logit), rtol=1e-6)


def test_info_nce_perfect_positives_give_small_loss():
    q = torch.eye(4) * 3
    near = L.info_nce_loss(q, q.clone(), None, tau=0.07)
    far = L.info_nce_loss(q, torch.roll(q, 1, 0), None, tau=0.07)
    # identical views: positive logit 1/τ vs others 0 -> loss = log(1 + 6·exp(-1/τ))
    np.testing.assert_allclose(near.item(), np.log1p(6 * np.exp(-1 / 0.07)), atol=1e-6)
    assert far.item() > 10


def test_mutual_information_loss_on_constructed_inputs():
    eps = torch.randn(3, 4, 16)
    assert L.mutual_information_loss(eps.clone(), eps).item() == pytest.approx(-1.0, abs=1e-6)
    assert L.mutual_information_loss(-2 * eps, eps).item() == pytest.approx(1.0, abs=1e-6)
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # cos = 0 and 1/sqrt(2)
    assert L.mutual_information_loss(a, b).item() == pytest.approx(-(0 + 2 ** -0.5) / 2, abs=1e-6)
    x = torch.randn(2, 3, 5, requires_grad=True)
    e = torch.randn(2, 3, 5, requires_grad=True)
    L.mutual_information_loss(x, e).backward()
    assert e.grad is None  # ε is a target, not trained


def test_feature_matching_cosine():
    f1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    fk = torch.tensor([[3.0, 0.0], [2.0, 0.0]])
    assert L.feature_matching_loss(fk, f1).item() == pytest.approx(-0.5)


def test_gan_hinge_ralsgan_by_hand():
    r = [torch.tensor([[1.0, 3.0]]), torch.tensor([2.0])]
    f = [torch.tensor([[0.0, -2.0]]), torch.tensor([-1.0])]
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    want = np.mean([sp(-1), sp(-3)]) + np.mean([sp(0), sp(-2)]) + sp(-2) + sp(-1)
    assert L.gan_d_loss(r, f).item() == pytest.approx(want, rel=1e-6)
    assert L.gan_g_loss(f).item() == pytest.approx(np.mean([sp(0), sp(2)]) + sp(1), rel=1e-6)
    # RaLSGAN scale 1: mean(f) = -1, mean(r) = 2
    d1 = 0.5 * (np.mean([(1 + 1 - 1) ** 2, (3 + 1 - 1) ** 2]) + np.mean([(0 - 2) ** 2, (-2 - 2) ** 2]))
    d2 = 0.5 * ((2 + 1 - 1) ** 2 + (-1 - 2) ** 2)
    assert L.ralsgan_d_loss(r, f).item() == pytest.approx(d1 + d2)
    g1 = 0.5 * (np.mean([(0 - 2 - 1) ** 2, (-2 - 2 - 1) ** 2]) + np.mean([(1 + 1) ** 2, (3 + 1) ** 2]))
    g2 = 0.5 * ((-1 - 2 - 1) ** 2 + (2 + 1) ** 2)
    assert L.ralsgan_g_loss(r, f).item() == pytest.approx(g1 + g2)
    hd = np.mean([max(0, 1 - 1), max(0, 1 - 3)]) + np.mean([max(0, 1 + 0), max(0, 1 - 2)]) + 0 + 0
    assert L.hinge_d_loss(r, f).item() == pytest.approx(hd)
    assert L.hinge_g_loss(f).item() == pytest.approx(1.0 + 1.0)


def test_gradient_penalty_channel_norm_on_linear_critic():
    a = torch.tensor([0.6, 0.8, 2.0])  # per-channel weights; ‖a‖ = sqrt(0.36+0.64+4)

    def critic(x):  # [B,C,T,H,W] -> two "scales" with the same linear map
        y = (x * a.view(1, 3, 1, 1, 1)).sum(1, keepdim=True)
        return [y, 2 * y]

    real, fake = torch.randn(2, 3, 2, 4, 4), torch.randn(2, 3, 2, 4, 4)
    got = L.gradient_penalty(critic, real, fake, weight=10.0).item()
    n = float(np.sqrt(0.36 + 0.64 + 4))
    want = 10.0 * ((n - 1) ** 2 + (2 * n - 1) ** 2) / 2  # gradient norm over channels at every position
    assert got == pytest.approx(want, rel=1e-5)
