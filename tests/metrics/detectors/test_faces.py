"""Face networks on real faces (../shared/data) and the FaceNet loader on a file built from CHECKPOINT_FORMATS.md §3."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.spatial.distance import cdist, pdist
from vidbench.metrics.base import MetricOptions

from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS, METRICS
from vidbench.video import read_video

CLIP = "video/talking_face/sadtalker_WDA_AlexandriaOcasioCortez_000_512.mp4"


@pytest.fixture(scope="module")
def dlib_embedder():
    from vidbench.metrics.detectors.faces import DlibFaceEmbedder

    return DlibFaceEmbedder()


def _clip(shared_data, n=16, start=0):
    return read_video(shared_data / CLIP, start=start, num_frames=n)


def _celebrities(shared_data):
    paths = sorted((shared_data / "faces" / "facenet_aligned").glob("*.png"))
    assert len(paths) == 5
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])  # [5,160,160,3]


def test_dlib_within_identity_below_between_identity(shared_data, dlib_embedder):
    within, found = dlib_embedder.embed_frames(_clip(shared_data, 16, start=40))
    assert found.all() and within.shape == (16, 128)
    between, found_b = dlib_embedder.embed_frames(_celebrities(shared_data))
    assert found_b.all()
    d_within, d_between = pdist(within), pdist(between)  # independent reference: scipy
    assert d_within.max() < d_between.min()
    assert d_within.mean() / d_between.mean() <= 0.5
    # and the clip is far from every celebrity
    assert cdist(within, between).min() > d_within.max()


def test_dlib_faceless_frames_are_flagged(dlib_embedder):
    frames = np.zeros((2, 96, 96, 3), np.uint8)
    frames[1] = np.linspace(0, 255, 96, dtype=np.uint8)[None, :, None]
    emb, found = dlib_embedder.embed_frames(frames)
    assert not found.any() and np.isnan(emb).all()


def test_acd256_dlib_metric_on_real_clip(shared_data):
    m = METRICS.get("acd256_dlib").obj("acd256_dlib", MetricOptions())
    m.update(_clip(shared_data, 16)[None])
    r = m.compute()
    json.dumps(r)
    assert 0.1 < r["value"] < 0.45  # PROTOCOLS.md: about 0.23 per 16-frame clip of this talking face
    assert r["weights_verified"] == "sha256" and r["detector"] == "dlib_resnet_v1"
    assert r["extra"]["frames_without_face"] == 0 and r["comparable"] is False  # 1 video < N=256


# --------------------------------------------------------------------------------------------- FaceNet
def _basic(sd, prefix, shape, tracked=True):
    sd[f"{prefix}.conv.weight"] = torch.randn(shape) * 0.05
    out = shape[0]
    sd[f"{prefix}.bn.weight"] = torch.rand(out) + 0.5
    sd[f"{prefix}.bn.bias"] = torch.randn(out) * 0.1
    sd[f"{prefix}.bn.running_mean"] = torch.randn(out) * 0.1
    sd[f"{prefix}.bn.running_var"] = torch.rand(out) + 0.5
    if tracked:
        sd[f"{prefix}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.int64)


def facenet_reference_state_dict(tracked=True, classes=8631):
    """Built from the prefix/shape table of CHECKPOINT_FORMATS.md §3 (not from any module's state_dict)."""
    sd = {}
    for p, s in [("conv2d_1a", [32, 3, 3, 3]), ("conv2d_2a", [32, 32, 3, 3]), ("conv2d_2b", [64, 32, 3, 3]),
                 ("conv2d_3b", [80, 64, 1, 1]), ("conv2d_4a", [192, 80, 3, 3]), ("conv2d_4b", [256, 192, 3, 3])]:
        _basic(sd, p, s, tracked)

    def block(prefix, branches, conv_shape):
        for name, shape in branches:
            _basic(sd, f"{prefix}.{name}", shape, tracked)
        sd[f"{prefix}.conv2d.weight"] = torch.randn(conv_shape) * 0.05
        sd[f"{prefix}.conv2d.bias"] = torch.randn(conv_shape[0]) * 0.05

    b35 = [("branch0", [32, 256, 1, 1]), ("branch1.0", [32, 256, 1, 1]), ("branch1.1", [32, 32, 3, 3]),
           ("branch2.0", [32, 256, 1, 1]), ("branch2.1", [32, 32, 3, 3]), ("branch2.2", [32, 32, 3, 3])]
    for i in range(5):
        block(f"repeat_1.{i}", b35, [256, 96, 1, 1])
    for name, shape in [("branch0", [384, 256, 3, 3]), ("branch1.0", [192, 256, 1, 1]),
                        ("branch1.1", [192, 192, 3, 3]), ("branch1.2", [256, 192, 3, 3])]:
        _basic(sd, f"mixed_6a.{name}", shape, tracked)
    b17 = [("branch0", [128, 896, 1, 1]), ("branch1.0", [128, 896, 1, 1]), ("branch1.1", [128, 128, 1, 7]),
           ("branch1.2", [128, 128, 7, 1])]
    for i in range(10):
        block(f"repeat_2.{i}", b17, [896, 256, 1, 1])
    for name, shape in [("branch0.0", [256, 896, 1, 1]), ("branch0.1", [384, 256, 3, 3]),
                        ("branch1.0", [256, 896, 1, 1]), ("branch1.1", [256, 256, 3, 3]),
                        ("branch2.0", [256, 896, 1, 1]), ("branch2.1", [256, 256, 3, 3]),
                        ("branch2.2", [256, 256, 3, 3])]:
        _basic(sd, f"mixed_7a.{name}", shape, tracked)
    b8 = [("branch0", [192, 1792, 1, 1]), ("branch1.0", [192, 1792, 1, 1]), ("branch1.1", [192, 192, 1, 3]),
          ("branch1.2", [192, 192, 3, 1])]
    for p in [f"repeat_3.{i}" for i in range(5)] + ["block8"]:
        block(p, b8, [1792, 384, 1, 1])
    sd["last_linear.weight"] = torch.randn(512, 1792) * 0.02
    sd["last_bn.weight"] = torch.rand(512) + 0.5
    sd["last_bn.bias"] = torch.randn(512) * 0.1
    sd["last_bn.running_mean"] = torch.randn(512) * 0.1
    sd["last_bn.running_var"] = torch.rand(512) + 0.5
    if tracked:
        sd["last_bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.int64)
    sd["logits.weight"] = torch.randn(classes, 512) * 0.01
    sd["logits.bias"] = torch.zeros(classes)
    return sd


def test_facenet_reference_key_list_matches_documented_counts():
    sd = facenet_reference_state_dict()
    assert len(sd) == 716  # CHECKPOINT_FORMATS.md §3
    assert sum(k.endswith("num_batches_tracked") for k in sd) == 112
    n_params = sum(v.numel() for k, v in sd.items()
                   if not k.startswith("logits") and "running" not in k and "num_batches" not in k)
    assert n_params + 8631 * 512 + 8631 == 27_910_327


@pytest.mark.parametrize("tracked", [True, False])
def test_facenet_loader_on_documented_layout(tmp_path, tracked):
    from facenet_pytorch import InceptionResnetV1
    from vidbench.metrics.detectors.faces import load_facenet_state_dict

    sd = facenet_reference_state_dict(tracked=tracked)
    path = tmp_path / "20180402-114759-vggface2.pt"
    torch.save(sd, path)
    net = InceptionResnetV1(pretrained=None, classify=False).eval()
    info = load_facenet_state_dict(path, net)
    assert info["head_classes"] == 8631
    own = net.state_dict()
    for k in ("conv2d_1a.conv.weight", "repeat_2.3.branch1.1.conv.weight", "block8.conv2d.bias", "last_bn.running_var"):
        assert torch.equal(own[k], sd[k])


def test_facenet_loader_rejects_wrong_shapes(tmp_path):
    from facenet_pytorch import InceptionResnetV1
    from vidbench.metrics.detectors.faces import load_facenet_state_dict

    sd = facenet_reference_state_dict()
    sd["conv2d_2b.conv.weight"] = torch.zeros(64, 32, 5, 5)
    torch.save(sd, tmp_path / "bad.pt")
    with pytest.raises(VidbenchError, match="conv2d_2b.conv.weight"):
        load_facenet_state_dict(tmp_path / "bad.pt", InceptionResnetV1(pretrained=None))
    del sd["conv2d_2b.conv.weight"]
    torch.save(sd, tmp_path / "missing.pt")
    with pytest.raises(VidbenchError, match="missing"):
        load_facenet_state_dict(tmp_path / "missing.pt", InceptionResnetV1(pretrained=None))


def test_facenet_missing_weights_error_names_url(tmp_path):
    from vidbench.metrics.detectors.faces import FacenetEmbedder

    with pytest.raises(WeightsMissingError, match="20180402-114759-vggface2.pt") as ei:
        FacenetEmbedder(weights_dir=tmp_path)
    assert "github.com/timesler/facenet-pytorch" in str(ei.value)


def test_facenet_crop_none_pools_whole_frames_and_user_file(tmp_path, rng):
    from vidbench.metrics.detectors.faces import FacenetEmbedder

    path = tmp_path / "user.pt"
    torch.save(facenet_reference_state_dict(), path)
    emb = FacenetEmbedder(weights=str(path))
    assert emb.label == "facenet[user-weights]" and emb.weights_verified is False
    frames = rng.integers(0, 256, size=(3, 256, 256, 3), dtype=np.uint8)
    x, found = emb._prepare(frames)
    assert found.all() and tuple(x.shape) == (3, 3, 128, 128)
    # independent reference: 2x2 block means of the uint8 frames, then (x - 127.5) / 128
    ref = frames.astype(np.float64).reshape(3, 128, 2, 128, 2, 3).mean(axis=(2, 4)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(x.numpy(), (ref - 127.5) / 128.0, atol=1e-5)
    e, _ = emb.embed_frames(frames)
    assert e.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)  # facenet outputs are L2-normalised


def test_facenet_random_init_with_mtcnn_on_real_faces(shared_data):
    from vidbench.metrics.detectors.faces import FacenetEmbedder, FacenetEmbedderConfig

    emb = FacenetEmbedder(FacenetEmbedderConfig(crop="mtcnn"), random_init=True)
    assert emb.label == "facenet[random-init]"
    faces = _celebrities(shared_data)
    blank = np.zeros((1, 160, 160, 3), np.uint8)
    e, found = emb.embed_frames(np.concatenate([faces[:2], blank]))
    assert found.tolist() == [True, True, False]  # MTCNN (real wheel weights) finds the faces, not the blank frame
    assert np.isfinite(e[:2]).all() and np.isnan(e[2]).all()


def test_detector_entries():
    assert {"dlib_resnet_v1", "facenet", "mtcnn"} <= set(DETECTORS.names())
