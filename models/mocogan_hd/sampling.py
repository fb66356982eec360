"""MoCoGAN-HD inference: the model bundle (frozen image generator G_I + motion generator G_M) and every way of sampling.

* :class:`MoCoGANHD` — ``latents(z, T)`` (w₁ = mapping(z), then G_M), ``render(latents)`` (StyleGAN2 synthesis per
  frame, StyleGAN2 noise fixed per video / off / per frame), ``sample(...)`` for unconditional videos of any length,
  with motion interpolation (§4.4).
* :func:`content_motion_swap` — same content code with different motion codes, or the same motion codes (ε sequence)
  with different content codes (paper Fig. 5/6, 13/14).
* :func:`predict_video` — video prediction (§4.1, Tab. 3): start G_M from the inverted latent ẑ₁ of a real frame.
* :class:`MoCoGANHDSampler` — the ``vidbench eval`` sampler interface (``vidbench/sampler.py``).

Frames are returned as float [B, T, 3, H, W] (about [-1, 1]); :func:`to_uint8_video` converts to uint8 [B,T,H,W,3]
with the released evaluate.py rule (clamp, (x+1)/2·255, truncation).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
from vidbench.models.mocogan_hd.motion_generator import MotionGenerator, MotionOutput, interpolate_latents


class MoCoGANHD(nn.Module):
    """G_I(G_M(z₁)): a frozen StyleGAN2-style image generator and a trained motion generator.

    ``image_generator`` must provide ``mapping(z)``, ``synthesis(w, noise_mode=, noise=)``, ``make_noise(B)`` and
    ``style_dim`` (``vidbench.models.stylegan2.Generator``). ``z_space="w"`` (StyleGAN2, §3.1) starts G_M at
    w₁ = mapping(z); ``"z"`` (BigGAN) starts at z itself and renders with ``image_generator(z)``.
    """

    def __init__(self, image_generator: nn.Module, motion_generator: MotionGenerator, *, z_space: str = "w",
                 recipe: str = "paper", config=None):
        super().__init__()
        self.image_generator = image_generator
        self.motion_generator = motion_generator
        self.z_space = z_space
        self.recipe = recipe
        self.config = config
        self.image_generator.requires_grad_(False)
        self.image_generator.eval()

    def train(self, mode: bool = True):  # the image generator stays frozen in eval mode
        super().train(mode)
        self.image_generator.eval()
        return self

    @property
    def latent_dim(self) -> int:
        return self.motion_generator.latent_dim

    @property
    def device(self) -> torch.device:
        return self.motion_generator.pca_basis.device

    def content_code(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, D] ~ N(0, I) -> the first latent z₁ (w₁ = mapping(z) for StyleGAN2, §3.1)."""
        return self.image_generator.mapping(z) if self.z_space == "w" else z

    def latents(self, z: torch.Tensor, num_frames: int, *, eps: torch.Tensor | None = None, from_code: bool = False,
                generator: torch.Generator | None = None) -> MotionOutput:
        """Motion trajectory for ``num_frames`` frames; ``from_code=True`` means ``z`` already is z₁ (e.g. ẑ₁)."""
        z1 = z if from_code else self.content_code(z)
        return self.motion_generator(z1, num_frames, eps=eps, generator=generator)

    def render(self, latents: torch.Tensor, noise_mode: str = "video", generator: torch.Generator | None = None,
               noise: list | None = None) -> torch.Tensor:
        """latents [B, T, D] -> frames [B, T, 3, S, S].

        noise_mode: "video" (one StyleGAN2 noise map per video and layer, repeated over the T frames — released
        use_noise=True), "none" (no noise — released use_noise=False; App. D), "random" (fresh noise per frame), "const" (the generator's stored
        maps for every frame, as held fixed by the inversion of Eqn. 8).
        ``noise``: explicit per-video maps (list of [B,1,R,R]) for "video".
        """
        b, t, d = latents.shape
        flat = latents.reshape(b * t, d)
        G = self.image_generator
        if self.z_space == "z":
            imgs = G(flat)
        elif noise_mode == "video":
            maps = noise if noise is not None else G.make_noise(b, device=latents.device, generator=generator)
            maps = [None if m is None else m.repeat_interleave(t, dim=0) for m in maps]  # [B*T,1,R,R]
            imgs = G.synthesis(flat, noise=maps)
        elif noise_mode in ("none", "random", "const"):
            imgs = G.synthesis(flat, noise_mode=noise_mode)
        else:
            raise ValueError(f"noise_mode must be video, none, random or const, got {noise_mode!r}")
        return imgs.reshape(b, t, *imgs.shape[1:])

    @torch.no_grad()
    def sample(self, n: int, num_frames: int = 16, *, seed: int | None = None, interpolate: int = 0,
               noise_mode: str = "video", z: torch.Tensor | None = None, eps: torch.Tensor | None = None,
               return_latents: bool = False):
        """``n`` videos [n, T', 3, S, S]; T' = num_frames, or (num_frames−1)(k+1)+1 with ``interpolate=k`` (§4.4).

        Deterministic given ``seed`` (a private torch.Generator; the global RNG is untouched).
        """
        g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        dev = self.device
        if z is None:
            z = torch.randn(n, self.latent_dim, generator=g).to(dev)
        if eps is None:
            eps = torch.randn(n, num_frames - 1, self.latent_dim, generator=g).to(dev)
        noise = None
        if noise_mode == "video" and self.z_space == "w":
            noise = [torch.randn(n, 1, h, w, generator=g).to(dev) for h, w in self.image_generator.noise_shapes()]
        out = self.latents(z.to(dev), num_frames, eps=eps.to(dev))
        lat = interpolate_latents(out.latents, interpolate)
        video = self.render(lat, noise_mode=noise_mode, noise=noise)
        return (video, lat) if return_latents else video


def to_uint8_video(video: torch.Tensor) -> np.ndarray:
    """[B, T, 3, H, W] float in about [-1, 1] -> uint8 [B, T, H, W, 3] (clamp, (x+1)/2·255, truncation as released)."""
    x = ((video.detach().clamp(-1, 1) + 1) / 2 * 255).to(torch.uint8)
    return x.permute(0, 1, 3, 4, 2).cpu().numpy()


@torch.no_grad()
def content_motion_swap(model: MoCoGANHD, mode: str, n: int, num_frames: int = 16, *, seed: int = 0,
                        interpolate: int = 0, noise_mode: str = "none") -> torch.Tensor:
    """Content/motion disentanglement (paper Fig. 5/6).

    mode="content": one content code z₁ shared by all ``n`` videos, each with its own motion codes ε (Fig. 5).
    mode="motion": one motion-code sequence ε shared by all ``n`` videos, each with its own content code (Fig. 6).
    StyleGAN2 noise defaults to off so only the codes differ. Returns [n, T', 3, S, S].
    """
    g = torch.Generator().manual_seed(int(seed))
    d = model.latent_dim
    if mode == "content":
        z = torch.randn(1, d, generator=g).expand(n, -1).contiguous()
        eps = torch.randn(n, num_frames - 1, d, generator=g)
    elif mode == "motion":
        z = torch.randn(n, d, generator=g)
        eps = torch.randn(1, num_frames - 1, d, generator=g).expand(n, -1, -1).contiguous()
    else:
        raise ValueError(f"swap mode must be 'content' or 'motion', got {mode!r}")
    return model.sample(n, num_frames, z=z, eps=eps, interpolate=interpolate, noise_mode=noise_mode, seed=seed + 1)


@torch.no_grad()
def predict_video(model: MoCoGANHD, z1_hat: torch.Tensor, num_frames: int = 16, *, interpolate: int = 1,
                  seed: int = 0, noise_mode: str = "none") -> torch.Tensor:
    """Video prediction (§4.1, Tab. 3): G_M from the inverted code ẑ₁ [B, D] (Eqn. 8), 16 codes interpolated
    to 2·16−1 = 31 frames by default; frame 1 is G_I(ẑ₁). Returns [B, T', 3, S, S]."""
    g = torch.Generator().manual_seed(int(seed))
    b = z1_hat.shape[0]
    eps = torch.randn(b, num_frames - 1, model.latent_dim, generator=g).to(model.device)
    out = model.latents(z1_hat.to(model.device), num_frames, eps=eps, from_code=True)
    lat = interpolate_latents(out.latents, interpolate)
    return model.render(lat, noise_mode=noise_mode)


def grid_video(videos: np.ndarray, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """uint8 [N, T, H, W, 3] -> one uint8 [T, rows·(H+pad)+pad, cols·(W+pad)+pad, 3] grid video."""
    n, t, h, w, c = videos.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((t, rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        out[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = videos[i]
    return out


def grid_image(videos: np.ndarray, max_frames: int = 8, pad: int = 2) -> np.ndarray:
    """uint8 [N, T, H, W, 3] -> uint8 image with one row per video and up to ``max_frames`` evenly spaced frames."""
    n, t, h, w, c = videos.shape
    idx = np.unique(np.linspace(0, t - 1, min(max_frames, t)).round().astype(int))
    out = np.full((n * (h + pad) + pad, len(idx) * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        for j, f in enumerate(idx):
            out[pad + i * (h + pad): pad + i * (h + pad) + h, pad + j * (w + pad): pad + j * (w + pad) + w] = videos[i, f]
    return out


class MoCoGANHDSampler:
    """``vidbench eval`` sampler (vidbench/sampler.py protocol) around a :class:`MoCoGANHD`."""

    def __init__(self, model: MoCoGANHD, *, checkpoint_hash: str | None = None, recipe: str | None = None,
                 info: dict | None = None, noise_mode: str = "video", interpolate: int = 0):
        self.model = model.eval()
        self.checkpoint_hash = checkpoint_hash
        self.recipe = recipe or model.recipe
        self._info = dict(info or {})
        self.noise_mode = noise_mode
        self.interpolate = interpolate

    @property
    def frame_stride(self) -> int | None:
        """Temporal stride of the real clips the motion generator was trained on (its checkpoint config)."""
        cfg = getattr(self.model, "config", None)
        v = getattr(cfg, "frame_stride", None)
        return int(v) if v is not None else None

    def settings(self) -> dict:
        """Everything about how videos are drawn that changes the pixels (recorded as ``sampler`` in eval records)."""
        return {"model": "mocohd", "recipe": self.recipe, "noise_mode": self.noise_mode, "truncation": None,
                "interpolate": self.interpolate, "uint8": "truncate(clamp(x,-1,1)+1)/2*255 (released evaluate.py)",
                "z": "N(0, I) per video", "seed_rule": "batch i: seed*1000003 + i", "frame_size": self.frame_size}

    @property
    def frame_size(self) -> int | None:
        return getattr(self.model.image_generator, "size", None)

    def sample(self, n: int, *, num_frames: int, seed: int, batch_size: int,
               start_batch: int = 0) -> Iterator[np.ndarray]:
        """uint8 [B, T, H, W, 3] batches; batch i uses seed·1000003 + i, so results do not depend on the device and
        ``start_batch=k`` resumes at batch k with the same videos."""
        done, i = start_batch * batch_size, start_batch
        while done < n:
            b = min(batch_size, n - done)
            v = self.model.sample(b, num_frames, seed=int(seed) * 1_000_003 + i, interpolate=self.interpolate,
                                  noise_mode=self.noise_mode)
            yield to_uint8_video(v)
            done += b
            i += 1

    def predict(self, first_frames: np.ndarray, num_frames: int, *, seed: int = 0, options: dict | None = None
                ) -> np.ndarray:
        """Video prediction (§4.1, Tab. 3): uint8 first frames [B, H, W, 3] -> uint8 [B, num_frames, S, S, 3].

        Each frame is inverted with Eqn. 8 (App. B; :func:`vidbench.models.inversion.invert`, W space, stored noise
        held fixed), G_M starts from the inverted code ẑ₁ and its codes are interpolated (``options["interpolate"]``,
        default 1: 16 codes -> 31 frames); frame 0 is G_I(ẑ₁), so frame 0 against the input is the UP-B row.
        ``options``: ``iterations`` (20,000), ``lambda_vgg`` (1), ``vgg_weights``, ``weights_dir``, ``interpolate``,
        ``progress``. Frames of another size are resized (bilinear, antialiased) to the generator's size first.
        """
        import torch.nn.functional as F
        from vidbench.models.inversion import InversionConfig, invert

        o = dict(options or {})
        k = int(o.get("interpolate", 1))
        codes = -(-(num_frames - 1) // (k + 1)) + 1  # fewest codes whose interpolation gives >= num_frames frames
        G = self.model.image_generator
        x = torch.from_numpy(np.ascontiguousarray(first_frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        if x.shape[-1] != G.size or x.shape[-2] != G.size:
            x = F.interpolate(x, size=(G.size, G.size), mode="bilinear", antialias=True, align_corners=False)
        cfg = InversionConfig(iterations=int(o.get("iterations", 20_000)), lambda_vgg=float(o.get("lambda_vgg", 1.0)),
                              vgg_weights=str(o.get("vgg_weights", "vgg16.imagenet")), space="w", seed=int(seed),
                              noise_mode="const")
        res = invert(G, x.to(self.model.device), cfg, weights_dir=o.get("weights_dir"),
                     progress=bool(o.get("progress", False)))
        self.last_inversion = res.info
        v = predict_video(self.model, res.w, codes, interpolate=k, seed=seed, noise_mode="const")
        return to_uint8_video(v[:, :num_frames])

    def predict_settings(self, num_frames: int, options: dict | None = None) -> dict:
        """The prediction protocol fields this sampler uses for ``num_frames`` frames (see :meth:`predict`)."""
        o = dict(options or {})
        k = int(o.get("interpolate", 1))
        return {"method": "Eqn. 8 inversion of frame 1, G_M from ẑ1 (§4.1, App. B)", "space": "w",
                "inversion_noise": "const", "codes": -(-(num_frames - 1) // (k + 1)) + 1, "interpolate": k,
                "frame0": "G_I(ẑ1)"}

    def motion_fn(self, z1: torch.Tensor, n: int, num_frames: int = 16, seed: int = 0) -> np.ndarray:
        """``fn(z1, n)`` for motion-diversity metrics: ``n`` videos from one content code z [D] (noise off, App. D)."""
        z = torch.as_tensor(z1, dtype=torch.float32).reshape(1, -1).expand(n, -1)
        return to_uint8_video(self.model.sample(n, num_frames, z=z, seed=seed, noise_mode="none"))

    def generator_fn(self, num_frames: int = 16, seed: int = 0):
        """The generator callable of generator-kind metrics (metrics/motion_diversity.py, App. D).

        ``fn(z1: int, n: int) -> float [n, T, 3, H, W] in [-1, 1]``: content trial ``z1`` maps to a fixed content code
        (seeded by ``seed`` and ``z1``); every call draws ``n`` fresh motion trajectories; StyleGAN2 noise is off.
        """
        calls = [0]

        def fn(z1: int, n: int) -> torch.Tensor:
            g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(z1))
            z = torch.randn(1, self.model.latent_dim, generator=g).expand(n, -1)
            calls[0] += 1
            return self.model.sample(n, num_frames, z=z, seed=int(seed) * 7_919 + 104_729 * calls[0] + int(z1),
                                     noise_mode="none").cpu()

        return fn

    def info(self) -> dict:
        return {"model": "mocohd", "recipe": self.recipe, "noise_mode": self.noise_mode,
                "interpolate": self.interpolate, **self._info}


__all__ = [
    "MoCoGANHD",
    "MoCoGANHDSampler",
    "content_motion_swap",
    "grid_image",
    "grid_video",
    "predict_video",
    "to_uint8_video",
]
