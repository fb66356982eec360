"""C3D port: shapes, the TGANv2 npz/mean loaders on generated files, preprocessing order, TorchScript wrapper."""

import hashlib

import numpy as np
import pytest
import torch
from vidbench.metrics.detectors.c3d import (
    C3D,
    TGANv2Preprocess,
    c3d_resize,
    load_c3d_detector,
    load_mean2,
    load_tganv2_npz,
)

from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS, WEIGHTS

# The 22 arrays of conv3d_deepnetA_ucf.npz, copied from the table in CHECKPOINT_FORMATS.md §2a.
DOC_KEYS = {
    "conv1a/W": (64, 3, 3, 3, 3), "conv1a/b": (64,),
    "conv2a/W": (128, 64, 3, 3, 3), "conv2a/b": (128,),
    "conv3a/W": (256, 128, 3, 3, 3), "conv3a/b": (256,),
    "conv3b/W": (256, 256, 3, 3, 3), "conv3b/b": (256,),
    "conv4a/W": (512, 256, 3, 3, 3), "conv4a/b": (512,),
    "conv4b/W": (512, 512, 3, 3, 3), "conv4b/b": (512,),
    "conv5a/W": (512, 512, 3, 3, 3), "conv5a/b": (512,),
    "conv5b/W": (512, 512, 3, 3, 3), "conv5b/b": (512,),
    "fc6/W": (4096, 8192), "fc6/b": (4096,),
    "fc7/W": (4096, 4096), "fc7/b": (4096,),
    "fc8/W": (101, 4096), "fc8/b": (101,),
}


def _pattern(shape, k):
    """Cheap, position-dependent float32 values (distinct per key) so a transposed or swapped array is caught."""
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.int64) % 997).astype(np.float32) * 1e-4 + k * 1e-2).reshape(shape)


def _write_npz(path, drop=None, bad=None, tiny=False):
    arrays = {}
    for i, (k, shape) in enumerate(DOC_KEYS.items()):
        if k == drop:
            continue
        if k == bad:
            shape = shape[:-1] + (shape[-1] + 1,)
        elif tiny and k not in ("conv1a/W",):
            shape = (1,)
        arrays[k] = _pattern(shape, i)
    np.savez(path, **arrays)  # uncompressed, as Chainer save_npz(compression=False)
    return arrays


@pytest.fixture(scope="module")
def c3d_files(tmp_path_factory):
    """One full-size generated conv3d_deepnetA_ucf.npz (~320 MB of float32) + mean2.npz, shared by this module."""
    d = tmp_path_factory.mktemp("c3d_weights")
    arrays = _write_npz(d / "conv3d_deepnetA_ucf.npz")
    mean = _write_mean(d / "mean2.npz", np.random.default_rng(0))
    return d, arrays, mean


def _write_mean(path, rng, shape=(3, 16, 128, 171)):
    mean = rng.uniform(80, 120, shape).astype(np.float32)
    np.savez(path, mean=mean)
    return mean


def test_forward_shapes_and_ceil_mode_pool5():
    torch.manual_seed(0)
    net = C3D().eval()
    x = torch.randn(1, 3, 16, 112, 112)
    with torch.no_grad():
        pool5 = net.conv_features(x)
        logits = net(x)
        fc7 = net(x, layer="fc7")
    # 16×112×112 → pool1 16×56×56 → 8×28×28 → 4×14×14 → 2×7×7 → ceil(7/2)=4: fc6 input 512·1·4·4 = 8192
    assert tuple(pool5.shape) == (1, 512, 1, 4, 4)
    assert tuple(logits.shape) == (1, 101) and tuple(fc7.shape) == (1, 4096)
    assert net.fc6.in_features == 8192


def test_random_init_detector_small_input():
    det = DETECTORS.get("c3d").obj(random_init=True)
    assert det.label == "c3d[random-init]" and det.registered is False
    v = np.random.default_rng(0).integers(0, 256, (2, 17, 24, 32, 3), dtype=np.uint8)  # small frames, 17 frames
    p = det.probs(v)  # the first 16 frames, resized to 112² inside
    assert p.shape == (2, 101) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    with pytest.raises(VidbenchError, match="16 frames"):
        det.probs(v[:, :8])


def test_npz_loader_from_documented_keys(c3d_files, rng):
    d, arrays, mean = c3d_files
    state = load_tganv2_npz(d / "conv3d_deepnetA_ucf.npz")
    assert len(state) == 22
    det = load_c3d_detector(d / "conv3d_deepnetA_ucf.npz")  # mean2.npz found beside it
    net = det.model.net
    for key, arr in arrays.items():
        layer, kind = key.split("/")
        param = getattr(net, layer).weight if kind == "W" else getattr(net, layer).bias
        np.testing.assert_array_equal(param.detach().numpy(), arr)  # Chainer layout == PyTorch layout, unchanged
    # the bias added after resizing is 128 − mean[:, :, 8:120, 8:120]
    np.testing.assert_allclose(det.model.pre.bias.numpy(), 128.0 - mean[:, :, 8:120, 8:120])
    assert det.label == "c3d" and det.kind == "tganv2_npz"
    assert det.registered is False and det.weights_verified is False  # a user path with an unknown hash
    assert len(det.weights_hash) == 64 and len(det.mean_hash) == 64
    v = rng.integers(0, 256, (1, 16, 20, 20, 3), dtype=np.uint8)
    assert det.probs(v).shape == (1, 101)


def test_npz_loader_errors(tmp_path):
    _write_npz(tmp_path / "missing.npz", drop="conv3b/W", tiny=True)
    with pytest.raises(VidbenchError, match="conv3b/W"):
        load_tganv2_npz(tmp_path / "missing.npz")
    _write_npz(tmp_path / "bad.npz", bad="conv1a/b", tiny=True)  # conv1a/W is full size, conv1a/b is checked next
    with pytest.raises(VidbenchError, match=r"conv1a/b has shape \[65\]"):
        load_tganv2_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "extra.npz", **{k: np.zeros(1, np.float32) for k in [*DOC_KEYS, "pre/W"]})
    with pytest.raises(VidbenchError, match="unexpected arrays pre/W"):
        load_tganv2_npz(tmp_path / "extra.npz")


def test_mean_loader_accepts_4d_and_5d(tmp_path, rng):
    m4 = _write_mean(tmp_path / "m4.npz", rng)
    np.savez(tmp_path / "m5.npz", mean=m4.reshape(3, 1, 16, 128, 171))  # TGAN v1's reshape
    np.testing.assert_array_equal(load_mean2(tmp_path / "m4.npz"), m4)
    np.testing.assert_array_equal(load_mean2(tmp_path / "m5.npz"), m4)
    np.savez(tmp_path / "bad.npz", mean=np.zeros((3, 16, 112, 112), np.float32))
    with pytest.raises(VidbenchError, match="expected"):
        load_mean2(tmp_path / "bad.npz")
    np.savez(tmp_path / "nokey.npz", avg=m4)
    with pytest.raises(VidbenchError, match="no array 'mean'"):
        load_mean2(tmp_path / "nokey.npz")


def test_preprocessing_order_hand_built():
    # mean[c, t, h, w] = 1000 c + 10 h + w/4 (exact in float32) (distinct per position) so the crop offsets are visible
    c, h, w = np.meshgrid(np.arange(3), np.arange(128), np.arange(171), indexing="ij")
    mean = np.broadcast_to((1000 * c + 10 * h + w / 4.0)[:, None], (3, 16, 128, 171)).astype(np.float64)
    pre = TGANv2Preprocess(mean[:, :, 8:120, 8:120]).double()
    rgb = np.array([10.0, 100.0, 240.0])  # constant uint8 colour per channel
    x = torch.from_numpy(np.broadcast_to((rgb / 127.5 - 1.0)[None, :, None, None, None], (1, 3, 16, 30, 40)).copy())
    out = pre(x).numpy()[0]  # [3, 16, 112, 112]
    assert out.shape == (3, 16, 112, 112)
    bgr = rgb[::-1]
    for ch in range(3):
        # (128 x + 128) − mean, x the BGR value in [-1, 1]; the mean crop starts at row 8, column 8
        expect = 128 * (bgr[ch] / 127.5 - 1) + 128 - (1000 * ch + 10 * (np.arange(112)[:, None] + 8)
                                                       + (np.arange(112)[None, :] + 8) / 4.0)
        np.testing.assert_allclose(out[ch, 5], expect, atol=1e-9)


def test_c3d_resize_align_corners_hand_computed():
    frame = np.array([[0.0, 3.0], [6.0, 9.0]])  # one 2×2 frame, values a + 3x + 6y
    x = torch.from_numpy(frame)[None, None, None]  # [1, 1, 1, 2, 2]
    out = c3d_resize(x.double(), 112).numpy()[0, 0, 0]
    s = np.arange(112) / 111.0  # align_corners: output pixel i samples input coordinate i·(2−1)/(112−1)
    np.testing.assert_allclose(out, 6 * s[:, None] + 3 * s[None, :], atol=1e-12)
    half = c3d_resize(x.double(), 112, "bilinear_half_pixel").numpy()[0, 0, 0]
    assert half[0, 0] == pytest.approx(0.0) and half[-1, -1] == pytest.approx(9.0)  # edges clamp
    assert not np.allclose(half, out)


def test_missing_weights_error_names_file_and_url(tmp_path):
    with pytest.raises(WeightsMissingError, match="conv3d_deepnetA_ucf.npz.*releases/download/v1.0"):
        load_c3d_detector("c3d.ucf101_tganv2", weights_dir=tmp_path)
    spec = WEIGHTS.get("c3d").obj
    assert spec.name == "c3d.ucf101_tganv2" and spec.sha256 is None


def test_registered_name_resolves_from_weights_dir(c3d_files, tmp_path):
    d = c3d_files[0]
    det = load_c3d_detector("c3d.ucf101_tganv2", weights_dir=d)
    # found by its registered name, but nobody published a sha256: never "registered" (= hash-verified) by name
    assert det.registered is False and det.weights_verified is False
    w_sha = hashlib.sha256((d / "conv3d_deepnetA_ucf.npz").read_bytes()).hexdigest()
    m_sha = hashlib.sha256((d / "mean2.npz").read_bytes()).hexdigest()
    assert det.file_sha256 == w_sha and det.mean_hash == m_sha
    # the weights hash (-> protocol id) covers both files, computed here by hand
    assert det.weights_hash == hashlib.sha256(f"c3d {w_sha}\nmean2 {m_sha}\n".encode()).hexdigest()
    assert det.reasons == (
        f"unverified C3D weights sha256 {w_sha[:12]} (no published hash): compare only with runs of the same hash; "
        "not comparable to published numbers",
        f"unverified C3D mean2.npz sha256 {m_sha[:12]} (no published hash): compare only with runs of the same "
        "hash; not comparable to published numbers")
    # identity is the content: the same files under other names give the same hash; another mean changes it
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "my_c3d.npz").write_bytes((d / "conv3d_deepnetA_ucf.npz").read_bytes())
    (other / "my_mean.npz").write_bytes((d / "mean2.npz").read_bytes())
    same = load_c3d_detector(other / "my_c3d.npz", mean=other / "my_mean.npz")
    assert same.weights_hash == det.weights_hash
    _write_mean(other / "mean_b.npz", np.random.default_rng(9))
    assert load_c3d_detector(other / "my_c3d.npz", mean=other / "mean_b.npz").weights_hash != det.weights_hash
    (tmp_path / "conv3d_deepnetA_ucf.npz").symlink_to(d / "conv3d_deepnetA_ucf.npz")  # weights without the mean
    with pytest.raises(WeightsMissingError, match="mean2.npz"):
        load_c3d_detector("c3d.ucf101_tganv2", weights_dir=tmp_path)


class _TinyTS(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # uint8 [B,3,16,H,W] → probabilities [B,101]
        m = x.float().mean(dim=(1, 2, 3, 4))
        logits = torch.arange(101, dtype=torch.float32)[None, :] * (m[:, None] / 255.0)
        return torch.softmax(logits, dim=1)


def test_styleganv_torchscript_wrapper(tmp_path, rng):
    torch.jit.script(_TinyTS()).save(str(tmp_path / "c3d_ucf101.pt"))
    det = load_c3d_detector("c3d.ucf101_styleganv_ts", weights_dir=tmp_path)
    assert det.kind == "torchscript" and det.label == "c3d[torchscript]"
    v = rng.integers(0, 256, (2, 16, 16, 16, 3), dtype=np.uint8)
    p = det.probs(v)
    m = v.reshape(2, -1).mean(axis=1) / 255.0
    ref = np.exp(np.arange(101)[None] * m[:, None])
    np.testing.assert_allclose(p, ref / ref.sum(axis=1, keepdims=True), rtol=1e-5)
    # a TorchScript file given by path is recognised too
    det2 = load_c3d_detector(tmp_path / "c3d_ucf101.pt")
    assert det2.kind == "torchscript" and det2.registered is False
