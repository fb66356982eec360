"""GAN inversion of a frame into a StyleGAN2 latent — MoCoGAN-HD paper App. B, Eqn. 8.

    ẑ = argmin_z ‖x − G(z)‖² + λ_vgg ‖F_vgg(x) − F_vgg(G(z))‖²,   λ_vgg = 1, 20,000 iterations.

The paper inverts the first frame of a real video, then generates the rest with the motion generator (future-frame
prediction / UP-B PSNR/SSIM). We optimise with Adam in W (default; the paper's notation z₁ is the image-generator
input, and W is where the motion generator steps), in W+ (one code per layer), or in Z. F_vgg is torchvision's VGG16
``features`` (weights ``vgg16.imagenet``, CHECKPOINT_FORMATS.md §6), tapped at relu1_2, relu2_2, relu3_3, relu4_3
(Johnson et al. 2016). Offline without the VGG file: pass ``lambda_vgg=0`` (recorded in the result) or, for tests
only, ``vgg_weights="random-init"``.

The runner computes PSNR/SSIM from the returned reconstruction; models/ never imports metrics/.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.errors import VidbenchError
from vidbench.registry import WEIGHTS
from vidbench.weights import WeightSpec, register_weights, resolve_weights

VGG16_SPEC = WeightSpec(
    "vgg16.imagenet",
    "vgg16-397923af.pth",
    "https://download.pytorch.org/models/vgg16-397923af.pth",
    "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
    size=553_433_881,
    license="BSD-3-Clause (torchvision)",
    description="torchvision VGG16 ImageNet (IMAGENET1K_V1) for the inversion perceptual loss (Eqn. 8)",
    source="torchvision VGG16_Weights.IMAGENET1K_V1",
)


def _register_vgg16() -> None:
    """Register vgg16.imagenet unless another module (e.g. metrics.detectors.vgg) already did."""
    WEIGHTS._ensure_loaded()
    if "vgg16.imagenet" not in WEIGHTS._entries:
        register_weights(VGG16_SPEC, aliases=("vgg16",) if "vgg16" not in WEIGHTS._aliases else ())


_register_vgg16()

# torchvision vgg16.features indices of the taps (ReLU outputs)
VGG_TAPS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29}
_VGG_CONV_SHAPES = {  # features.{i}.weight shapes (CHECKPOINT_FORMATS.md §6)
    0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256), 14: (256, 256),
    17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512), 26: (512, 512), 28: (512, 512),
}


@dataclass(frozen=True)
class InversionConfig:
    """Eqn. 8 optimisation (paper App. B: λ_vgg = 1, 20,000 iterations)."""

    iterations: int = 20_000  # App. B
    lambda_vgg: float = 1.0  # App. B; 0 disables the perceptual term (allowed offline, recorded)
    lr: float = 0.01  # Adam learning rate (not stated in the paper)
    betas: tuple[float, float] = (0.9, 0.999)
    space: Literal["w", "w+", "z"] = "w"
    init: Literal["mean", "random"] = "mean"  # start at the mean w (over n_mean samples) or a random code
    n_mean: int = 10_000
    noise_mode: Literal["const", "none"] = "const"  # noise is held fixed while optimising
    vgg_weights: str = "vgg16.imagenet"  # registered name, a file path, or "random-init" (tests only)
    vgg_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    vgg_input_size: int = 0  # >0: bilinear resize before VGG (e.g. 224); 0 keeps the generator resolution
    log_every: int = 100
    seed: int = 0


@dataclass
class InversionResult:
    latent: torch.Tensor  # the optimised variable: z [B,D], w [B,D] or w+ [B,n_latent,D]
    w: torch.Tensor  # the code fed to synthesis: [B,D] or [B,n_latent,D]
    image: torch.Tensor  # G(ẑ) [B,3,H,W] in about [-1,1]
    mse_start: list[float]
    mse_end: list[float]
    history: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def vgg16_features() -> nn.Sequential:
    """torchvision's VGG16 ``features`` (config "D"): 13 3x3 convs with ReLU, 5 max-pools; same module indices."""
    layers: list[nn.Module] = []
    c = 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU()]
            c = int(v)
    return nn.Sequential(*layers)


class VGG16Features(nn.Module):
    """torchvision VGG16 ``features`` up to the deepest requested tap; input [-1,1] RGB, ImageNet normalisation."""

    def __init__(self, layers=("relu1_2", "relu2_2", "relu3_3", "relu4_3"), input_size: int = 0):
        super().__init__()
        unknown = [n for n in layers if n not in VGG_TAPS]
        if unknown:
            raise VidbenchError(f"unknown VGG16 layers {unknown}; choose from {list(VGG_TAPS)}")
        self.taps = [VGG_TAPS[n] for n in layers]
        self.features = vgg16_features()[: max(self.taps) + 1]
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def load_torchvision_state_dict(self, sd: dict, source: str = "state dict") -> None:
        """Load the ``features.*`` entries of a torchvision vgg16 state dict (shape-checked; classifier ignored)."""
        ours = {}
        for i, (o, c) in _VGG_CONV_SHAPES.items():
            if i >= len(self.features):
                continue
            for kind, shape in (("weight", (o, c, 3, 3)), ("bias", (o,))):
                k = f"features.{i}.{kind}"
                if k not in sd:
                    raise VidbenchError(f"{source}: key {k} missing — not a torchvision VGG16 state dict")
                if tuple(sd[k].shape) != shape:
                    raise VidbenchError(f"{source}: {k} has shape {tuple(sd[k].shape)}, expected {shape}")
                ours[f"{i}.{kind}"] = sd[k].float()
        self.features.load_state_dict(ours, strict=True)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std
        if self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                outs.append(x)
        return outs


def build_vgg16_features(weights: str = "vgg16.imagenet", layers=("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
                         input_size: int = 0, weights_dir: str | None = None) -> tuple[VGG16Features, dict]:
    """VGG16 feature extractor + info {label, sha256, verified}. Missing file -> WeightsMissingError with the fix."""
    net = VGG16Features(layers, input_size)
    if weights == "random-init":
        info = {"label": "vgg16[random-init]", "sha256": None, "verified": False}
    else:
        res = resolve_weights(weights, weights_dir=weights_dir)
        sd = torch.load(res.path, map_location="cpu", weights_only=True)
        net.load_torchvision_state_dict(sd, str(res.path))
        info = {"label": res.spec.name if res.spec else str(res.path), "sha256": res.sha256, "verified": res.verified}
    return net.eval().requires_grad_(False), info


def inversion_loss(x: torch.Tensor, x_hat: torch.Tensor, feats_x: list[torch.Tensor] | None,
                   feats_hat: list[torch.Tensor] | None, lambda_vgg: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqn. 8 objective per sample: ‖x − G(z)‖² + λ_vgg ‖F_vgg(x) − F_vgg(G(z))‖² (squared norms as means).

    Returns (loss [B], pixel MSE [B]); the perceptual term is the sum over taps of the per-tap feature MSE.
    """
    mse = (x - x_hat).pow(2).flatten(1).mean(1)  # [B]
    loss = mse
    if lambda_vgg > 0 and feats_x is not None and feats_hat is not None:
        perc = sum((a - b).pow(2).flatten(1).mean(1) for a, b in zip(feats_x, feats_hat))
        loss = loss + lambda_vgg * perc
    return loss, mse


def invert(G, x: torch.Tensor, cfg: InversionConfig = InversionConfig(), *, vgg: VGG16Features | None = None,
           vgg_info: dict | None = None, weights_dir: str | None = None, progress: bool = True) -> InversionResult:
    """Invert images x [B,3,H,W] in [-1,1] (H = W = G.size) with Eqn. 8; G stays frozen."""
    from tqdm import tqdm

    if x.ndim != 4 or x.shape[1] != 3 or x.shape[-1] != G.size or x.shape[-2] != G.size:
        raise VidbenchError(f"inversion input must be [B,3,{G.size},{G.size}] in [-1,1], got {tuple(x.shape)}")
    dev = next(G.parameters()).device
    x = x.to(dev).float()
    G.eval().requires_grad_(False)
    if cfg.lambda_vgg > 0 and vgg is None:
        vgg, vgg_info = build_vgg16_features(cfg.vgg_weights, cfg.vgg_layers, cfg.vgg_input_size, weights_dir)
    if vgg is not None:
        vgg = vgg.to(dev)
    gen = torch.Generator().manual_seed(cfg.seed)
    b = x.shape[0]
    with torch.no_grad():
        if cfg.space == "z":
            init = torch.randn(b, G.style_dim, generator=gen) if cfg.init == "random" else torch.zeros(b, G.style_dim)
        else:
            if cfg.init == "mean":
                init = G.mean_latent(cfg.n_mean, generator=gen).cpu().expand(b, -1)
            else:
                init = G.mapping(torch.randn(b, G.style_dim, generator=gen).to(dev)).cpu()
            if cfg.space == "w+":
                init = init[:, None].expand(-1, G.n_latent, -1)
    latent = init.clone().contiguous().to(dev).requires_grad_(True)
    opt = torch.optim.Adam([latent], lr=cfg.lr, betas=cfg.betas)

    def render(lat):
        w = G.mapping(lat) if cfg.space == "z" else lat
        return G.synthesis(w, noise_mode=cfg.noise_mode), w

    feats_x = [f.detach() for f in vgg(x)] if vgg is not None and cfg.lambda_vgg > 0 else None
    history: list[dict] = []
    t0 = time.time()
    with torch.no_grad():
        mse_start = (x - render(latent)[0]).pow(2).flatten(1).mean(1)
    bar = tqdm(range(cfg.iterations), desc="inversion (Eqn. 8)", disable=not progress, leave=False)
    for it in bar:
        img, _ = render(latent)
        feats = vgg(img) if feats_x is not None else None
        loss, mse = inversion_loss(x, img, feats_x, feats, cfg.lambda_vgg)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if it % cfg.log_every == 0 or it == cfg.iterations - 1:
            history.append({"iter": it, "loss": float(loss.detach().mean()), "mse": float(mse.detach().mean())})
            bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
    with torch.no_grad():
        img, w = render(latent)
        mse_end = (x - img).pow(2).flatten(1).mean(1)
    info = {
        "config": asdict(cfg),
        "lambda_vgg": cfg.lambda_vgg,
        "vgg": (vgg_info or {"label": "none"}) if cfg.lambda_vgg > 0 else {"label": "none (lambda_vgg=0)"},
        "paper_protocol": cfg.iterations == 20_000 and cfg.lambda_vgg == 1.0,
        "elapsed_s": round(time.time() - t0, 3),
    }
    return InversionResult(latent.detach(), w.detach(), img.detach(), mse_start.tolist(), mse_end.tolist(), history,
                           info)


__all__ = ["InversionConfig", "InversionResult", "invert", "inversion_loss", "build_vgg16_features", "VGG16Features"]
