"""Moving MNIST, generated offline from real handwritten digits (no download).

Generative process of item ``i`` (a pure function of ``(seed, split, i)`` and the config; Srivastava et al., 2015,
"Unsupervised Learning of Video Representations using LSTMs", §3 / their released generator, re-specified here):

1. **Digit pool.** Default source: the 1,797 real handwritten digits shipped with scikit-learn
   (``sklearn.datasets.load_digits``: UCI "Optical Recognition of Handwritten Digits", 8×8, grey levels 0..16).
   A fixed permutation (seed ``DIGIT_SPLIT_SEED``) splits them into disjoint pools: 1,500 ``train`` digits and 297
   ``test`` digits. Each 8×8 digit is scaled to 0..255 and upsampled with PIL **bicubic** interpolation (the
   ``interpolation`` field) to a ``box``×``box`` square (20×20 at size 64, as MNIST fits digits in a 20×20 box), clipped
   to [0, 255] and zero-padded to ``digit_size``×``digit_size`` (28×28 at size 64, MNIST's frame). Sizes scale with
   ``size/64``. With ``source="mnist"`` and ``mnist_path`` the pools are MNIST's own train/test images (28×28,
   resized to ``digit_size`` when size != 64).
2. **Trajectories.** ``num_digits`` (2) digits are drawn uniformly from the split's pool. Each starts at a uniform
   integer-free position ``p0 ∈ [0, size - digit_size]²`` with a uniform direction θ ~ U[0, 2π) and a speed
   ``s ~ U[speed_min, speed_max]·size/64`` px/frame; ``p_{t+1} = p_t + v``. **Bounces**: a coordinate that leaves
   ``[0, size - digit_size]`` is reflected about the wall and that velocity component changes sign.
3. **Composition.** Each frame is black; every digit is pasted at ``round(p_t)`` and overlapping digits are combined
   by the pixel-wise **maximum** (no additive saturation). The grey frame is repeated to 3 channels: uint8
   [T, size, size, 3].

Each item uses its own random stream ``default_rng([seed, split_code, i])``, so items are generated lazily in any
order (nothing is stored) and identical across runs and processes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from vidbench.datasets.base import Clip, VideoDataset, item_rng
from vidbench.errors import VidbenchError

DIGIT_SPLIT_SEED = 20210111  # fixed permutation of the 1,797 sklearn digits into train/test pools
N_TRAIN_DIGITS = 1500  # sklearn digits 0..1499 of the permutation -> train pool; the remaining 297 -> test pool
SPLIT_CODES = {"train": 0, "test": 1}
DEFAULT_NUM_VIDEOS = {"train": 10_000, "test": 1_000}
_PIL_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos")


@dataclass(frozen=True)
class MovingMNISTConfig:
    num_frames: int = 16  # frames per clip (MoCoGAN-HD trains on 16-frame clips)
    size: int = 64  # canvas side (Srivastava et al. 2015 use 64×64); 128 supported
    stride: int = 1  # keep every stride-th generated frame (same option name as the real datasets)
    num_digits: int = 2  # digits per video (Srivastava et al. 2015)
    num_videos: int = 0  # 0 -> 10,000 (train) / 1,000 (test); generated lazily
    digit_size: int = 0  # pasted digit frame; 0 -> round(28 * size / 64) (MNIST's 28×28 at 64×64)
    box_size: int = 0  # digit box inside the frame; 0 -> round(20 * size / 64) (MNIST's 20×20 box)
    speed_min: float = 2.0  # px/frame at size 64 (scaled by size/64)
    speed_max: float = 5.0
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos"] = "bicubic"  # 8×8 -> box upsampling filter
    source: Literal["sklearn", "mnist"] = "sklearn"  # digit pool: sklearn's real 8×8 digits, or MNIST files
    mnist_path: str = ""  # keras-style mnist.npz or a folder with the 4 idx(.gz) files (source="mnist")


# -------------------------------------------------------------------------------------------------- digit pools
@lru_cache(maxsize=1)
def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 sklearn digits: images float [1797, 8, 8] in 0..16 and labels [1797]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32), d.target.astype(np.int64)


def sklearn_split_indices(split: str) -> np.ndarray:
    """Indices into :func:`sklearn_digits` of the ``train`` or ``test`` pool (disjoint, fixed)."""
    images, _ = sklearn_digits()
    perm = np.random.default_rng(DIGIT_SPLIT_SEED).permutation(len(images))
    return np.sort(perm[:N_TRAIN_DIGITS] if split == "train" else perm[N_TRAIN_DIGITS:])


def _pil_filter(name: str):
    from PIL import Image

    return {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
            "lanczos": Image.LANCZOS}[name]


def _resize_float(img: np.ndarray, side: int, interpolation: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((side, side), _pil_filter(interpolation)))


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise VidbenchError(f"{path}: not an IDX uint8 file (MNIST format)")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(path: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images uint8 [N,28,28] and labels of ``split`` from keras' ``mnist.npz`` or the official idx files."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix == ".npz":
        with np.load(p) as z:
            key = "x_train" if split == "train" else "x_test"
            lab = "y_train" if split == "train" else "y_test"
            if key not in z.files:
                raise VidbenchError(f"{p}: expected keys x_train/x_test (keras mnist.npz), found {z.files}")
            return z[key], z[lab] if lab in z.files else np.full(len(z[key]), -1)
    if p.is_dir():
        stem = "train" if split == "train" else "t10k"
        for suf in ("", ".gz"):
            img = p / f"{stem}-images-idx3-ubyte{suf}"
            lab = p / f"{stem}-labels-idx1-ubyte{suf}"
            if img.exists():
                labels = _read_idx(lab) if lab.exists() else np.full(0, -1)
                return _read_idx(img), labels
    raise VidbenchError(
        f"MNIST not found at {p}: pass mnist_path=<keras mnist.npz> or a folder holding "
        "train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz] (and the labels files)"
    )


@lru_cache(maxsize=8)
def digit_pool(split: str, digit_size: int, box_size: int, interpolation: str, source: str = "sklearn",
               mnist_path: str = "") -> tuple[np.ndarray, np.ndarray, str]:
    """Pasteable digits uint8 [N, digit_size, digit_size], their labels, and a hash of the pool's pixels."""
    if source == "sklearn":
        images, labels = sklearn_digits()
        idx = sklearn_split_indices(split)
        pad0 = (digit_size - box_size) // 2
        pool = np.zeros((len(idx), digit_size, digit_size), np.uint8)
        for k, j in enumerate(idx):
            up = _resize_float(images[j] * (255.0 / 16.0), box_size, interpolation)
            pool[k, pad0:pad0 + box_size, pad0:pad0 + box_size] = np.clip(np.round(up), 0, 255).astype(np.uint8)
        labels = labels[idx]
    elif source == "mnist":
        if not mnist_path:
            raise VidbenchError("moving_mnist source='mnist' needs mnist_path=<mnist.npz or idx folder>")
        raw, labels = load_mnist(mnist_path, split)
        if digit_size == raw.shape[1]:
            pool = raw.astype(np.uint8)
        else:
            pool = np.stack([np.clip(np.round(_resize_float(d, digit_size, interpolation)), 0, 255)
                             for d in raw]).astype(np.uint8)
    else:
        raise VidbenchError(f"moving_mnist: unknown source {source!r}; use 'sklearn' or 'mnist'")
    return pool, np.asarray(labels), hashlib.sha256(pool.tobytes()).hexdigest()[:16]


# -------------------------------------------------------------------------------------------------- generation
def bounce_trajectory(p0: np.ndarray, v0: np.ndarray, num_frames: int, limit: float) -> np.ndarray:
    """Positions [T, 2] of a point moving at constant velocity inside [0, limit]², reflected at the walls."""
    pos = np.empty((num_frames, 2), np.float64)
    p, v = p0.astype(np.float64).copy(), v0.astype(np.float64).copy()
    for t in range(num_frames):
        pos[t] = p
        p = p + v
        for d in range(2):
            if p[d] < 0:
                p[d], v[d] = -p[d], -v[d]
            elif p[d] > limit:
                p[d], v[d] = 2 * limit - p[d], -v[d]
            p[d] = min(max(p[d], 0.0), limit)  # a speed > limit could overshoot twice; keep inside
    return pos


def render_moving_digits(digits: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """Paste digits [K, d, d] at rounded positions [K, T, 2] (row, col) with max-composition -> uint8 [T, S, S, 3]."""
    K, T = positions.shape[:2]
    d = digits.shape[1]
    canvas = np.zeros((T, size, size), np.uint8)
    rc = np.round(positions).astype(int)
    for k in range(K):
        for t in range(T):
            r, c = rc[k, t]
            view = canvas[t, r:r + d, c:c + d]
            np.maximum(view, digits[k], out=view)
    return np.repeat(canvas[..., None], 3, axis=-1)


class MovingMNIST(VideoDataset):
    """Two real handwritten digits bouncing in a 64×64 (or 128×128) canvas; generated offline, lazily, seeded."""

    description = "Moving MNIST (embedded): 2 real sklearn/MNIST digits bouncing, max-composited, seeded per item"

    def __init__(self, split: str = "train", config: MovingMNISTConfig = MovingMNISTConfig(), seed: int = 0):
        super().__init__()
        if split not in SPLIT_CODES:
            raise VidbenchError(f"moving_mnist: unknown split {split!r}; choose train or test")
        if config.size < 16:
            raise VidbenchError(f"moving_mnist: size must be >= 16, got {config.size}")
        if config.num_frames < 1 or config.num_digits < 1 or config.stride < 1:
            raise VidbenchError("moving_mnist: num_frames, num_digits and stride must be >= 1")
        self.name, self.split, self.seed = "moving_mnist", split, int(seed)
        self.config = config
        self.fps = 10.0  # nominal playback rate of the generated clips
        self.digit_size = config.digit_size or int(round(28 * config.size / 64))
        self.box_size = config.box_size or int(round(20 * config.size / 64))
        if not 0 < self.box_size <= self.digit_size < config.size:
            raise VidbenchError(f"moving_mnist: need 0 < box_size <= digit_size < size "
                                f"(got {self.box_size}, {self.digit_size}, {config.size})")
        self._n = config.num_videos or DEFAULT_NUM_VIDEOS[split]

    def _pool(self):
        c = self.config
        return digit_pool(self.split, self.digit_size, self.box_size, c.interpolation, c.source, c.mnist_path)

    def __len__(self) -> int:
        return self._n

    def sample_parameters(self, index: int) -> dict:
        """The random draws of item ``index``: digit pool indices, start positions (row, col), velocities."""
        c = self.config
        pool, _, _ = self._pool()
        rng = item_rng(self.seed, SPLIT_CODES[self.split], index)
        which = rng.integers(0, len(pool), size=c.num_digits)
        limit = c.size - self.digit_size
        p0 = rng.uniform(0, limit, size=(c.num_digits, 2))
        theta = rng.uniform(0, 2 * np.pi, size=c.num_digits)
        speed = rng.uniform(c.speed_min, c.speed_max, size=c.num_digits) * c.size / 64.0
        v0 = np.stack([speed * np.sin(theta), speed * np.cos(theta)], axis=1)
        return {"digits": which, "p0": p0, "v0": v0, "limit": float(limit)}

    def _get(self, index: int) -> Clip:
        c = self.config
        pool, labels, _ = self._pool()
        prm = self.sample_parameters(index)
        n_gen = (c.num_frames - 1) * c.stride + 1
        pos = np.stack([bounce_trajectory(prm["p0"][k], prm["v0"][k], n_gen, prm["limit"])
                        for k in range(c.num_digits)])[:, :: c.stride]  # [K, T, 2]
        video = render_moving_digits(pool[prm["digits"]], pos, c.size)  # uint8 [T, S, S, 3]
        meta = {"digit_pool_index": prm["digits"].tolist(), "digit_labels": labels[prm["digits"]].tolist(),
                "positions": np.round(pos).astype(int).tolist(), "digit_size": self.digit_size}
        return Clip(id=f"{self.split}/{index:06d}", video=video, label=None, meta=meta)

    def _source_manifest(self):
        c = self.config
        _, _, pool_hash = self._pool()
        src = {"pool": c.source, "pool_sha256_16": pool_hash, "digit_size": self.digit_size, "box": self.box_size,
               "num_videos": self._n}
        if c.source == "mnist":
            src["mnist_file"] = Path(c.mnist_path).name
        return src

    def extra_info(self) -> dict:
        pool, _, _ = self._pool()
        return {"source": f"{self.config.source} digits ({len(pool)} in the {self.split} pool)",
                "generated": True, "digit_size": self.digit_size}
