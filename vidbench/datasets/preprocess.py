"""Clip preprocessing of real videos, as the MoCoGAN-HD loader (``data/video_dataset.py`` @27356ba, FACTS §4).

Order of operations for item ``i`` (random draws from ``default_rng([seed, epoch, i])``):

1. **Temporal window.** ``T = num_frames`` frames at ``stride`` (official ``time_step`` 2): frames
   ``start, start + stride, …, start + (T-1)·stride``. ``length_rule="official"`` keeps only videos with
   ``#frames > T·stride`` and draws ``start ~ U{0, …, #frames - 1 - T·stride}`` (inclusive) exactly as the release;
   ``"minimal"`` keeps videos with ``#frames ≥ (T-1)·stride + 1`` and ``start ∈ {0, …, #frames - (T-1)·stride - 1}``.
   ``sampling="random"`` (training, official) draws the start; ``"first"`` uses start 0 and ``"center"`` the middle
   window (deterministic evaluation clips).
2. **Spatial crop.** ``crop="center"``: the centred ``min(H, W)`` square (the crop box comes from the first frame's
   size, as the release). UCF-101's 320×240 → 240×240 (paper §4.1). ``"none"``: keep the full frame (aspect changes).
3. **Resize** each frame to ``size×size`` with PIL and the ``resize_filter`` (default ``lanczos`` = PIL
   ``ANTIALIAS``, the release's filter). The filter is a config field, hence part of the dataset fingerprint.
4. **Flip.** ``hflip=True`` mirrors the whole clip left-right with probability ½ (drawn per item). The release does
   not flip; off by default.

Output: uint8 [T, size, size, 3] (the interchange format; ``[-1, 1]`` scaling is the model's business).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from vidbench.errors import VidbenchError, VideoReadError
from vidbench.video import VIDEO_EXTS, frame_files

RESIZE_FILTERS = ("lanczos", "bicubic", "bilinear", "area", "nearest")


@dataclass(frozen=True)
class ClipConfig:
    """Preprocessing of real video datasets (defaults: MoCoGAN-HD release, FACTS §4; paper §4.1, App. B)."""

    num_frames: int = 16  # T = n_frames_G (paper §4: 16-frame videos)
    stride: int = 2  # time_step: every other frame (App. B "32 consecutive frames, every other frame")
    sampling: Literal["random", "first", "center"] = "random"  # clip start: seeded random (train) / fixed (eval)
    length_rule: Literal["official", "minimal"] = "official"  # official: keep #frames > T*stride
    crop: Literal["center", "none"] = "center"  # centre square crop (UCF-101: 240×240 of 320×240, §4.1)
    size: int = 128  # output side (128 for the video models, 256 for UCF image generator, §4.1)
    resize_filter: Literal["lanczos", "bicubic", "bilinear", "area", "nearest"] = "lanczos"  # release: ANTIALIAS
    hflip: bool = False  # random horizontal flip per clip (release: none)
    max_videos: int = 0  # 0 = all; N = the first N videos of the (sorted) split

    def validate(self) -> None:
        if self.num_frames < 1 or self.stride < 1 or self.size < 1:
            raise VidbenchError(f"num_frames, stride and size must be >= 1 (got {self.num_frames}, {self.stride}, "
                                f"{self.size})")

    def frames_needed(self) -> int:
        """Minimum source length a video must have to be kept."""
        if self.length_rule == "official":
            return self.num_frames * self.stride + 1  # release keeps len > T*stride
        return (self.num_frames - 1) * self.stride + 1

    def max_start(self, length: int) -> int:
        """Largest allowed clip start for a video of ``length`` frames (-1: too short)."""
        if length < self.frames_needed():
            return -1
        if self.length_rule == "official":
            return length - 1 - self.num_frames * self.stride
        return length - (self.num_frames - 1) * self.stride - 1

    def choose_start(self, length: int, rng: np.random.Generator) -> int:
        hi = self.max_start(length)
        if hi < 0:
            raise VideoReadError(f"video of {length} frames is shorter than the {self.frames_needed()} needed")
        if self.sampling == "random":
            return int(rng.integers(0, hi + 1))
        if self.sampling == "center":
            return hi // 2
        return 0


@dataclass(frozen=True)
class ImageConfig:
    """Preprocessing of image datasets (image-generator training): centre crop + resize; items are clips with T=1."""

    size: int = 256  # output side (StyleGAN2 FFHQ 256 in the paper's cross-domain setting)
    crop: Literal["center", "none"] = "center"
    resize_filter: Literal["lanczos", "bicubic", "bilinear", "area", "nearest"] = "lanczos"
    hflip: bool = False  # x-flip augmentation (StyleGAN2 --mirror); off by default
    max_videos: int = 0  # 0 = all; N = the first N images

    @property
    def num_frames(self) -> int:
        return 1

    def validate(self) -> None:
        if self.size < 1:
            raise VidbenchError(f"size must be >= 1, got {self.size}")


def video_to_tensor(video: np.ndarray):
    """uint8 [T, H, W, 3] -> float32 torch tensor [T, 3, H, W] in [-1, 1]: x/255·2 − 1, the release's scaling."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float()  # [T, 3, H, W]
    return x / 255.0 * 2.0 - 1.0


def pil_filter(name: str):
    from PIL import Image

    table = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "area": Image.BOX,
             "nearest": Image.NEAREST}
    if name not in table:
        raise VidbenchError(f"unknown resize_filter {name!r}; choose one of {', '.join(RESIZE_FILTERS)}")
    return table[name]


def center_square_box(h: int, w: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centred min(h, w) square, PIL convention (the release's crop box)."""
    s = min(h, w)
    left, top = (w - s) // 2, (h - s) // 2
    return left, top, left + s, top + s


def crop_resize_frames(frames: np.ndarray, *, size: int, crop: str, resize_filter: str) -> np.ndarray:
    """uint8 [T, H, W, 3] -> centre-cropped (optional) and PIL-resized uint8 [T, size, size, 3]."""
    from PIL import Image

    h, w = frames.shape[1:3]
    box = center_square_box(h, w) if crop == "center" else (0, 0, w, h)
    flt = pil_filter(resize_filter)
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for t, f in enumerate(frames):
        im = Image.fromarray(f)
        if box != (0, 0, w, h):
            im = im.crop(box)
        if im.size != (size, size):
            im = im.resize((size, size), flt)
        out[t] = np.asarray(im.convert("RGB"))
    return out


# ------------------------------------------------------------------------------------------------ partial reads
def read_frame_indices(path: Path, indices: list[int]) -> np.ndarray:
    """Decode only frames ``indices`` (sorted, increasing) of a video file or frame folder -> uint8 [len, H, W, 3].

    Frame folders load just those images; video files are decoded sequentially and decoding stops after the last
    needed frame. Raises :class:`VideoReadError` naming the file when it has fewer frames than asked.
    """
    from PIL import Image

    if path.is_dir():
        files = frame_files(path)
        if indices and indices[-1] >= len(files):
            raise VideoReadError(f"{path}: has {len(files)} frames, frame {indices[-1]} was asked")
        out = []
        for i in indices:
            try:
                with Image.open(files[i]) as im:
                    out.append(np.asarray(im.convert("RGB")))
            except Exception as e:
                raise VideoReadError(f"{files[i]}: cannot read image ({e})") from None
        return np.stack(out)
    if path.suffix.lower() in VIDEO_EXTS:
        import av

        want = set(indices)
        last = indices[-1]
        got: dict[int, np.ndarray] = {}
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for k, frame in enumerate(container.decode(stream)):
                    if k in want:
                        got[k] = frame.to_ndarray(format="rgb24")
                    if k >= last:
                        break
        except Exception as e:
            raise VideoReadError(f"{path}: cannot decode video ({type(e).__name__}: {e})") from None
        if len(got) < len(want):
            raise VideoReadError(f"{path}: decoded only {max(got, default=-1) + 1} frames, frame {last} was asked")
        return np.stack([got[i] for i in indices])
    from vidbench.video import read_video

    frames = read_video(path)
    if indices and indices[-1] >= len(frames):
        raise VideoReadError(f"{path}: has {len(frames)} frames, frame {indices[-1]} was asked")
    return frames[indices]


def count_frames(path: Path) -> tuple[int, float | None, tuple[int, int] | None]:
    """(#frames, fps, (H, W) or None) from container metadata (decodes only when the container has no count)."""
    if path.is_dir():
        return len(frame_files(path)), None, None
    ext = path.suffix.lower()
    if ext in VIDEO_EXTS:
        import av

        try:
            with av.open(str(path)) as c:
                if not c.streams.video:
                    raise VideoReadError(f"{path}: no video stream")
                s = c.streams.video[0]
                fps = float(s.average_rate) if s.average_rate else None
                hw = (int(s.codec_context.height), int(s.codec_context.width))
                n = int(s.frames or 0)
                if n <= 0:  # no count in the container (webm, some mkv/gif): decode to count
                    n = sum(1 for _ in c.decode(s))
                return n, fps, hw
        except VideoReadError:
            raise
        except Exception as e:
            raise VideoReadError(f"{path}: cannot open video ({type(e).__name__}: {e})") from None
    if ext in (".npy", ".npz"):
        from vidbench.video import read_video

        v = read_video(path)
        return len(v), None, (v.shape[1], v.shape[2])
    raise VideoReadError(f"{path}: not a video file or frame folder")
