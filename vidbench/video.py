"""Video I/O with PyAV: every reader returns uint8 RGB ``[T, H, W, C]``; every writer is atomic.

Readers: mp4/avi/webm/mkv/mov/gif (PyAV), folders of frames (png/jpg/jpeg/bmp, sorted by the number in the name, then
by name), ``.npy`` ([T,H,W,C] uint8) and ``.npz`` (key ``video``/``frames``/``arr_0``; [T,H,W,C] or [N,T,H,W,C]).
Frame selection (applied after decoding, and recorded by callers): ``start`` (first frame), ``stride`` (every k-th),
``num_frames`` (how many), ``fps`` (resample in time to a target rate by nearest earlier frame, before stride).
Writers: mp4 (H.264 yuv420p when the encoder exists, else MPEG-4 Part 2), gif, a folder of png frames, npz.

Collections (``iter_videos``): a folder of videos and/or frame folders, one ``.npz``/``.npy`` of [N,T,H,W,C], or a
single video file; each item has a stable id (its relative path, or ``file.npz#i``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from vidbench.cache import atomic_path
from vidbench.errors import UnreadablePathError, VidbenchError, VideoReadError

VIDEO_EXTS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".gif", ".m4v", ".mpg", ".mpeg")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
ARRAY_EXTS = (".npy", ".npz")
NPZ_KEYS = ("video", "videos", "frames", "samples", "arr_0")
_SIZE_TAG = "vidbench:size="  # mp4 comment holding the true WxH of an odd-sized video padded for yuv420p


@dataclass(frozen=True)
class VideoInfo:
    path: str
    num_frames: int
    height: int
    width: int
    fps: float | None
    codec: str | None


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def is_frame_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in IMAGE_EXTS for p in path.iterdir())


def frame_files(path: Path) -> list[Path]:
    return sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS), key=lambda p: _natural_key(p.name))


def check_video_array(frames: np.ndarray, name: str = "video") -> np.ndarray:
    """Validate an interchange video: uint8 [T,H,W,3]. Raises one clear error naming ``name``."""
    if not isinstance(frames, np.ndarray):
        raise VideoReadError(f"{name}: expected a numpy array, got {type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        hint = ""
        if frames.ndim == 4 and frames.shape[1] in (1, 3):
            hint = "; this looks channels-first [T,C,H,W]: transpose it with x.transpose(0, 2, 3, 1)"
        raise VideoReadError(f"{name}: expected shape [T,H,W,3] (uint8 RGB), got {list(frames.shape)}{hint}")
    if frames.dtype != np.uint8:
        if np.issubdtype(frames.dtype, np.floating):
            bad = ~np.isfinite(frames)
            if bad.any():
                kinds = " and ".join(k for k, m in (("NaN", np.isnan(frames)), ("Inf", np.isinf(frames))) if m.any())
                raise VideoReadError(f"{name}: float frames contain {kinds} ({int(bad.sum())} values); "
                                     "fix the generator output, then convert to uint8 with vidbench.video.to_uint8")
            lo, hi = float(np.nanmin(frames)), float(np.nanmax(frames))
            raise VideoReadError(
                f"{name}: got float frames in [{lo:.3g}, {hi:.3g}]; convert to uint8 first, e.g. "
                "vidbench.video.to_uint8(x, source_range='-1,1') for generator output"
            )
        raise VideoReadError(f"{name}: expected dtype uint8, got {frames.dtype}")
    if frames.shape[0] == 0:
        raise VideoReadError(f"{name}: video has no frames")
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return frames


def to_uint8(x, source_range: str = "-1,1", mode: str = "round") -> np.ndarray:
    """Convert generator output to uint8 (PROTOCOLS.md "Video interchange format").

    mode ``round`` (default): round((x + 1) * 127.5) clamped; ``truncate``: MoCoGAN-HD release, floor((x+1)/2*255);
    ``styleganv``: x * 127.5 + 128 clamped then truncated. ``source_range`` "-1,1" or "0,1".
    """
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().float().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    x = np.asarray(x, dtype=np.float64)
    if source_range == "0,1":
        x = x * 2.0 - 1.0
    elif source_range != "-1,1":
        raise VidbenchError(f"source_range must be '-1,1' or '0,1', got {source_range!r}")
    if mode == "round":
        y = np.round((x + 1.0) * 127.5)
    elif mode == "truncate":
        y = np.floor(np.clip((x + 1.0) / 2.0 * 255.0, 0, 255))
    elif mode == "styleganv":
        y = np.floor(np.clip(x * 127.5 + 128.0, 0, 255))
    else:
        raise VidbenchError(f"unknown uint8 conversion mode {mode!r}; choose round, truncate or styleganv")
    return np.clip(y, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------- reading
def _unreadable(path: Path, e: OSError) -> UnreadablePathError:
    """One line for an OS-level read failure, named as such (never reported as 'no videos')."""
    what = "permission denied" if isinstance(e, PermissionError) else (e.strerror or type(e).__name__)
    fix = "; make it readable (chmod/chown) or run as its owner" if isinstance(e, PermissionError) else ""
    return UnreadablePathError(f"{e.filename or path}: cannot read: {what}{fix}")


def _check_readable(path: Path) -> None:
    """Open ``path`` from Python first so permission and I/O errors are named (PyAV's C open would hide them)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise _unreadable(path, e) from None


def _decode_av(path: Path) -> tuple[np.ndarray, float | None]:
    import av

    _check_readable(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(f"{path}: no video stream in file")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate) if stream.average_rate else None
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
            m = re.fullmatch(re.escape(_SIZE_TAG) + r"(\d+)x(\d+)", (container.metadata or {}).get("comment", ""))
            if m and frames:  # an odd-sized video we padded to even for yuv420p: crop back to the true size
                w, h = int(m.group(1)), int(m.group(2))
                frames = [f[:h, :w] for f in frames]
    except VideoReadError:
        raise
    except Exception as e:  # PyAV raises many error types (InvalidDataError, FFmpegError, ...)
        raise VideoReadError(f"{path}: cannot decode video ({type(e).__name__}: {e})") from None
    if not frames:
        raise VideoReadError(f"{path}: video has no decodable frames")
    if path.suffix.lower() == ".gif" and fps is None:
        fps = None
    return np.stack(frames), fps


def _read_frames_folder(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        files = frame_files(path)
    except OSError as e:
        raise _unreadable(path, e) from None
    if not files:
        raise VideoReadError(f"{path}: folder has no frame images ({', '.join(IMAGE_EXTS)})")
    out = []
    for f in files:
        try:
            with Image.open(f) as im:
                out.append(np.asarray(im.convert("RGB")))
        except OSError as e:
            if isinstance(e, PermissionError) or e.errno is not None:
                raise _unreadable(f, e) from None
            raise VideoReadError(f"{f}: cannot read image ({e})") from None
        except Exception as e:
            raise VideoReadError(f"{f}: cannot read image ({e})") from None
    shapes = {a.shape for a in out}
    if len(shapes) != 1:
        raise VideoReadError(f"{path}: frames have different sizes {sorted(shapes)}")
    return np.stack(out)


def _load_array(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as z:
            for k in NPZ_KEYS:
                if k in z.files:
                    return z[k]
            if len(z.files) == 1:
                return z[z.files[0]]
            raise VideoReadError(f"{path}: npz has keys {z.files}; store the video under one of {NPZ_KEYS}")
    except VideoReadError:
        raise
    except OSError as e:
        if e.errno is not None:
            raise _unreadable(path, e) from None
        raise VideoReadError(f"{path}: cannot load array ({type(e).__name__}: {e})") from None
    except Exception as e:
        raise VideoReadError(f"{path}: cannot load array ({type(e).__name__}: {e})") from None


def select_frames(
    frames: np.ndarray,
    *,
    start: int = 0,
    num_frames: int | None = None,
    stride: int = 1,
    src_fps: float | None = None,
    fps: float | None = None,
    name: str = "video",
) -> np.ndarray:
    """Apply the explicit decoding rules: temporal resampling to ``fps``, then ``start``, ``stride``, ``num_frames``."""
    if stride < 1 or start < 0:
        raise VidbenchError(f"{name}: stride must be >= 1 and start >= 0 (got stride={stride}, start={start})")
    if fps is not None:
        if src_fps is None:
            raise VideoReadError(f"{name}: target fps={fps} asked but the source frame rate is unknown")
        n_out = int(np.floor(len(frames) * fps / src_fps + 1e-9))
        idx = np.minimum(np.floor(np.arange(n_out) * src_fps / fps + 1e-9).astype(int), len(frames) - 1)
        frames = frames[idx]
    sel = frames[start::stride]
    if num_frames is not None:
        if len(sel) < num_frames:
            raise VideoReadError(
                f"{name}: needs {num_frames} frames (start={start}, stride={stride}) but only {len(sel)} are available"
                f" of {len(frames)}; use a longer video or fewer frames"
            )
        sel = sel[:num_frames]
    return sel


def read_video(
    path: str | os.PathLike,
    *,
    start: int = 0,
    num_frames: int | None = None,
    stride: int = 1,
    fps: float | None = None,
) -> np.ndarray:
    """Read one video as uint8 RGB [T,H,W,C] (see module docstring for formats and frame selection)."""
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"{path}: no such file or folder")
    src_fps = None
    if path.is_dir():
        frames = _read_frames_folder(path)
    else:
        ext = path.suffix.lower()
        if ext in ARRAY_EXTS:
            frames = _load_array(path)
            if frames.ndim == 5:
                if frames.shape[0] != 1:
                    raise VideoReadError(f"{path}: holds {frames.shape[0]} videos; use iter_videos() for a collection")
                frames = frames[0]
        elif ext in VIDEO_EXTS:
            if path.stat().st_size == 0:
                raise VideoReadError(f"{path}: file is empty")
            frames, src_fps = _decode_av(path)
        elif ext in IMAGE_EXTS:
            raise VideoReadError(f"{path}: a single image is not a video; pass the folder of frames instead")
        else:
            raise VideoReadError(
                f"{path}: unsupported file type {ext or '(none)'}; use one of {', '.join(VIDEO_EXTS + ARRAY_EXTS)}"
                " or a folder of frames"
            )
    frames = check_video_array(frames, str(path))
    return select_frames(frames, start=start, num_frames=num_frames, stride=stride, src_fps=src_fps, fps=fps,
                         name=str(path))


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Frame count, size, fps and codec (decodes the file: exact counts, not container metadata)."""
    path = Path(path)
    codec = None
    fps = None
    if path.is_file() and path.suffix.lower() in VIDEO_EXTS:
        import av

        try:
            with av.open(str(path)) as c:
                s = c.streams.video[0]
                codec = s.codec_context.name
                fps = float(s.average_rate) if s.average_rate else None
        except Exception as e:
            raise VideoReadError(f"{path}: cannot open video ({e})") from None
    v = read_video(path)
    return VideoInfo(str(path), int(v.shape[0]), int(v.shape[1]), int(v.shape[2]), fps, codec)


def list_videos(path: str | os.PathLike) -> list[Path]:
    """Videos under a folder: video/array files and leaf folders of frames, sorted naturally by relative path."""
    root = Path(path)
    if not root.exists():
        raise VideoReadError(f"{root}: no such file or folder")
    try:
        if root.is_file() or is_frame_folder(root):
            return [root]
    except OSError as e:
        raise _unreadable(root, e) from None
    found: list[Path] = []

    def walk_error(e: OSError):  # os.walk would otherwise skip an unreadable folder silently
        raise _unreadable(root, e)

    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_error):
        d = Path(dirpath)
        dirnames.sort(key=_natural_key)
        if any(Path(f).suffix.lower() in IMAGE_EXTS for f in filenames):
            found.append(d)
            dirnames[:] = []
            continue
        for f in filenames:
            if Path(f).suffix.lower() in VIDEO_EXTS + ARRAY_EXTS and not f.startswith("."):
                found.append(d / f)
    found.sort(key=lambda p: _natural_key(str(p.relative_to(root))))
    if not found:
        raise VideoReadError(f"{root}: no videos found (looked for {', '.join(VIDEO_EXTS + ARRAY_EXTS)} and frame folders)")
    return found


def iter_videos(
    path: str | os.PathLike,
    *,
    start: int = 0,
    num_frames: int | None = None,
    stride: int = 1,
    fps: float | None = None,
    limit: int | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(id, uint8 [T,H,W,C])`` for each video in a collection (folder, npz of [N,T,H,W,C], or one file)."""
    root = Path(path)
    count = 0
    for item in list_videos(root):
        ext = item.suffix.lower() if item.is_file() else ""
        rel = item.name if item == root else str(item.relative_to(root))
        if ext in ARRAY_EXTS:
            arr = _load_array(item)
            if arr.ndim == 5:
                for i in range(arr.shape[0]):
                    v = check_video_array(arr[i], f"{item}#{i}")
                    yield f"{rel}#{i}", select_frames(v, start=start, num_frames=num_frames, stride=stride,
                                                       name=f"{item}#{i}")
                    count += 1
                    if limit is not None and count >= limit:
                        return
                continue
        yield rel, read_video(item, start=start, num_frames=num_frames, stride=stride, fps=fps)
        count += 1
        if limit is not None and count >= limit:
            return


def count_videos(path: str | os.PathLike) -> int:
    n = 0
    for item in list_videos(path):
        if item.is_file() and item.suffix.lower() in ARRAY_EXTS:
            if item.suffix.lower() == ".npz":
                arr = _load_array(item)
            else:
                arr = np.load(item, mmap_mode="r")
            n += arr.shape[0] if arr.ndim == 5 else 1
        else:
            n += 1
    return n


# ---------------------------------------------------------------------------------------------------- writing
def _has_encoder(name: str) -> bool:
    import av

    try:
        av.codec.Codec(name, "w")
        return True
    except Exception:
        return False


def _write_av(path: Path, frames: np.ndarray, fps: float, crf: int) -> None:
    import av

    codec = "libx264" if _has_encoder("libx264") else ("h264" if _has_encoder("h264") else "mpeg4")
    h, w = frames.shape[1:3]
    padded = codec != "mpeg4" and bool(h % 2 or w % 2)
    if padded:  # yuv420p needs even sizes: pad by edge replication; the true size is stored and cropped on read
        frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    with av.open(str(path), mode="w", format="mp4") as container:
        if padded:
            container.metadata["comment"] = f"{_SIZE_TAG}{w}x{h}"
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "medium"}
        else:
            stream.bit_rate = 8_000_000
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_gif(path: Path, frames: np.ndarray, fps: float) -> None:
    from PIL import Image

    ims = [Image.fromarray(f) for f in frames]
    duration = max(int(round(1000.0 / fps)), 20)
    ims[0].save(path, format="GIF", save_all=True, append_images=ims[1:], duration=duration, loop=0, optimize=False)


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float = 10.0, *, crf: int = 15) -> Path:
    """Write uint8 [T,H,W,C] to ``.mp4`` (H.264 yuv420p), ``.gif``, ``.npz`` or a frame folder (no extension).

    Atomic: the file appears complete or not at all.
    """
    path = Path(path)
    frames = check_video_array(np.asarray(frames), str(path))
    if fps <= 0:
        raise VidbenchError(f"{path}: fps must be positive, got {fps}")
    ext = path.suffix.lower()
    if ext == ".mp4":
        with atomic_path(path) as tmp:
            _write_av(tmp, frames, fps, crf)
    elif ext == ".gif":
        with atomic_path(path) as tmp:
            _write_gif(tmp, frames, fps)
    elif ext == ".npz":
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, video=frames)
    elif ext == "":
        _write_frame_folder(path, frames)
    else:
        raise VidbenchError(f"{path}: cannot write {ext!r}; use .mp4, .gif, .npz or a folder path without extension")
    return path


def _write_frame_folder(path: Path, frames: np.ndarray) -> None:
    import shutil
    import tempfile

    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for i, f in enumerate(frames):
            Image.fromarray(f).save(tmp / f"{i:06d}.png")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_videos_npz(path: str | os.PathLike, videos: np.ndarray) -> Path:
    """Write a batch uint8 [N,T,H,W,C] as ``samples.npz`` (key ``video``), atomically."""
    videos = np.asarray(videos)
    if videos.ndim != 5 or videos.dtype != np.uint8:
        raise VidbenchError(f"{path}: expected uint8 [N,T,H,W,C], got {videos.dtype} {list(videos.shape)}")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, video=videos)
    return Path(path)
