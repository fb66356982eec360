"""Motion generator G_M of MoCoGAN-HD (§3.1, Eqn. 1-2, App. A.1).

G_M maps the content code z₁ (for StyleGAN2: w₁ = mapping(z), a point of W) to a trajectory z₁..z_n:

    h₁, c₁ = LSTM_enc(z₁);   h_t, c_t = LSTM_dec(ε_t, (h_{t-1}, c_{t-1})),  ε_t ~ N(0, I)        (Eqn. 1)
    z_t = z_{t-1} + λ · h_t · V                                                                 (Eqn. 2)

with V ∈ R^{384×512} the top-384 principal directions of W. ``residual_mode="released"`` is the authors' code:
z_t = z_{t-1} + λ · tanh(h_t W + b) · diag(σ) V with a learned W (384×n_pca, init N(0, 0.02)) and σ the per-component
PCA standard deviation. ``residual=False`` is the ablation "w/o Eqn. 2" (§4.3): z_t = Linear(h_t).
The MI head H (Eqn. 3) is a 2-layer MLP (512 units) on h_t (paper) or on concat(h_t, c_t) (released).

Parameter names follow the released ``RNNModule`` (``enc_cell``, ``cell``, ``w``, ``b``, ``fc1``, ``fc2``) so the
authors' ``modelR_epoch_N.pth`` loads with a plain prefix strip (see :mod:`.released`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class MotionOutput:
    """Result of one G_M unroll.

    latents: [B, T, D] z₁..z_T (z₁ is the input code);  eps: [B, T-1, D] the noise ε₂..ε_T;
    eps_hat: [B, T-1, D] H(decoder state) (Eqn. 3);  hidden: [B, T-1, h] h₂..h_T;  cell: [B, T-1, h] c₂..c_T.
    """

    latents: torch.Tensor
    eps: torch.Tensor
    eps_hat: torch.Tensor
    hidden: torch.Tensor
    cell: torch.Tensor


def residual_step(z_prev: torch.Tensor, h: torch.Tensor, basis: torch.Tensor, lam: float) -> torch.Tensor:
    """Eqn. 2 (paper form): z_t = z_{t-1} + λ · h_t · V.

    z_prev: [B, D];  h: [B, K] (LSTM hidden, in [-1, 1]);  basis V: [K, D] (rows = PCA directions).
    """
    return z_prev + lam * (h @ basis)  # [B, D]


def residual_step_released(
    z_prev: torch.Tensor,
    h: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    basis: torch.Tensor,
    std: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """Eqn. 2 as in the released code: z_t = z_{t-1} + λ · tanh(h_t W + b) · (diag(σ) V).

    h: [B, h];  weight W: [h, K];  bias b: [K];  basis V: [K, D];  std σ: [K].
    """
    a = torch.tanh(h @ weight + bias)  # [B, K] in [-1, 1]
    return z_prev + lam * (a @ (std[:, None] * basis))  # [B, D]


def interpolate_latents(latents: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Insert ``k`` evenly spaced points between consecutive codes (§4.4 "motion interpolation").

    latents [B, T, D] -> [B, (T-1)(k+1)+1, D]; k=1 gives the midpoints (z_t+z_{t+1})/2, i.e. 2T-1 frames
    (16 codes -> 31 frames; the paper's "16 -> 32"). k=0 returns the input.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    if k == 0 or latents.shape[1] < 2:
        return latents
    b, t, d = latents.shape
    a = latents[:, :-1]  # [B, T-1, D]
    c = latents[:, 1:]
    alphas = torch.arange(k + 1, dtype=latents.dtype, device=latents.device) / (k + 1)  # [k+1]
    seg = a[:, :, None, :] + alphas[None, None, :, None] * (c - a)[:, :, None, :]  # [B, T-1, k+1, D]
    seg = seg.reshape(b, (t - 1) * (k + 1), d)
    return torch.cat([seg, latents[:, -1:]], dim=1)


def _init_lstm_cell(cell: nn.LSTMCell) -> None:
    """Released init: each of the 4 gate blocks of weight_ih/weight_hh orthogonal, biases 0."""
    for name, p in cell.named_parameters():
        if name.startswith("weight"):
            g = p.shape[0] // 4
            with torch.no_grad():
                for i in range(4):
                    nn.init.orthogonal_(p[i * g : (i + 1) * g])
        else:
            nn.init.zeros_(p)


class MotionGenerator(nn.Module):
    """G_M: two LSTMCells + residual PCA step (Eqn. 1-2) + MI head H (Eqn. 3).

    Args:
        basis: PCA components V [n_pca, latent_dim] (rows unit vectors, sorted by variance), or None (random
            orthonormal rows; only for tests / before a PCA exists).
        std: per-component standard deviation σ [n_pca] (used by ``residual_mode="released"``).
    """

    def __init__(
        self,
        latent_dim: int = 512,
        hidden_dim: int = 384,
        n_pca: int = 384,
        w_residual: float = 0.5,
        residual: bool = True,
        residual_mode: str = "paper",
        mi_input: str = "h",
        basis: torch.Tensor | None = None,
        std: torch.Tensor | None = None,
    ):
        super().__init__()
        if residual_mode not in ("paper", "released"):
            raise ValueError(f"residual_mode must be 'paper' or 'released', got {residual_mode!r}")
        if mi_input not in ("h", "hc"):
            raise ValueError(f"mi_input must be 'h' or 'hc', got {mi_input!r}")
        if residual and residual_mode == "paper" and hidden_dim != n_pca:
            raise ValueError(f"paper residual h_t·V needs hidden_dim == n_pca, got {hidden_dim} vs {n_pca}")
        self.latent_dim, self.hidden_dim, self.n_pca = latent_dim, hidden_dim, n_pca
        self.w_residual = float(w_residual)
        self.residual, self.residual_mode, self.mi_input = bool(residual), residual_mode, mi_input

        self.enc_cell = nn.LSTMCell(latent_dim, hidden_dim)  # LSTM_enc (Eqn. 1), input z₁
        self.cell = nn.LSTMCell(latent_dim, hidden_dim)  # LSTM_dec (Eqn. 1), input ε_t
        if residual and residual_mode == "released":
            self.w = nn.Parameter(torch.empty(hidden_dim, n_pca))  # learned projection W [h, K]
            self.b = nn.Parameter(torch.empty(n_pca))
        if not residual:
            self.out_proj = nn.Linear(hidden_dim, latent_dim)  # "w/o Eqn. 2": z_t = h_t mapped to the latent size
        mi_in = hidden_dim * (2 if mi_input == "hc" else 1)
        self.fc1 = nn.Linear(mi_in, latent_dim)  # H: 2-layer MLP, 512 hidden units (App. A.1)
        self.fc2 = nn.Linear(latent_dim, latent_dim)

        if basis is None:
            q, _ = torch.linalg.qr(torch.randn(latent_dim, latent_dim, generator=torch.Generator().manual_seed(0)))
            basis = q.T[:n_pca].contiguous()
        if std is None:
            std = torch.ones(n_pca)
        basis = torch.as_tensor(basis, dtype=torch.float32)
        std = torch.as_tensor(std, dtype=torch.float32)
        if basis.shape != (n_pca, latent_dim):
            raise ValueError(f"PCA basis must be [{n_pca}, {latent_dim}], got {list(basis.shape)}")
        if std.shape != (n_pca,):
            raise ValueError(f"PCA std must be [{n_pca}], got {list(std.shape)}")
        self.register_buffer("pca_basis", basis.clone())  # V [K, D]
        self.register_buffer("pca_std", std.clone())  # σ [K]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init_lstm_cell(self.enc_cell)
        _init_lstm_cell(self.cell)
        for lin in (self.fc1, self.fc2):
            nn.init.orthogonal_(lin.weight)
        if hasattr(self, "w"):
            nn.init.normal_(self.w, std=0.02)
            nn.init.zeros_(self.b)

    def set_pca(self, basis: torch.Tensor, std: torch.Tensor) -> None:
        """Replace V [n_pca, D] and σ [n_pca] (e.g. with the top rows of a PCA file)."""
        basis = torch.as_tensor(basis, dtype=torch.float32)[: self.n_pca]
        std = torch.as_tensor(std, dtype=torch.float32)[: self.n_pca]
        if basis.shape != self.pca_basis.shape or std.shape != self.pca_std.shape:
            raise ValueError(
                f"PCA shapes {list(basis.shape)}/{list(std.shape)} do not match "
                f"{list(self.pca_basis.shape)}/{list(self.pca_std.shape)}"
            )
        self.pca_basis.copy_(basis)
        self.pca_std.copy_(std)

    def sample_noise(self, batch: int, steps: int, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """ε ~ N(0, I): [B, steps, latent_dim]."""
        device = device if device is not None else self.pca_basis.device
        return torch.randn(batch, steps, self.latent_dim, device=device, generator=generator)

    def step(self, z_prev: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step of Eqn. 2 (or its ablation) from the decoder hidden state h_t [B, h]."""
        if not self.residual:
            return self.out_proj(h)
        if self.residual_mode == "paper":
            return residual_step(z_prev, h, self.pca_basis, self.w_residual)
        return residual_step_released(z_prev, h, self.w, self.b, self.pca_basis, self.pca_std, self.w_residual)

    def mi_head(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """H of Eqn. 3: [.., h] (and c) -> [.., latent_dim]."""
        x = torch.cat([h, c], dim=-1) if self.mi_input == "hc" else h
        return self.fc2(F.relu(self.fc1(x)))

    def forward(
        self, z1: torch.Tensor, num_frames: int, eps: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> MotionOutput:
        """Unroll G_M for ``num_frames`` frames (any T >= 1).

        z1: [B, D] content code (w₁ = mapping(z) for StyleGAN2); eps: optional [B, T-1, D] motion noise (fixed motion
        codes for content/motion swaps); otherwise drawn fresh from N(0, I).
        """
        b = z1.shape[0]
        steps = num_frames - 1
        if eps is None:
            eps = self.sample_noise(b, steps, z1.device, generator)
        if eps.shape != (b, steps, self.latent_dim):
            raise ValueError(f"eps must be [{b}, {steps}, {self.latent_dim}], got {list(eps.shape)}")
        h, c = self.enc_cell(z1)  # (h₁, c₁) = LSTM_enc(z₁)  [B, h]
        zs, hs, cs = [z1], [], []
        for t in range(steps):
            h, c = self.cell(eps[:, t], (h, c))  # Eqn. 1, decoder step
            zs.append(self.step(zs[-1], h))  # Eqn. 2
            hs.append(h)
            cs.append(c)
        latents = torch.stack(zs, dim=1)  # [B, T, D]
        if steps:
            hidden, cell = torch.stack(hs, 1), torch.stack(cs, 1)  # [B, T-1, h]
        else:
            hidden = cell = z1.new_zeros(b, 0, self.hidden_dim)
        eps_hat = self.mi_head(hidden, cell)  # [B, T-1, D]
        return MotionOutput(latents=latents, eps=eps, eps_hat=eps_hat, hidden=hidden, cell=cell)


def build_motion_generator(cfg, basis=None, std=None) -> MotionGenerator:
    """G_M from a (resolved) :class:`~.config.MoCoGANHDConfig`."""
    from vidbench.models.mocogan_hd.config import resolve_config

    cfg = resolve_config(cfg)
    return MotionGenerator(
        latent_dim=cfg.latent_dim,
        hidden_dim=cfg.hidden_dim,
        n_pca=cfg.n_pca,
        w_residual=cfg.w_residual,
        residual=cfg.residual,
        residual_mode=cfg.residual_mode,
        mi_input=cfg.mi_input,
        basis=basis,
        std=std,
    )


__all__ = [
    "MotionGenerator",
    "MotionOutput",
    "build_motion_generator",
    "interpolate_latents",
    "residual_step",
    "residual_step_released",
]
