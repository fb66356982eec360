"""Synthetic sky time-lapse: procedural drifting clouds over a sky gradient and a ground silhouette (offline).

A stand-in for the Sky Time-lapse dataset (Xiong et al., CVPR 2018) when the real data is not available: same shape
of task (static ground, clouds advected by wind, slow illumination change), fully reproducible. Generative process of
item ``i`` (random stream ``default_rng([seed, split_code, i])``):

1. **Cloud texture.** A periodic ``N×N`` fractal noise field (N = ``texture_size``): white Gaussian noise filtered in
   the Fourier domain by the amplitude envelope ``|f|^-(1+h)`` (h ~ U[``hurst``]), i.e. the sum of smoothed noise
   octaves of fractional Brownian motion, normalised to zero mean and unit std.
2. **Perspective cloud plane.** The horizon sits at row ``y_h = size·(1 - g)`` (ground fraction g ~ U[0.12, 0.28]).
   A sky pixel at elevation ``e = (y_h - y)/size`` sees the cloud plane at distance ``D = 1/(e + 0.08)``; its plane
   coordinates are ``X = (x/size - 0.5)·D·fov``, ``Z = D``, so clouds shrink and slow down towards the horizon.
3. **Wind advection (two layers).** Layer ``k`` samples the texture (bilinear, wrap-around) at
   ``(X, Z)·scale_k + w_k·t`` with wind ``w_1`` (speed ~ U[``wind``] texture px/frame, random direction) and a second,
   higher layer with a different, slower wind; their sum ``n = n_1 + 0.6·n_2`` evolves in shape over time.
   Density ``d = clip((n - c)/s, 0, 1)·exp(-(D - 1)/haze)`` with coverage c ~ U[``coverage``] and softness s.
4. **Light.** Sky colour is a zenith→horizon gradient mixed between a day and a dusk palette by a time-of-day value
   τ that drifts linearly over the clip (time-lapse illumination change), plus a sun glow. Cloud brightness is
   ``0.62 + 0.38·lit`` with ``lit`` from the density difference towards the sun (a self-shadowing cue).
5. **Ground.** A static ridge silhouette (1-D fractal profile around ``y_h``) coloured dark green-brown with static
   texture, lit by the same τ. Output uint8 [T, size, size, 3] (round half to even of ×255).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidbench.datasets.base import Clip, VideoDataset, item_rng
from vidbench.errors import VidbenchError

SPLIT_CODES = {"train": 0, "test": 1}
DEFAULT_NUM_VIDEOS = {"train": 2_000, "test": 200}
GENERATOR_VERSION = "synthetic_sky/1"

_DAY_ZENITH = np.array([0.16, 0.36, 0.74], np.float32)
_DAY_HORIZON = np.array([0.70, 0.82, 0.93], np.float32)
_DUSK_ZENITH = np.array([0.20, 0.21, 0.42], np.float32)
_DUSK_HORIZON = np.array([0.98, 0.62, 0.36], np.float32)
_DAY_CLOUD = np.array([0.98, 0.98, 0.99], np.float32)
_DUSK_CLOUD = np.array([1.00, 0.74, 0.62], np.float32)
_GROUND = np.array([0.10, 0.12, 0.07], np.float32)


@dataclass(frozen=True)
class SyntheticSkyConfig:
    num_frames: int = 16  # frames per clip
    size: int = 64  # output side; MoCoGAN-HD trains Sky at 128 (§4.1)
    stride: int = 1  # keep every stride-th rendered frame (same option name as the real datasets)
    num_videos: int = 0  # 0 -> 2,000 (train) / 200 (test); generated lazily
    texture_size: int = 128  # periodic cloud texture side (power of two: FFT synthesis)
    hurst: tuple[float, float] = (0.45, 0.85)  # fBm roughness range: amplitude envelope |f|^-(1+h)
    wind: tuple[float, float] = (0.6, 2.2)  # texture px/frame of the low cloud layer
    coverage: tuple[float, float] = (-0.7, 0.8)  # density threshold c (lower = cloudier)
    softness: tuple[float, float] = (0.5, 1.3)  # density ramp width s
    fov: float = 1.4  # horizontal extent of the view in cloud-plane units at the zenith
    haze: float = 6.0  # cloud opacity fades as exp(-(D-1)/haze) towards the horizon
    tau_drift: float = 0.25  # max |change| of the time of day τ over one clip


def fbm_spectrum(rng: np.random.Generator, n: int, hurst: float) -> np.ndarray:
    """Half-plane spectrum [n, n//2+1] of periodic fractal noise: white noise times the envelope |f|^-(1+h)."""
    white = rng.standard_normal((n, n))
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    env = f ** (-(1.0 + hurst))
    env[0, 0] = 0.0  # no DC
    env[f > 0.35] = 0.0  # drop the finest octave (aliasing)
    return np.fft.rfft2(white) * env


def texture_from_spectrum(spec: np.ndarray, n: int, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Real texture [n, n] float32 of ``spec`` translated by ``shift`` = (du, dv) texture px: tex'(p) = tex(p + shift)."""
    if shift != (0.0, 0.0):
        fy = np.fft.fftfreq(n)[:, None]
        fx = np.fft.rfftfreq(n)[None, :]
        spec = spec * np.exp(2j * np.pi * (fx * shift[0] + fy * shift[1]))
    return np.fft.irfft2(spec, s=(n, n)).astype(np.float32)


def fbm_texture(rng: np.random.Generator, n: int, hurst: float) -> np.ndarray:
    """Periodic fractal noise [n, n] float32, zero mean, unit std (spectral synthesis of summed noise octaves)."""
    tex = texture_from_spectrum(fbm_spectrum(rng, n, hurst), n)
    return tex / (tex.std() + 1e-12)


def sample_wrap_bilinear(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup of periodic textures [N, N] or [K, N, N] (N a power of two) at float coordinates
    (u = column, v = row) of any shape; returns ``u.shape`` or ``[K, *u.shape]``."""
    n = tex.shape[-1]
    m = n - 1
    flat = tex.reshape(-1, n * n)
    u0 = np.floor(u)
    v0 = np.floor(v)
    fu = (u - u0).astype(np.float32)
    fv = (v - v0).astype(np.float32)
    i0 = u0.astype(np.int64) & m
    j0 = (v0.astype(np.int64) & m) * n
    i1 = (i0 + 1) & m
    j1 = (j0 + n) & (n * n - 1)
    a = flat[:, j0 + i0]
    a += (flat[:, j0 + i1] - a) * fu
    b = flat[:, j1 + i0]
    b += (flat[:, j1 + i1] - b) * fu
    out = a + (b - a) * fv
    return out if tex.ndim == 3 else out[0]


class SyntheticSky(VideoDataset):
    """Procedural sky time-lapse: fractal clouds advected by wind in perspective over a sky gradient and ground."""

    description = "Synthetic sky time-lapse (embedded): fBm clouds advected by wind over a sky gradient and ground"

    def __init__(self, split: str = "train", config: SyntheticSkyConfig = SyntheticSkyConfig(), seed: int = 0):
        super().__init__()
        if split not in SPLIT_CODES:
            raise VidbenchError(f"synthetic_sky: unknown split {split!r}; choose train or test")
        if config.size < 8 or config.num_frames < 1 or config.stride < 1:
            raise VidbenchError("synthetic_sky: size must be >= 8, num_frames and stride >= 1")
        if config.texture_size & (config.texture_size - 1):
            raise VidbenchError(f"synthetic_sky: texture_size must be a power of two, got {config.texture_size}")
        self.name, self.split, self.seed, self.config = "synthetic_sky", split, int(seed), config
        self.fps = 10.0
        self._n = config.num_videos or DEFAULT_NUM_VIDEOS[split]

    def __len__(self) -> int:
        return self._n

    def _get(self, index: int) -> Clip:
        c = self.config
        rng = item_rng(self.seed, SPLIT_CODES[self.split], index)
        S, T, N = c.size, c.num_frames, c.texture_size
        hurst = rng.uniform(*c.hurst)
        spec = fbm_spectrum(rng, N, hurst)
        g = rng.uniform(0.12, 0.28)
        y_h = S * (1.0 - g)
        coverage, soft = rng.uniform(*c.coverage), rng.uniform(*c.softness)
        ang1 = rng.uniform(0, 2 * np.pi)
        sp1 = rng.uniform(*c.wind)
        w1 = (sp1 * float(np.cos(ang1)), sp1 * float(np.sin(ang1)))  # python floats keep arrays float32
        ang2 = ang1 + rng.uniform(-0.8, 0.8)
        w2 = (0.45 * sp1 * float(np.cos(ang2)), 0.45 * sp1 * float(np.sin(ang2)))
        scale1 = N / rng.uniform(2.5, 4.5)  # texture px per plane unit
        scale2 = scale1 * rng.uniform(1.6, 2.4)
        off1, off2 = rng.uniform(0, N, 2).tolist(), rng.uniform(0, N, 2).tolist()
        tau0 = rng.uniform(0, 1) ** 2  # most clips by day
        tau1 = float(np.clip(tau0 + rng.uniform(-c.tau_drift, c.tau_drift), 0, 1))
        sun_x, sun_e = rng.uniform(0, 1), rng.uniform(0.05, 0.6)
        sun_dir = np.array([sun_x - 0.5, 1.0])
        sun_dir /= np.linalg.norm(sun_dir)
        # static ground ridge: 1-D fractal profile
        ridge_f = np.fft.rfftfreq(S)
        ridge_f[0] = 1.0
        ridge = np.fft.irfft(np.fft.rfft(rng.standard_normal(S)) * ridge_f ** -1.2, n=S)
        ridge = y_h - 0.06 * S * ridge / (np.abs(ridge).max() + 1e-9) - 0.02 * S
        ground_tex = rng.standard_normal((S, S)).astype(np.float32) * 0.025

        # geometry -------------------------------------------------------------------------------------------
        ys, xs = np.mgrid[0:S, 0:S].astype(np.float32) + 0.5
        elev = np.maximum((y_h - ys) / S, 0.0)  # [S, S]
        D = 1.0 / (elev + 0.08)
        X = (xs / S - 0.5) * D * c.fov
        haze = np.exp(-(D - 1.0) / c.haze) * (elev > 0)
        t = (np.arange(T, dtype=np.float32) * c.stride)[:, None, None]  # [T, 1, 1] rendered frame times

        # clouds (all frames at once) ----------------------------------------------------------------------------
        u1 = X * scale1 + off1[0] + w1[0] * t  # [T, S, S]
        v1 = D * scale1 + off1[1] + w1[1] * t
        # texture, and (texture - texture moved 2 px towards the sun) for self-shadowing, sampled together
        tex = texture_from_spectrum(spec, N)
        std = tex.std() + 1e-12
        toward_sun = texture_from_spectrum(spec, N, (2.0 * float(sun_dir[0]), -2.0 * float(sun_dir[1])))
        n1, n1_edge = sample_wrap_bilinear(np.stack([tex, tex - toward_sun]) / std, u1, v1)
        n2 = sample_wrap_bilinear(tex / std, X * scale2 + off2[0] + w2[0] * t, D * scale2 + off2[1] + w2[1] * t)
        n = n1 + 0.6 * n2
        dens = np.clip((n - coverage) / soft, 0.0, 1.0) * haze  # [T, S, S]
        lit = np.clip(0.5 + 0.8 * n1_edge, 0.0, 1.0)

        # light --------------------------------------------------------------------------------------------------
        tau = (tau0 + (tau1 - tau0) * t[:, 0, 0] / max((T - 1) * c.stride, 1)).astype(np.float32)[:, None, None, None]  # [T,1,1,1]
        e_n = np.clip(elev / max(1.0 - g, 1e-3), 0, 1)[None, ..., None] ** 0.6  # [1,S,S,1]
        zen = (1 - tau) * _DAY_ZENITH + tau * _DUSK_ZENITH  # [T,1,1,3]
        hor = (1 - tau) * _DAY_HORIZON + tau * _DUSK_HORIZON
        sky = hor + (zen - hor) * e_n  # [T,S,S,3]
        dist2 = ((xs / S - sun_x) ** 2 + (elev - sun_e) ** 2)[None, ..., None]
        sky = sky + (0.25 + 0.35 * tau) * np.exp(-dist2 / 0.02) * np.array([1.0, 0.85, 0.6], np.float32)
        cloud = ((1 - tau) * _DAY_CLOUD + tau * _DUSK_CLOUD) * (0.62 + 0.38 * lit[..., None])
        shade = 1.0 - 0.35 * tau  # darker at dusk
        img = sky * (1 - dens[..., None]) + cloud * dens[..., None] * shade

        ground = ys >= ridge[None, :]  # [S, S]
        gcol = (_GROUND * (1.0 + 0.5 * (ys - y_h) / S)[..., None] + ground_tex[..., None])  # [S,S,3]
        gcol = gcol[None] * (1.0 - 0.45 * tau)  # [T,S,S,3]
        img = np.where(ground[None, ..., None], gcol, img)
        video = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
        meta = {"wind": [float(w1[0]), float(w1[1])], "coverage": float(coverage), "tau": [float(tau0), float(tau1)],
                "horizon_row": float(y_h)}
        return Clip(id=f"{self.split}/{index:06d}", video=video, label=None, meta=meta)

    def _source_manifest(self):
        return {"generator": GENERATOR_VERSION, "num_videos": self._n}

    def extra_info(self) -> dict:
        return {"source": "procedural (no files)", "generated": True}
