"""MoCoGAN-HD (Tian et al., ICLR 2021): motion generator, discriminators, losses, trainer, sampling, released loader.

Registered in ``vidbench.registry.MODELS`` as ``mocohd``: ``MODELS.get("mocohd").obj(checkpoint, device=...)``
returns a sampler (``vidbench/sampler.py`` protocol) for a run folder / trainer checkpoint of ours or for the
authors' released ``modelR_epoch_N.pth`` folder (with its StyleGAN2 ``.pt`` and ``pca_comp.npy``/``pca_stdev.npy``).
"""

from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config, tiny_config
from vidbench.models.mocogan_hd.motion_generator import MotionGenerator, build_motion_generator, interpolate_latents
from vidbench.models.mocogan_hd.released import load_model, load_released, load_sampler
from vidbench.models.mocogan_hd.sampling import MoCoGANHD, MoCoGANHDSampler

from vidbench.registry import MODELS

MODELS.add(
    "mocohd",
    load_sampler,
    description="MoCoGAN-HD: LSTM motion generator in a frozen StyleGAN2's W space (ICLR 2021)",
    video=True,
    needs_checkpoint=True,
    config=MoCoGANHDConfig,
    recipes=("paper", "released"),
)

__all__ = [
    "MoCoGANHD",
    "MoCoGANHDConfig",
    "MoCoGANHDSampler",
    "MotionGenerator",
    "build_motion_generator",
    "interpolate_latents",
    "load_model",
    "load_released",
    "load_sampler",
    "resolve_config",
    "tiny_config",
]
