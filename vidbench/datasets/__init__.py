"""Datasets: real layouts (UCF-101, FaceForensics, Sky Time-lapse, VoxCeleb, TLVDB, image sets, any folder) and
embedded offline datasets (``moving_mnist``, ``synthetic_sky``), all behind one call::

    from vidbench.datasets import build_dataset, Clip
    ds = build_dataset("moving_mnist", split="train", num_frames=16, size=64, seed=0)
    clip = ds[0]                     # Clip(id, video=uint8 [T,H,W,3])
    ds.fingerprint(), ds.info()

Extra keyword arguments set fields of the dataset's frozen config (e.g. ``stride=1``, ``resize_filter="bicubic"``,
``sampling="first"``); an unknown key raises :class:`vidbench.config.ConfigError` listing the valid keys.
Every dataset is registered in :data:`vidbench.registry.DATASETS` (``vidbench list datasets``).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from vidbench.config import ConfigError, config_keys, parse_value
from vidbench.datasets.base import Clip, VideoDataset, canonical_json, fingerprint_of
from vidbench.datasets.moving_mnist import MovingMNIST, MovingMNISTConfig
from vidbench.datasets.synthetic_sky import SyntheticSky, SyntheticSkyConfig
from vidbench.registry import DATASETS

__all__ = [
    "Clip",
    "VideoDataset",
    "build_dataset",
    "make_config",
    "canonical_json",
    "fingerprint_of",
    "MovingMNIST",
    "MovingMNISTConfig",
    "SyntheticSky",
    "SyntheticSkyConfig",
]


def make_config(cls, overrides: dict[str, Any], dataset: str = ""):
    """Build ``cls()`` with ``overrides`` (values may be strings, parsed to the field type); unknown key -> error."""
    from typing import get_type_hints

    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for k, v in overrides.items():
        if k not in names:
            raise ConfigError(f"{dataset or cls.__name__}: unknown option {k!r}; valid keys: {', '.join(config_keys(cls))}")
        if isinstance(v, str) and hints[k] is not str:
            v = parse_value(v, hints[k], k)
        elif isinstance(v, list):
            v = tuple(v)
        values[k] = v
    cfg = cls(**values)
    post = getattr(cfg, "validate", None)
    if callable(post):
        post()
    return cfg


def build_dataset(
    name: str,
    split: str | None = None,
    num_frames: int = 16,
    size: int = 64,
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    **kw,
) -> VideoDataset:
    """Build a registered dataset by name (or ``folder:PATH``).

    ``split=None`` picks the dataset's default split (``train`` for embedded sets, ``all`` for UCF-101).
    ``data_root`` (or ``$VIDBENCH_DATA``) is the folder holding the real data; embedded sets ignore it.
    """
    entry = DATASETS.get(name)
    return entry.obj(split=split, num_frames=num_frames, size=size, seed=seed, data_root=data_root, **kw)


# ------------------------------------------------------------------------------------------------ embedded sets
def _build_moving_mnist(split=None, num_frames=16, size=64, seed=0, data_root=None, **kw) -> MovingMNIST:
    cfg = make_config(MovingMNISTConfig, {"num_frames": num_frames, "size": size, **kw}, "moving_mnist")
    return MovingMNIST(split or "train", cfg, seed=seed)


def _build_synthetic_sky(split=None, num_frames=16, size=64, seed=0, data_root=None, **kw) -> SyntheticSky:
    cfg = make_config(SyntheticSkyConfig, {"num_frames": num_frames, "size": size, **kw}, "synthetic_sky")
    return SyntheticSky(split or "train", cfg, seed=seed)


DATASETS.add("moving_mnist", _build_moving_mnist, description=MovingMNIST.description,
             splits=("train", "test"), default_split="train", embedded=True, config=MovingMNISTConfig)
DATASETS.add("synthetic_sky", _build_synthetic_sky, description=SyntheticSky.description,
             splits=("train", "test"), default_split="train", embedded=True, config=SyntheticSkyConfig)
