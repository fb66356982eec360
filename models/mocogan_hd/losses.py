"""MoCoGAN-HD losses (Eqn. 3-7) and the released code's variants.

Discriminator outputs are lists over scales of patch maps (a single tensor is treated as one scale); every loss is
the sum over scales of a mean over batch × patches. Paper losses: the log-likelihood GAN of Eqn. 4/5 (D: BCE with
logits; G: the usual non-saturating form −log D(G(z))). Released code: relativistic-average LSGAN with 0/1 targets
and a channel-norm gradient penalty on D_V; hinge loss for the cross-domain BigGAN D_I
(``../shared/MOCOGAN_HD_FACTS.md`` §9).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

Outs = torch.Tensor | Sequence[torch.Tensor]


def _scales(x: Outs) -> list[torch.Tensor]:
    return [x] if isinstance(x, torch.Tensor) else list(x)


# ----------------------------------------------------------------------------------------------- adversarial
def gan_d_loss(real: Outs, fake: Outs) -> torch.Tensor:
    """Eqn. 4 / Eqn. 5 for D (maximise log D(real) + log(1 − D(fake))): BCE-with-logits, mean over patches."""
    loss = 0.0
    for r, f in zip(_scales(real), _scales(fake)):
        loss = loss + F.softplus(-r).mean() + F.softplus(f).mean()
    return loss


def gan_g_loss(fake: Outs) -> torch.Tensor:
    """Eqn. 4 / Eqn. 5 for G, non-saturating form: −log D(fake) = softplus(−logit)."""
    return sum(F.softplus(-f).mean() for f in _scales(fake))


def ralsgan_d_loss(real: Outs, fake: Outs) -> torch.Tensor:
    """Released D loss (Eqn. 4 replacement): 0.5·[MSE(D(r) − E D(f), 1) + MSE(D(f) − E D(r), 0)], summed over scales."""
    loss = 0.0
    for r, f in zip(_scales(real), _scales(fake)):
        loss = loss + ((r - f.mean() - 1.0) ** 2).mean() + ((f - r.mean()) ** 2).mean()
    return 0.5 * loss


def ralsgan_g_loss(real: Outs, fake: Outs) -> torch.Tensor:
    """Released G loss: 0.5·[MSE(D(f) − E D(r), 1) + MSE(D(r) − E D(f), 0)], summed over scales."""
    loss = 0.0
    for r, f in zip(_scales(real), _scales(fake)):
        loss = loss + ((f - r.mean() - 1.0) ** 2).mean() + ((r - f.mean()) ** 2).mean()
    return 0.5 * loss


def hinge_d_loss(real: Outs, fake: Outs) -> torch.Tensor:
    """Hinge D loss (released cross-domain D_I): E relu(1 − D(real)) + E relu(1 + D(fake))."""
    return sum(F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean() for r, f in zip(_scales(real), _scales(fake)))


def hinge_g_loss(fake: Outs) -> torch.Tensor:
    """Hinge G loss: −E D(fake)."""
    return sum(-f.mean() for f in _scales(fake))


def d_loss(kind: str, real: Outs, fake: Outs) -> torch.Tensor:
    """Dispatch: ``gan`` (Eqn. 4/5), ``ralsgan`` or ``hinge``."""
    if kind == "gan":
        return gan_d_loss(real, fake)
    if kind == "ralsgan":
        return ralsgan_d_loss(real, fake)
    if kind == "hinge":
        return hinge_d_loss(real, fake)
    raise ValueError(f"unknown adversarial loss {kind!r}")


def g_loss(kind: str, real: Outs | None, fake: Outs) -> torch.Tensor:
    """Generator side of :func:`d_loss` (``real`` is needed by ``ralsgan`` only)."""
    if kind == "gan":
        return gan_g_loss(fake)
    if kind == "ralsgan":
        return ralsgan_g_loss(real, fake)
    if kind == "hinge":
        return hinge_g_loss(fake)
    raise ValueError(f"unknown adversarial loss {kind!r}")


def gradient_penalty(d_fn, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """Released D_V gradient penalty: weight · mean_s mean((‖∇_x̂ D_s(x̂)‖₂ over channels − 1)²).

    x̂ = α·real + (1−α)·fake, α ~ U(0,1) per sample; the norm is over dim 1 (channels) only, so every
    (t, y, x) position is penalised separately; averaged over the scales. ``d_fn(x)`` returns the list of scale outputs.
    real, fake: [B, C, T, H, W].
    """
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    outs = _scales(d_fn(x))
    total = 0.0
    for o in outs:
        (g,) = torch.autograd.grad(o, x, grad_outputs=torch.ones_like(o), create_graph=True)
        total = total + ((g.norm(2, dim=1) - 1.0) ** 2).mean()
    return weight * total / len(outs)


# ------------------------------------------------------------------------------------------------- Eqn. 3
def mutual_information_loss(eps_hat: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Eqn. 3: L_m = −1/(n−1) Σ_t sim(H(h_t), ε_t), cosine similarity, averaged over batch and t = 2..n.

    eps_hat, eps: [B, T-1, D] (or [N, D]); ε is treated as a constant (detached).
    """
    return -F.cosine_similarity(eps_hat, eps.detach(), dim=-1, eps=1e-8).mean()


# ------------------------------------------------------------------------------------------------- L_f
def feature_matching_loss(feat_k: torch.Tensor, feat_1: torch.Tensor) -> torch.Tensor:
    """L_f (§3.2): feature matching between frame k and the first frame with cosine similarity instead of L1.

    feat_k, feat_1: [B, C] features F(x_k), F(x_1); returns −mean cos.
    """
    return -F.cosine_similarity(feat_k, feat_1, dim=-1, eps=1e-8).mean()


# ------------------------------------------------------------------------------------------------- Eqn. 6
def info_nce_loss(
    q_a: torch.Tensor,
    q_b: torch.Tensor,
    bank: torch.Tensor | None = None,
    tau: float = 0.07,
    self_logit: str = "exclude",
) -> torch.Tensor:
    """Eqn. 6: InfoNCE over 2N views (NT-Xent) with extra negatives from a memory bank.

    q_a, q_b: [N, C] projections of the two views (row i of q_a and q_b is a positive pair); bank: [K, C] negatives.
    Every one of the 2N rows is an anchor; its logits are cos(anchor, ·)/τ against all 2N views and the bank; the
    positive is the other view of the same sample. ``self_logit="exclude"`` drops the anchor's similarity with
    itself (the indicator of Eqn. 6); ``"zero"`` keeps it in the softmax as logit 0 (released code).
    Returns the mean over the 2N anchors of −log softmax(positive).
    """
    n = q_a.shape[0]
    rows = F.normalize(torch.cat([q_a, q_b], 0), dim=1, eps=1e-8)  # [2N, C]
    cols = rows if bank is None or bank.numel() == 0 else torch.cat([rows, F.normalize(bank, dim=1, eps=1e-8)], 0)
    logits = rows @ cols.T / tau  # [2N, 2N+K]
    eye = torch.eye(2 * n, dtype=torch.bool, device=rows.device)
    diag = torch.zeros_like(logits, dtype=torch.bool)
    diag[:, : 2 * n] = eye
    if self_logit == "exclude":
        logits = logits.masked_fill(diag, float("-inf"))
    elif self_logit == "zero":
        logits = logits.masked_fill(diag, 0.0)
    else:
        raise ValueError(f"self_logit must be 'exclude' or 'zero', got {self_logit!r}")
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(rows.device)  # positive of i is i±N
    return F.cross_entropy(logits, target)


__all__ = [
    "d_loss",
    "feature_matching_loss",
    "g_loss",
    "gan_d_loss",
    "gan_g_loss",
    "gradient_penalty",
    "hinge_d_loss",
    "hinge_g_loss",
    "info_nce_loss",
    "mutual_information_loss",
    "ralsgan_d_loss",
    "ralsgan_g_loss",
]
