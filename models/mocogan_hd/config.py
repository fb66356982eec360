"""MoCoGAN-HD configuration: paper defaults and the ``recipe = "paper" | "released"`` switch.

The paper (Tian et al., ICLR 2021) and the authors' released code (snap-research/MoCoGAN-HD@27356ba) disagree in
many details (``../shared/MOCOGAN_HD_FACTS.md`` section 13). One field, ``recipe``, selects all of them together; each
recipe-dependent field defaults to ``None`` ("take it from the recipe") and can still be set explicitly with
``--set key=value`` — an explicit value always wins, independent of the order of the overrides.
:func:`resolve_config` fills the ``None`` fields; the trainer and the run record use the resolved config, so the record
states both the recipe and every value it implied.

Recipe x domain table (``domain = "in"``: image and video data from one dataset, §4.1; ``"cross"``: image generator
from one dataset, motion from another, §4.2):

===================== ================================ ============================== ==================================
field                  paper, in-domain                 paper, cross-domain            released (in / cross)
===================== ================================ ============================== ==================================
w_residual (λ, Eqn 2)  0.5 (App. B)                     0.2 (App. B)                   0.2 / 0.2 (``--w_residual``)
residual_mode          ``paper``: z+λ·h·V               ``paper``                      ``released``: z+λ·tanh(hW+b)·diag(σ)V
mi_input (H of Eqn 3)  ``h`` (h_t, 384→512→512)         ``h``                          ``hc`` (concat(h_t,c_t), 768→512→512)
gan_loss (D_V, Eqn 4)  ``gan`` (log-likelihood)         ``gan``                        ``ralsgan`` (0/1 targets)
gp_weight (D_V)        0                                0                              10 (channel-norm GP)
image_d (D_I)          ``biggan`` (contrastive)         ``biggan`` (contrastive)       ``patch`` (2D PatchGAN pairs) / ``biggan``
image_gan_loss (Eqn 5) ``gan``                          ``gan``                        ``ralsgan`` / ``hinge``
use_contrastive        True (positives: 2 real frames)  True (2 augs of one fake frame) False / True
contr_weight λ_contr   1                                1                              – / 2
match_weight λ_f       1                                1                              – / 1 (``--w_match``; 5 for FFHQ)
mi_weight λ_m          1                                1                              1 / 1
bank_mode              ``paper``: 1 bank, EMA-D of fake ``paper``                      – / ``released``: 2 queues
                       frames, filled in D steps                                       (frame 1, frame k) in G steps
augment                ``paper``: all of App. A.2.2     ``paper``                      – / ``released``: border cutout,
                       (affine, brightness, colour,                                    then one of flip/colour/affine
                       cutout α~U(0,.25), flip)
contr_self_logit       ``exclude`` (NT-Xent)            ``exclude``                    ``zero`` (self logit kept as 0)
projection_head        ``paper``: F = trunk + 2 FC(256) ``paper``                      ``released``: shared SN-FC(256)
g_steps_per_d          1                                1                              5
time_reverse_p         0                                0                              0.5 (D_V inputs, real & fake)
Adam betas G_M, D_V    (0.9, 0.999) eps 1e-8 (Adam      same                           (0.5, 0.999) eps 1e-8
                       defaults; paper gives lr only)
Adam betas D_I         (0.9, 0.999) eps 1e-8            same                           patch: (0.5, 0.999) eps 1e-8;
                                                                                       BigGAN: (0.0, 0.999) eps 1e-6
frame_stride           1 ("16 consecutive frames")      2 ("every other frame", App B) 2 (``--time_step 2``)
===================== ================================ ============================== ==================================

In both recipes: lr 1e-4 for G_M, D_V and D_I (App. B), τ = 0.07, MoCo m = 0.999, bank 4,096, projection 256,
LSTM hidden 384, n_pca 384, D_V at 128² and 64² (App. A.2.1), image generator frozen, w₁ = mapping(z).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Optional

from vidbench.config import ConfigError

Recipe = Literal["paper", "released"]
Domain = Literal["in", "cross"]


@dataclass(frozen=True)
class MoCoGANHDConfig:
    """All hyper-parameters of MoCoGAN-HD training and sampling (``None`` = take the value from ``recipe``)."""

    recipe: Recipe = "paper"  # "paper" (ICLR 2021 text) or "released" (snap-research/MoCoGAN-HD code)
    domain: Domain = "in"  # "in": §4.1 in-domain; "cross": §4.2 cross-domain video synthesis

    # ---- motion generator G_M (§3.1, App. A.1)
    latent_dim: int = 512  # z / w size (App. A.1)
    hidden_dim: int = 384  # LSTM hidden size (App. A.1)
    n_pca: int = 384  # top-384 PCA components form V (App. A.1)
    residual: bool = True  # Eqn. 2; False = ablation "w/o Eqn. 2" (§4.3): z_t = Linear(h_t)
    residual_mode: Optional[Literal["paper", "released"]] = None  # see table above
    w_residual: Optional[float] = None  # λ of Eqn. 2 (App. B: 0.5 in-domain, 0.2 cross-domain)
    mi_input: Optional[Literal["h", "hc"]] = None  # input of H in Eqn. 3

    # ---- clips (§4, App. B)
    num_frames: int = 16  # n, frames per training clip (§4.1)
    frame_size: int = 128  # resolution seen by D_V / D_I (App. A.2.1: 128² and 64²)
    frame_stride: Optional[int] = None  # temporal stride of real clips
    noise_mode: Literal["video", "none", "random"] = "video"  # StyleGAN2 noise: fixed per video / off / per frame

    # ---- discriminators (§3.2, App. A.2)
    use_video_d: bool = True  # ablation "w/o D_V" (§4.3)
    use_image_d: bool = True  # ablation "w/o D_I" (§4.3)
    d_scales: int = 2  # D_V (and PatchGAN D_I) scales (App. A.2.1)
    d_ndf: int = 64  # first-layer width of the PatchGANs (Tab. 6)
    image_d: Optional[Literal["patch", "biggan"]] = None  # D_I architecture
    biggan_ch: int = 96  # BigGAN D width (released: D_ch 96)
    time_reverse_p: Optional[float] = None  # D_V input time-reversal probability

    # ---- losses (Eqn. 3-7)
    gan_loss: Optional[Literal["gan", "ralsgan"]] = None  # D_V loss (Eqn. 4)
    image_gan_loss: Optional[Literal["gan", "ralsgan", "hinge"]] = None  # D_I loss (Eqn. 5)
    gp_weight: Optional[float] = None  # gradient penalty on D_V
    use_mi_loss: bool = True  # L_m (Eqn. 3); ablation "w/o L_m" (Tab. 5)
    use_contrastive: Optional[bool] = None  # L_contr (Eqn. 6) + L_f; ablation "w/o L_contr" (Tab. 5)
    mi_weight: float = 1.0  # λ_m (App. B)
    contr_weight: Optional[float] = None  # λ_contr (App. B: 1)
    match_weight: Optional[float] = None  # λ_f (App. B: 1)
    video_d_weight: float = 1.0  # weight of the D_V term for G
    image_d_weight: float = 1.0  # weight of the D_I term for G
    tau: float = 0.07  # InfoNCE temperature (§3.2)
    proj_dim: int = 256  # projection head width (App. A.2.2)
    moco_m: float = 0.999  # EMA momentum of the key encoder (MoCo)
    bank_size: int = 4096  # memory bank size (App. A.2.2)
    bank_mode: Optional[Literal["paper", "released"]] = None
    augment: Optional[Literal["paper", "released"]] = None  # App. A.2.2 vs released `warp`
    contr_self_logit: Optional[Literal["exclude", "zero"]] = None
    projection_head: Optional[Literal["paper", "released"]] = None

    # ---- optimisation (App. B)
    lr: float = 1e-4  # Adam lr for G_M, D_V, D_I (App. B)
    d_lr: Optional[float] = None  # Adam lr of D_V and D_I (None: resolved to ``lr``, as in the paper)
    g_betas: Optional[tuple[float, float]] = None
    dv_betas: Optional[tuple[float, float]] = None
    di_betas: Optional[tuple[float, float]] = None
    di_eps: Optional[float] = None
    g_steps_per_d: Optional[int] = None  # generator updates per discriminator update
    # the fake clips of the D update: "regenerate" (both recipes: fresh z, ε in every sub-step, MOCOGAN_HD_FACTS §11)
    # or "reuse" the last G update's clips, detached (one render fewer per iteration; a speed option)
    d_fake: Literal["regenerate", "reuse"] = "regenerate"
    batch_size: int = 16  # global batch (released UCF/FF scripts: 16 over 8 GPUs)
    total_steps: int = 100_000  # discriminator iterations
    seed: int = 0
    num_workers: int = 0  # threads decoding real clips (0: in the training loop)

    # ---- logging / checkpoints
    log_every: int = 10
    sample_every: int = 1000
    ckpt_every: int = 1000
    num_grid: int = 8  # videos in the sample grid GIF
    fps: float = 10.0  # sample GIF / mp4 frame rate (released evaluate.py: 10)

    def validate(self) -> None:
        r = resolve_config(self)
        if r.residual and r.residual_mode == "paper" and r.hidden_dim != r.n_pca:
            raise ConfigError(
                f"residual_mode=paper computes h_t·V, so hidden_dim ({r.hidden_dim}) must equal n_pca ({r.n_pca}); "
                "set both or use residual_mode=released"
            )
        if r.n_pca > r.latent_dim:
            raise ConfigError(f"n_pca ({r.n_pca}) cannot exceed latent_dim ({r.latent_dim})")
        if r.num_frames < 2:
            raise ConfigError("num_frames must be >= 2")
        if not 0.0 <= r.time_reverse_p <= 1.0:
            raise ConfigError("time_reverse_p must be in [0, 1]")
        if r.d_fake not in ("regenerate", "reuse"):
            raise ConfigError(f"d_fake must be 'regenerate' or 'reuse', got {r.d_fake!r}")
        if r.g_steps_per_d < 1:
            raise ConfigError("g_steps_per_d must be >= 1")
        if r.lr <= 0 or (r.d_lr is not None and r.d_lr <= 0):
            raise ConfigError(f"lr ({r.lr}) and d_lr ({r.d_lr}) must be > 0 (d_lr None: the discriminators use lr)")
        if r.image_d == "patch" and r.domain == "cross":
            raise ConfigError("image_d=patch conditions on real first frames and only exists in-domain; use biggan")
        if r.image_d == "patch" and r.image_gan_loss == "hinge":
            pass  # allowed, just unusual


# recipe -> domain -> values for the None fields
_PAPER_COMMON = dict(
    residual_mode="paper",
    mi_input="h",
    gan_loss="gan",
    gp_weight=0.0,
    image_d="biggan",
    image_gan_loss="gan",
    use_contrastive=True,
    contr_weight=1.0,
    match_weight=1.0,
    bank_mode="paper",
    augment="paper",
    contr_self_logit="exclude",
    projection_head="paper",
    g_steps_per_d=1,
    time_reverse_p=0.0,
    g_betas=(0.9, 0.999),
    dv_betas=(0.9, 0.999),
    di_betas=(0.9, 0.999),
    di_eps=1e-8,
)
_RELEASED_COMMON = dict(
    residual_mode="released",
    mi_input="hc",
    w_residual=0.2,
    gan_loss="ralsgan",
    gp_weight=10.0,
    bank_mode="released",
    augment="released",
    contr_self_logit="zero",
    projection_head="released",
    g_steps_per_d=5,
    time_reverse_p=0.5,
    g_betas=(0.5, 0.999),
    dv_betas=(0.5, 0.999),
    frame_stride=2,
)
RECIPES: dict[str, dict[str, dict]] = {
    "paper": {
        "in": {**_PAPER_COMMON, "w_residual": 0.5, "frame_stride": 1},
        "cross": {**_PAPER_COMMON, "w_residual": 0.2, "frame_stride": 2},
    },
    "released": {
        "in": {
            **_RELEASED_COMMON,
            "image_d": "patch",
            "image_gan_loss": "ralsgan",
            "use_contrastive": False,
            "contr_weight": 0.0,
            "match_weight": 0.0,
            "di_betas": (0.5, 0.999),
            "di_eps": 1e-8,
        },
        "cross": {
            **_RELEASED_COMMON,
            "image_d": "biggan",
            "image_gan_loss": "hinge",
            "use_contrastive": True,
            "contr_weight": 2.0,
            "match_weight": 1.0,
            "di_betas": (0.0, 0.999),
            "di_eps": 1e-6,
        },
    },
}


def recipe_defaults(recipe: str, domain: str) -> dict:
    """The values ``recipe`` implies for ``domain`` (the table in this module's docstring)."""
    try:
        return dict(RECIPES[recipe][domain])
    except KeyError:
        raise ConfigError(f"unknown recipe/domain {recipe!r}/{domain!r}; recipes: paper, released; domains: in, cross")


def resolve_config(cfg: MoCoGANHDConfig) -> MoCoGANHDConfig:
    """Return ``cfg`` with every ``None`` field filled from its recipe and domain (explicit values are kept)."""
    defaults = recipe_defaults(cfg.recipe, cfg.domain)
    fill = {k: v for k, v in defaults.items() if getattr(cfg, k) is None}
    if cfg.d_lr is None:  # not a recipe field: the discriminators train at ``lr`` unless told otherwise
        fill["d_lr"] = cfg.lr
    out = dataclasses.replace(cfg, **fill)
    missing = [f.name for f in dataclasses.fields(out) if getattr(out, f.name) is None]
    if missing:  # pragma: no cover - guards the recipe table against new fields
        raise ConfigError(f"recipe {cfg.recipe!r} leaves {missing} unset")
    return out


def tiny_config(**kw) -> MoCoGANHDConfig:
    """A CPU-sized config for tests and smoke runs (small PCA, short clips, 32² discriminators)."""
    base = dict(
        latent_dim=64,
        hidden_dim=32,
        n_pca=32,
        num_frames=8,
        frame_size=32,
        d_ndf=8,
        biggan_ch=8,
        proj_dim=32,
        bank_size=64,
        batch_size=4,
        total_steps=20,
        log_every=1,
        sample_every=10,
        ckpt_every=10,
        num_grid=4,
    )
    base.update(kw)
    return MoCoGANHDConfig(**base)


__all__ = ["MoCoGANHDConfig", "RECIPES", "recipe_defaults", "resolve_config", "tiny_config"]
