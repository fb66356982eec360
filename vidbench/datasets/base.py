"""Dataset core: the :class:`Clip` item, the :class:`VideoDataset` base class and fingerprints.

Every dataset is a map-style collection of clips::

    ds = build_dataset("moving_mnist", split="train", num_frames=16, size=64, seed=0)
    len(ds)                 # number of videos
    clip = ds[3]            # Clip(id="train/000003", video=uint8 [T,H,W,3])
    ds.fingerprint()        # 16 hex: hash of the file list + sizes + every preprocessing field
    ds.info()               # dict: name, split, num_videos, num_frames, resolution, fps, fingerprint, preprocessing

Item ``i`` is a pure function of ``(config, seed, epoch, i)``: random choices (clip start, flips, generated content)
use ``numpy.random.default_rng([seed, epoch, i])``-style seed sequences, never global state, so datasets can be
indexed in any order, from several worker processes, and give the same clips.

The fingerprint identifies *what a metric sees*: the source files (relative paths and byte sizes, not the absolute
location of the data root) and all preprocessing fields (frames, stride, sampling, crop, size, resize filter, flips,
seed). Real-data statistics are cached under this fingerprint, so anything that changes the pixels changes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

FINGERPRINT_VERSION = 1  # bump when the way clips are produced changes for the same config


@dataclass(frozen=True, eq=False)
class Clip:
    """One dataset item: ``video`` is uint8 ``[T, H, W, 3]`` (T=1 for image datasets)."""

    id: str
    video: np.ndarray
    label: int | None = None  # class index where the dataset has classes (UCF-101, AFHQ), else None
    meta: dict = field(default_factory=dict)  # item facts (source path, start frame, flip, generated parameters)


def canonical_json(obj: Any) -> str:
    """Sorted-key compact JSON of plain data and dataclasses (the input of every fingerprint)."""

    def default(o):
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, (np.floating,)):
            return float(o)
        if isinstance(o, (tuple, set, frozenset)):
            return list(o)
        return str(o)

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=default)


def fingerprint_of(obj: Any, n_hex: int = 16) -> str:
    """First ``n_hex`` hex digits of sha256 over :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()[:n_hex]


def item_rng(seed: int, *keys: int) -> np.random.Generator:
    """The random generator of one item: a numpy SeedSequence over ``(seed, *keys)`` (order-independent indexing)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *[int(k) & 0xFFFFFFFF for k in keys]])


class VideoDataset:
    """Base class: subclasses set ``name``, ``split``, ``config`` and implement ``__len__``, ``_get`` and
    ``_source_manifest`` (what identifies the source data for the fingerprint)."""

    name: str = ""
    split: str = ""
    config: Any = None
    seed: int = 0
    fps: float | None = None  # source frame rate (frames per second) where known
    description: str = ""

    def __init__(self) -> None:
        self.epoch = 0
        self._fingerprint: str | None = None

    # -------------------------------------------------------------------- item access
    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get(self, index: int) -> Clip:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int) -> Clip:
        n = len(self)
        if isinstance(index, (np.integer,)):
            index = int(index)
        if not isinstance(index, int):
            raise TypeError(f"{self.name}: index must be an int, got {type(index).__name__}")
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"{self.name}[{self.split}]: index {index} out of range for {n} videos")
        return self._get(index)

    def __iter__(self) -> Iterator[Clip]:
        for i in range(len(self)):
            yield self[i]

    # -------------------------------------------------------------------- evaluation clips (datasets/clips.py)
    def source_length(self, index: int) -> int | None:
        """Frames of source video ``index`` a clip window can start in; None: the video is rendered as one clip
        (generated datasets), so its only start is 0."""
        return None

    def video_id(self, index: int) -> str:
        """Stable id of source video ``index`` (what ``real_clips.jsonl`` lists)."""
        return self[index].id

    def read_window(self, index: int, start: int) -> np.ndarray:
        """uint8 [T, S, S, 3]: the clip of video ``index`` starting at source frame ``start`` (config stride, frames,
        crop, resize); datasets without source frames accept only start 0."""
        if start != 0:
            raise ValueError(f"{self.name}: videos are rendered as single clips; start must be 0, got {start}")
        return self[index].video

    def set_epoch(self, epoch: int) -> None:
        """Change the per-item random draws (clip start, flip) for a new training epoch; epoch 0 is the default."""
        self.epoch = int(epoch)

    def videos(self, indices) -> np.ndarray:
        """Stack the clips at ``indices`` into uint8 ``[N, T, H, W, 3]``."""
        return np.stack([self[int(i)].video for i in indices])

    # -------------------------------------------------------------------- identity
    def _source_manifest(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fingerprint(self) -> str:
        """16 hex of sha256 over (dataset name, split, source manifest, every preprocessing field, seed, version)."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint_of(
                {
                    "dataset": getattr(self, "fingerprint_name", None) or self.name,
                    "split": self.split,
                    "source": self._source_manifest(),
                    "config": self.config,
                    "seed": self.seed,
                    "version": FINGERPRINT_VERSION,
                }
            )
        return self._fingerprint

    @property
    def num_frames(self) -> int:
        return int(self.config.num_frames)

    @property
    def resolution(self) -> tuple[int, int]:
        return (int(self.config.size), int(self.config.size))

    def extra_info(self) -> dict:
        return {}

    def info(self) -> dict:
        """Plain-JSON summary (what `vidbench data inspect` prints)."""
        cfg = dataclasses.asdict(self.config) if dataclasses.is_dataclass(self.config) else dict(self.config or {})
        out = {
            "name": self.name,
            "split": self.split,
            "num_videos": len(self),
            "num_frames": self.num_frames,
            "resolution": list(self.resolution),
            "fps": self.fps,
            "fingerprint": self.fingerprint(),
            "seed": self.seed,
            "preprocessing": cfg,
        }
        out.update(self.extra_info())
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}[{self.split}] n={len(self)} T={self.num_frames} fp={self.fingerprint()}>"


def collate_clips(clips: list[Clip]) -> tuple[np.ndarray, list[str]]:
    """``collate_fn`` for a torch DataLoader over a dataset: (uint8 [B, T, H, W, 3], ids)."""
    return np.stack([c.video for c in clips]), [c.id for c in clips]


def warn_skipped(name: str, n_skipped: int, n_total: int, reason: str) -> None:
    """Never drop items silently: a warning here, and the count in ``info()``."""
    if n_skipped:
        warnings.warn(f"{name}: skipped {n_skipped} of {n_total} videos ({reason}); see info()['skipped']",
                      stacklevel=3)
