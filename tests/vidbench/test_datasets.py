"""Embedded datasets (moving_mnist, synthetic_sky), build_dataset and the registry entries."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize
from sklearn.datasets import load_digits

from vidbench.config import ConfigError
from vidbench.datasets import Clip, build_dataset
from vidbench.datasets.moving_mnist import bounce_trajectory, render_moving_digits, sklearn_split_indices
from vidbench.registry import DATASETS


def _bbox_8x8(img: np.ndarray, thr: float) -> np.ndarray | None:
    ys, xs = np.nonzero(img > thr)
    if len(ys) == 0:
        return None
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float64)
    return resize(crop, (8, 8), order=1, anti_aliasing=True)


def _zscore(a: np.ndarray) -> np.ndarray:
    a = a.reshape(len(a), -1) if a.ndim == 3 else a.reshape(1, -1)
    a = a - a.mean(axis=1, keepdims=True)
    return a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-12)


@pytest.fixture(scope="module")
def sklearn_templates():
    """Every sklearn digit cropped to its own ink box and resized to 8×8 by skimage (independent of our upsampler)."""
    images = load_digits().images
    return _zscore(np.stack([_bbox_8x8(im, 16 * 30 / 255) for im in images]))


@pytest.mark.parametrize("name", ["moving_mnist", "synthetic_sky"])
@pytest.mark.parametrize("size", [64, 128])
def test_embedded_shapes_and_determinism(name, size):
    ds = build_dataset(name, split="train", num_frames=16, size=size, seed=0)
    clip = ds[5]
    assert isinstance(clip, Clip)
    assert clip.video.dtype == np.uint8 and clip.video.shape == (16, size, size, 3)
    again = build_dataset(name, split="train", num_frames=16, size=size, seed=0)[5]
    np.testing.assert_array_equal(clip.video, again.video)
    assert clip.id == again.id
    assert not np.array_equal(clip.video, ds[6].video)  # different index -> different clip
    other_seed = build_dataset(name, split="train", num_frames=16, size=size, seed=1)[5]
    assert not np.array_equal(clip.video, other_seed.video)
    # order-independent: reading 6 first does not change 5
    ds2 = build_dataset(name, split="train", num_frames=16, size=size, seed=0)
    _ = ds2[6]
    np.testing.assert_array_equal(ds2[5].video, clip.video)
    assert ds[-1].id == ds[len(ds) - 1].id
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_embedded_lengths_and_info():
    tr = build_dataset("moving_mnist", split="train")
    te = build_dataset("moving_mnist", split="test")
    assert len(tr) == 10_000 and len(te) == 1_000
    assert len(build_dataset("moving_mnist", num_videos=37)) == 37
    info = tr.info()
    for key in ("name", "split", "num_videos", "num_frames", "resolution", "fps", "fingerprint", "preprocessing"):
        assert key in info
    assert info["num_videos"] == 10_000 and info["resolution"] == [64, 64] and info["num_frames"] == 16
    assert info["fingerprint"] == tr.fingerprint() and len(tr.fingerprint()) == 16
    sky = build_dataset("synthetic_sky", split="test", num_frames=8, size=64)
    assert sky.info()["num_frames"] == 8 and sky[0].video.shape[0] == 8


def test_fingerprint_tracks_every_field():
    base = build_dataset("moving_mnist", size=64).fingerprint()
    assert build_dataset("moving_mnist", size=64).fingerprint() == base
    others = {
        build_dataset("moving_mnist", size=128).fingerprint(),
        build_dataset("moving_mnist", size=64, num_frames=8).fingerprint(),
        build_dataset("moving_mnist", size=64, interpolation="bilinear").fingerprint(),
        build_dataset("moving_mnist", size=64, seed=3).fingerprint(),
        build_dataset("moving_mnist", split="test", size=64).fingerprint(),
        build_dataset("synthetic_sky", size=64).fingerprint(),
    }
    assert base not in others and len(others) == 6


def test_unknown_option_lists_keys():
    with pytest.raises(ConfigError, match="interpolation"):
        build_dataset("moving_mnist", interpolaton="bicubic")
    with pytest.raises(Exception, match="train or test"):
        build_dataset("synthetic_sky", split="val")


def test_registry_lists_canonical_names():
    names = DATASETS.names()
    for n in ("moving_mnist", "synthetic_sky"):
        assert n in names
        assert DATASETS.get(n).description


def test_string_options_are_parsed():
    ds = build_dataset("moving_mnist", num_videos="12", speed_max="3.5")
    assert len(ds) == 12 and ds.config.speed_max == 3.5


# ------------------------------------------------------------------------------------------ moving mnist process
def test_bounce_trajectory_hand_case():
    # limit 10, start (0, 8), velocity (-3, 4): (0,8) -> (-3,12) reflected -> (3,8) v=(3,-4) -> (6,4) -> (9,0) -> (12,-4)
    # reflected -> (8, 4) v=(-3, 4)
    pos = bounce_trajectory(np.array([0.0, 8.0]), np.array([-3.0, 4.0]), 5, 10.0)
    np.testing.assert_allclose(pos, [[0, 8], [3, 8], [6, 4], [9, 0], [8, 4]])


def test_max_composition_hand_case():
    d = np.zeros((2, 3, 3), np.uint8)
    d[0] = [[10, 200, 0], [0, 50, 0], [0, 0, 0]]
    d[1] = [[0, 100, 0], [255, 60, 0], [0, 0, 7]]
    pos = np.zeros((2, 1, 2))
    pos[1, 0] = [1, 1]  # second digit one pixel down-right
    out = render_moving_digits(d, pos, 5)
    expect = np.zeros((5, 5), np.uint8)
    expect[0:3, 0:3] = d[0]
    expect[1:4, 1:4] = np.maximum(expect[1:4, 1:4], d[1])
    np.testing.assert_array_equal(out[0, ..., 0], expect)
    assert out.shape == (1, 5, 5, 3) and (out[..., 0] == out[..., 2]).all()


@pytest.mark.parametrize("split", ["train", "test"])
def test_moving_mnist_digits_are_sklearn_digits(split, sklearn_templates):
    """A single-digit clip's ink, cropped and shrunk to 8×8 by skimage, matches a real sklearn digit of the split's
    pool (correlation > 0.9), and the pools are disjoint."""
    ds = build_dataset("moving_mnist", split=split, num_digits=1, size=64, seed=7)
    pool = set(sklearn_split_indices(split).tolist())
    other = set(sklearn_split_indices("test" if split == "train" else "train").tolist())
    assert not pool & other and len(pool | other) == 1797
    corrs, in_pool = [], []
    for i in range(12):
        frame = ds[i].video[0, ..., 0]
        q = _bbox_8x8(frame, 30)
        c = (sklearn_templates @ _zscore(q).ravel())
        best = int(np.argmax(c))
        corrs.append(c[best])
        in_pool.append(best in pool)
    assert np.median(corrs) > 0.9, corrs
    assert np.mean(in_pool) >= 0.75, in_pool  # near-duplicate handwriting can match a digit of the other pool


def test_moving_mnist_motion_and_bounds():
    v = build_dataset("moving_mnist", size=64, num_digits=2)[0].video[..., 0]
    ink = (v > 30).sum(axis=(1, 2))
    assert (ink > 20).all()  # digits stay visible in every frame (no digit leaves the canvas)
    assert np.abs(np.diff(v.astype(int), axis=0)).mean() > 0.5  # they move
    centroids = [np.argwhere(f > 30).mean(axis=0) for f in v]
    steps = np.linalg.norm(np.diff(centroids, axis=0), axis=1)
    assert steps.max() < 2 * 5.0 * 1.5  # at most speed_max per digit per frame (two digits, centroid of both)


def test_moving_mnist_from_mnist_files(tmp_path):
    rng = np.random.default_rng(0)
    x_train = (rng.random((20, 28, 28)) > 0.8).astype(np.uint8) * 255
    x_test = (rng.random((5, 28, 28)) > 0.8).astype(np.uint8) * 255
    p = tmp_path / "mnist.npz"
    np.savez(p, x_train=x_train, y_train=np.arange(20) % 10, x_test=x_test, y_test=np.arange(5))
    ds = build_dataset("moving_mnist", split="test", num_digits=1, source="mnist", mnist_path=str(p), num_videos=4)
    frame = ds[0].video[0, ..., 0]
    # the pasted 28×28 block equals one of the 5 MNIST test images exactly
    ys, xs = np.nonzero(frame)
    found = False
    for r in range(max(0, ys.min() - 27), ys.min() + 1):
        for c in range(max(0, xs.min() - 27), xs.min() + 1):
            block = frame[r:r + 28, c:c + 28]
            if block.shape == (28, 28) and any((block == x).all() for x in x_test):
                found = True
    assert found
    with pytest.raises(Exception, match="mnist.npz"):
        build_dataset("moving_mnist", source="mnist", mnist_path=str(tmp_path / "nope"))[0]


# ------------------------------------------------------------------------------------------ synthetic sky
def test_synthetic_sky_looks_like_sky():
    ds = build_dataset("synthetic_sky", size=64, num_frames=16)
    v = ds[0].video.astype(np.float64)
    top, bottom = v[:, :8], v[:, -4:]
    assert top[..., 2].mean() > bottom[..., 2].mean() + 30  # bright sky above a dark ground
    # clouds move: frames change, but smoothly (consecutive frames far closer than frames of another video)
    d_next = np.abs(np.diff(v, axis=0)).mean()
    d_other = np.abs(v - ds[1].video.astype(np.float64)).mean()
    assert 0.05 < d_next < 0.5 * d_other
    # the ground is static up to the slow illumination drift: much less change than the sky
    assert np.abs(np.diff(bottom, axis=0)).mean() < np.abs(np.diff(top, axis=0)).mean()


def test_synthetic_sky_clouds_drift():
    """Phase correlation (skimage) between frames 0 and 8 of the upper sky finds a translation: advection, not noise."""
    from skimage.registration import phase_cross_correlation

    moved = 0
    ds = build_dataset("synthetic_sky", size=64, num_frames=9)
    for i in range(6):
        g = ds[i].video[:, :24].astype(np.float64).mean(-1)
        shift, err, _ = phase_cross_correlation(g[0], g[8], upsample_factor=4)
        moved += np.hypot(*shift) > 0.5
    assert moved >= 4


@pytest.mark.parametrize("name", ["moving_mnist", "synthetic_sky"])
def test_embedded_stride_subsamples_the_same_process(name):
    """stride=k keeps frames 0, k, 2k, ... of the stride-1 clip (as the real datasets' stride option)."""
    dense = build_dataset(name, num_frames=9, size=64, seed=2)[4].video
    sparse = build_dataset(name, num_frames=5, size=64, seed=2, stride=2)[4].video
    if name == "moving_mnist":
        np.testing.assert_array_equal(sparse, dense[::2])
    else:  # the time-of-day drift is spread over the clip span, identical here: (9-1)*1 == (5-1)*2
        np.testing.assert_allclose(sparse.astype(int), dense[::2].astype(int), atol=1)
