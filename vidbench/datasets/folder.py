"""Datasets backed by files: video trees (:class:`VideoFolderDataset`) and image trees (:class:`ImageFolderDataset`).

Both take an explicit item list (built by a layout function in :mod:`vidbench.datasets.layouts`), so the layout
rules of each dataset live in one place and the reading/preprocessing in another.

Building a video dataset probes every video's frame count (container metadata; frame folders are counted) to drop
too-short videos *before* training, as the release does — never silently: the count and examples are in
``info()["skipped"]`` and a warning is raised. Probes are cached under ``$VIDBENCH_CACHE/datasets/`` keyed by the
file list with sizes and modification times, so re-opening UCF-101 (13,320 files) is instant.
"""

from __future__ import annotations

import os
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vidbench.cache import atomic_write_json, cache_root
from vidbench.datasets.base import Clip, VideoDataset, fingerprint_of, item_rng, warn_skipped
from vidbench.datasets.preprocess import (
    ClipConfig,
    ImageConfig,
    count_frames,
    crop_resize_frames,
    read_frame_indices,
)
from vidbench.errors import VidbenchError, VideoReadError
from vidbench.video import _load_array, check_video_array, frame_files

INDEX_VERSION = 1


@dataclass(frozen=True)
class Item:
    """One source video (file or frame folder) or image: ``rel`` is its id (path relative to the dataset root)."""

    path: Path
    rel: str
    label: int | None = None
    index: int | None = None  # video number inside an array file of [N, T, H, W, C] (npz/npy collections)


def _file_stamp(path: Path) -> tuple[int, int]:
    """(bytes, mtime_ns) of a file, or of a frame folder (sum over its images, newest mtime)."""
    if path.is_dir():
        total, newest = 0, 0
        for f in frame_files(path):
            st = f.stat()
            total += st.st_size
            newest = max(newest, st.st_mtime_ns)
        return total, newest
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def probe_items(items: list[Item], root: Path, name: str, progress: bool = True) -> list[dict]:
    """Per item {rel, bytes, frames, fps, hw}, from the cache when the file list, sizes and mtimes are unchanged."""
    stamps = [_file_stamp(it.path) for it in items]
    key = fingerprint_of({"v": INDEX_VERSION, "root": str(root.resolve()),
                          "files": [[it.rel, s[0], s[1]] for it, s in zip(items, stamps)]}, 24)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:48]  # folder:/a/b -> folder_a_b
    cache_file = cache_root() / "datasets" / f"index-{safe}-{key}.json"
    if cache_file.exists():
        try:
            import json

            rows = json.loads(cache_file.read_text())
            if len(rows) == len(items):
                return rows
        except (OSError, ValueError):
            pass
    rows = []
    it = zip(items, stamps)
    if progress and len(items) > 200:
        it = tqdm(it, total=len(items), desc=f"{name}: probing videos", unit="video")
    array_shapes: dict[Path, tuple] = {}
    for item, (nbytes, _) in it:
        try:
            if item.index is not None:
                if item.path not in array_shapes:
                    array_shapes[item.path] = load_array_cached(item.path).shape
                shp = array_shapes[item.path]
                n, fps, hw = int(shp[1]), None, (int(shp[2]), int(shp[3]))
            else:
                n, fps, hw = count_frames(item.path)
            err = None
        except VideoReadError as e:
            n, fps, hw, err = 0, None, None, str(e)
        rows.append({"rel": item.rel, "bytes": nbytes, "frames": n, "fps": fps, "hw": list(hw) if hw else None,
                     "error": err})
    try:
        atomic_write_json(cache_file, rows)
    except OSError:  # a read-only cache is not fatal
        pass
    return rows


def load_array_cached(path: Path) -> np.ndarray:
    """A collection array [N, T, H, W, C] (npz/npy), kept in memory for the last file asked (npy: memory-mapped)."""
    global _ARRAY_CACHE
    if _ARRAY_CACHE is None or _ARRAY_CACHE[0] != path:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, mmap_mode="r")
        else:
            arr = _load_array(path)
        _ARRAY_CACHE = (path, arr)
    return _ARRAY_CACHE[1]


_ARRAY_CACHE: tuple[Path, np.ndarray] | None = None


class VideoFolderDataset(VideoDataset):
    """Clips from a list of video files / frame folders with the release's preprocessing (:class:`ClipConfig`)."""

    def __init__(self, name: str, split: str, root: Path, items: list[Item], config: ClipConfig, seed: int = 0,
                 layout: str = "", classes: list[str] | None = None, expected: int | None = None,
                 progress: bool = True):
        super().__init__()
        config.validate()
        self.name, self.split, self.root, self.config, self.seed = name, split, Path(root), config, int(seed)
        self.layout, self.classes, self.expected = layout, classes, expected
        if not items:
            raise VidbenchError(f"{name}[{split}]: no videos found under {root}. Expected layout: {layout}")
        rows = probe_items(items, self.root, name, progress=progress)
        need = config.frames_needed()
        keep, short, broken = [], [], []
        for item, row in zip(items, rows):
            if row["error"]:
                broken.append((item.rel, row["error"]))
            elif row["frames"] < need:
                short.append((item.rel, row["frames"]))
            else:
                keep.append((item, row))
        self.n_found = len(items)
        warn_skipped(f"{name}[{split}]", len(short), len(items),
                     f"fewer than {need} frames: the release keeps videos with > num_frames*stride frames"
                     if config.length_rule == "official" else f"fewer than {need} frames")
        warn_skipped(f"{name}[{split}]", len(broken), len(items), "cannot be opened")
        if config.max_videos:
            keep = keep[: config.max_videos]
        if not keep:
            raise VidbenchError(f"{name}[{split}]: all {len(items)} videos under {root} are too short or unreadable "
                                f"(need {need} frames for num_frames={config.num_frames}, stride={config.stride}, "
                                f"length_rule={config.length_rule}); e.g. {(short or broken)[:2]}")
        self.items = [k[0] for k in keep]
        self.rows = [k[1] for k in keep]
        self.skipped = {"too_short": len(short), "unreadable": len(broken), "need_frames": need,
                        "examples": [s[0] for s in short[:5]] + [b[0] for b in broken[:5]]}
        fps = [r["fps"] for r in self.rows if r["fps"]]
        self.fps = float(statistics.median(fps)) if fps else None

    def __len__(self) -> int:
        return len(self.items)

    def source_length(self, index: int) -> int | None:
        return int(self.rows[index]["frames"])

    def video_id(self, index: int) -> str:
        return self.items[index].rel

    def read_window(self, index: int, start: int) -> np.ndarray:
        if not 0 <= start <= self.source_length(index) - ((self.config.num_frames - 1) * self.config.stride + 1):
            raise ValueError(f"{self.name}: start {start} does not fit a clip in {self.items[index].rel}")
        return self._read(index, start)[0]

    def _get(self, index: int) -> Clip:
        c = self.config
        item = self.items[index]
        rng = item_rng(self.seed, self.epoch, index)
        video, start = self._read(index, c.choose_start(self.rows[index]["frames"], rng))
        flip = bool(c.hflip and rng.random() < 0.5)
        if flip:
            video = np.ascontiguousarray(video[:, :, ::-1])
        return Clip(id=item.rel, video=video, label=item.label,
                    meta={"path": str(item.path), "start": start, "stride": c.stride, "flip": flip,
                          "source_frames": self.rows[index]["frames"]})

    def _read(self, index: int, start: int) -> tuple[np.ndarray, int]:
        """(uint8 [T, S, S, 3], start actually used) of the window at ``start`` (no flip)."""
        c = self.config
        item, row = self.items[index], self.rows[index]
        idx = [start + k * c.stride for k in range(c.num_frames)]
        try:
            if item.index is not None:
                frames = check_video_array(np.asarray(load_array_cached(item.path)[item.index]), item.rel)[idx]
            else:
                frames = read_frame_indices(item.path, idx)
        except VideoReadError:
            # container metadata over-counted the frames: decode everything and fit the window in the real length
            from vidbench.video import read_video

            allf = read_video(item.path)
            hi = c.max_start(len(allf))
            if hi < 0:
                raise VideoReadError(f"{item.path}: has {len(allf)} decodable frames (metadata said {row['frames']}), "
                                     f"fewer than the {c.frames_needed()} needed") from None
            start = min(start, hi)
            idx = [start + k * c.stride for k in range(c.num_frames)]
            frames = allf[idx]
        return crop_resize_frames(frames, size=c.size, crop=c.crop, resize_filter=c.resize_filter), start

    def _source_manifest(self):
        return {"files": [[r["rel"], r["bytes"], r["frames"]] for r in self.rows], "found": self.n_found}

    def extra_info(self) -> dict:
        frames = [r["frames"] for r in self.rows]
        hws = sorted({tuple(r["hw"]) for r in self.rows if r["hw"]})
        out = {
            "root": str(self.root),
            "layout": self.layout,
            "videos_found": self.n_found,
            "skipped": self.skipped,
            "source_frames": {"min": min(frames), "median": float(statistics.median(frames)), "max": max(frames)},
            "source_resolutions": [list(hw) for hw in hws[:5]] + (["..."] if len(hws) > 5 else []),
            "clip_fps": (self.fps / self.config.stride) if self.fps else None,
        }
        if self.classes is not None:
            out["num_classes"] = len(self.classes)
        if self.expected is not None:
            out["expected_videos"] = self.expected
            out["complete"] = self.n_found == self.expected
        return out


class ImageFolderDataset(VideoDataset):
    """Images of a tree as one-frame clips ``[1, size, size, 3]`` (image-generator training sets)."""

    def __init__(self, name: str, split: str, root: Path, items: list[Item], config: ImageConfig, seed: int = 0,
                 layout: str = "", expected: int | None = None):
        super().__init__()
        config.validate()
        self.name, self.split, self.root, self.config, self.seed = name, split, Path(root), config, int(seed)
        self.layout, self.expected = layout, expected
        if not items:
            raise VidbenchError(f"{name}[{split}]: no images found under {root}. Expected layout: {layout}")
        self.n_found = len(items)
        self.items = items[: config.max_videos] if config.max_videos else items
        self._sizes: list[int] | None = None
        self.fps = None

    def __len__(self) -> int:
        return len(self.items)

    def _get(self, index: int) -> Clip:
        from PIL import Image

        item = self.items[index]
        try:
            with Image.open(item.path) as im:
                frame = np.asarray(im.convert("RGB"))
        except Exception as e:
            raise VideoReadError(f"{item.path}: cannot read image ({e})") from None
        c = self.config
        video = crop_resize_frames(frame[None], size=c.size, crop=c.crop, resize_filter=c.resize_filter)
        rng = item_rng(self.seed, self.epoch, index)
        flip = bool(c.hflip and rng.random() < 0.5)
        if flip:
            video = np.ascontiguousarray(video[:, :, ::-1])
        return Clip(id=item.rel, video=video, label=item.label, meta={"path": str(item.path), "flip": flip})

    def _source_manifest(self):
        if self._sizes is None:
            self._sizes = [os.path.getsize(it.path) for it in self.items]
        return {"files": [[it.rel, s] for it, s in zip(self.items, self._sizes)], "found": self.n_found}

    def extra_info(self) -> dict:
        out = {"root": str(self.root), "layout": self.layout, "images_found": self.n_found, "kind": "images"}
        if self.expected is not None:
            out["expected_images"] = self.expected
            out["complete"] = self.n_found == self.expected
        return out
