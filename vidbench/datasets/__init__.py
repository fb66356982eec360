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
from vidbench.datasets import layouts
from vidbench.datasets.base import Clip, VideoDataset, canonical_json, collate_clips, fingerprint_of
from vidbench.datasets.folder import ImageFolderDataset, Item, VideoFolderDataset
from vidbench.datasets.moving_mnist import MovingMNIST, MovingMNISTConfig
from vidbench.datasets.preprocess import ClipConfig, ImageConfig, video_to_tensor
from vidbench.datasets.synthetic_sky import SyntheticSky, SyntheticSkyConfig
from vidbench.registry import DATASETS, Entry

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
    "ClipConfig",
    "ImageConfig",
    "VideoFolderDataset",
    "ImageFolderDataset",
    "Item",
    "LAYOUTS",
    "collate_clips",
    "video_to_tensor",
]
LAYOUTS = layouts.LAYOUTS


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
    ``progress=False`` hides the probe progress bar of large real datasets.
    """
    entry = DATASETS.get(name)
    return entry.obj(split=split, num_frames=num_frames, size=size, seed=seed, data_root=data_root, **kw)


# ------------------------------------------------------------------------------------------------ embedded sets
def _build_moving_mnist(split=None, num_frames=16, size=64, seed=0, data_root=None, progress=True, **kw) -> MovingMNIST:
    cfg = make_config(MovingMNISTConfig, {"num_frames": num_frames, "size": size, **kw}, "moving_mnist")
    return MovingMNIST(split or "train", cfg, seed=seed)


def _build_synthetic_sky(split=None, num_frames=16, size=64, seed=0, data_root=None, progress=True, **kw) -> SyntheticSky:
    cfg = make_config(SyntheticSkyConfig, {"num_frames": num_frames, "size": size, **kw}, "synthetic_sky")
    return SyntheticSky(split or "train", cfg, seed=seed)


DATASETS.add("moving_mnist", _build_moving_mnist, description=MovingMNIST.description,
             splits=("train", "test"), default_split="train", embedded=True, config=MovingMNISTConfig)
DATASETS.add("synthetic_sky", _build_synthetic_sky, description=SyntheticSky.description,
             splits=("train", "test"), default_split="train", embedded=True, config=SyntheticSkyConfig)


# ------------------------------------------------------------------------------------------------ real video sets
def _clip_config(name: str, num_frames: int, size: int, kw: dict, **defaults) -> ClipConfig:
    return make_config(ClipConfig, {**defaults, "num_frames": num_frames, "size": size, **kw}, name)


def _build_ucf101(split=None, num_frames=16, size=64, seed=0, data_root=None, progress=True, **kw):
    split = split or "all"
    cfg = _clip_config("ucf101", num_frames, size, kw)
    root, items, classes = layouts.ucf101_items(data_root, split)
    return VideoFolderDataset("ucf101", split, root, items, cfg, seed=seed, layout=LAYOUTS["ucf101"],
                              classes=classes, expected=layouts.UCF101_EXPECTED.get(split), progress=progress)


# official video counts where the paper states them (completeness check in info())
EXPECTED_VIDEOS = {
    "faceforensics": {"train": 704},  # paper §4.1: "704 training videos"
    "sky_timelapse": {"train": 35392, "test": 2815},  # paper §4.1: clips for training / testing
}
# resolution the paper trains/evaluates each dataset at (§4.1, §4.2, §4.3); build_dataset's size= is explicit
PAPER_SIZE = {"ucf101": 256, "faceforensics": 256, "sky_timelapse": 128, "voxceleb": 256, "ffhq": 256,
              "afhq_dog": 512, "animefaces": 512, "lsun_church": 256}


def _split_folder_builder(name: str, items_fn):
    def build(split=None, num_frames=16, size=64, seed=0, data_root=None, progress=True, **kw):
        cfg = _clip_config(name, num_frames, size, kw)
        root, items, split = items_fn(data_root, split)
        return VideoFolderDataset(name, split, root, items, cfg, seed=seed, layout=LAYOUTS[name], progress=progress,
                                  expected=EXPECTED_VIDEOS.get(name, {}).get(split))

    build.__name__ = f"_build_{name}"
    return build


def _image_builder(name: str, expected: dict | None = None):
    def build(split=None, num_frames=1, size=64, seed=0, data_root=None, progress=True, **kw):
        cfg = make_config(ImageConfig, {"size": size, **kw}, name)
        root, items, split = layouts.image_items(name, data_root, split or "train")
        return ImageFolderDataset(name, split, root, items, cfg, seed=seed, layout=LAYOUTS[name],
                                  expected=(expected or {}).get(split))

    build.__name__ = f"_build_{name}"
    return build


def build_folder(path: str, split=None, num_frames=16, size=64, seed=0, data_root=None, progress=True, **kw):
    """``folder:PATH``: any tree of videos / frame folders. Defaults differ from the training sets: every frame
    (stride 1) from the first one (sampling first), keeping videos with >= (T-1)*stride+1 frames."""
    cfg = _clip_config("folder", num_frames, size, kw, stride=1, sampling="first", length_rule="minimal")
    root, items = layouts.folder_items(path, split)
    ds = VideoFolderDataset(f"folder:{path}", split or "all", root, items, cfg, seed=seed, layout=LAYOUTS["folder"],
                            progress=progress)
    ds.fingerprint_name = "folder"  # the location of the tree is not part of its identity
    return ds


def _folder_resolver(name: str):
    if not name.startswith("folder:") or len(name) <= len("folder:"):
        return None
    path = name[len("folder:"):]

    def build(**kw):
        return build_folder(path, **kw)

    return Entry(name, build, f"videos under {path}", (), {"splits": ("all",), "default_split": "all"})


DATASETS.add("ucf101", _build_ucf101, description="UCF-101 action videos (13,320 .avi, 101 classes); splits all, "
             "train1..3, test1..3", splits=layouts.UCF101_SPLITS, default_split="all", config=ClipConfig,
             layout=LAYOUTS["ucf101"], paper_size=PAPER_SIZE["ucf101"])
for _name, _fn, _splits, _desc in (
    ("faceforensics", layouts.faceforensics_items, ("train", "test", "all"),
     "FaceForensics talking-face videos (videos or frame folders in train/ and test/)"),
    ("sky_timelapse", layouts.sky_items, ("train", "test", "all"),
     "Sky Time-lapse (official sky_train/ and sky_test/ nested frame folders)"),
    ("voxceleb", layouts.voxceleb_items, ("dev", "train", "test", "all"),
     "VoxCeleb talking-head videos (mp4 tree, dev/ and test/)"),
    ("tlvdb", layouts.tlvdb_items, ("train", "test", "all"), "Time-Lapse Video DataBase (train/ and test/ folders)"),
):
    DATASETS.add(_name, _split_folder_builder(_name, _fn), description=_desc, splits=_splits, default_split="train",
                 config=ClipConfig, layout=LAYOUTS[_name], paper_size=PAPER_SIZE.get(_name))
for _name, _splits, _desc, _expected in (
    ("ffhq", ("train",), "FFHQ faces (image set, 70,000 images; clips with T=1)", {"train": 70000}),
    ("afhq_dog", ("train", "val", "all"), "AFHQ dog images (image set; clips with T=1)", {"train": 4739, "val": 500}),
    ("lsun_church", ("train",), "LSUN church_outdoor exported as images (image set; clips with T=1)", None),
    ("animefaces", ("train",), "Anime face images (image set; clips with T=1)", None),
):
    DATASETS.add(_name, _image_builder(_name, _expected), description=_desc, splits=_splits, default_split="train",
                 config=ImageConfig, layout=LAYOUTS[_name], kind="images", paper_size=PAPER_SIZE.get(_name))
DATASETS.add_resolver("folder:PATH", _folder_resolver)
