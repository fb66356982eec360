"""ACD: the pure functions against scipy's pdist and hand cases; the streaming metric with an injected embedder."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from vidbench.metrics.acd import ACD, PRESETS, average_content_distance, video_content_distance
from vidbench.metrics.base import MetricOptions

from vidbench.errors import VidbenchError
from vidbench.registry import METRICS


def test_all_pairs_matches_pdist(rng):
    embs = [rng.normal(size=(16, 128)) * s + 3.0 for s in (0.1, 0.5, 1.0)]
    expected = np.mean([pdist(e, "euclidean").mean() for e in embs])
    assert average_content_distance(embs) == pytest.approx(expected, rel=1e-10)
    for e in embs:
        assert video_content_distance(e) == pytest.approx(pdist(e).mean(), rel=1e-10)


def test_consecutive_pairs_hand_case():
    # points on a line at 0, 3, 7 (1-D) and a 3-4-5 step in 2-D
    e1 = np.array([[0.0], [3.0], [7.0]])
    assert video_content_distance(e1, "consecutive") == pytest.approx((3 + 4) / 2)
    assert video_content_distance(e1, "all") == pytest.approx((3 + 7 + 4) / 3)
    e2 = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert average_content_distance([e1, e2], pairs="consecutive") == pytest.approx((3.5 + 5.0) / 2)


def test_nan_rows_are_excluded_and_short_videos_skipped():
    e = np.array([[0.0, 0.0], [np.nan, np.nan], [3.0, 4.0]])
    assert video_content_distance(e) == pytest.approx(5.0)
    assert np.isnan(video_content_distance(np.array([[1.0, 2.0], [np.nan, 0.0]])))
    assert average_content_distance([e, np.array([[1.0, 1.0]])]) == pytest.approx(5.0)
    with pytest.raises(VidbenchError):
        video_content_distance(e, pairs="random")


class _MeanColourEmbedder:
    """Deterministic fake embedder: the mean RGB of each frame; frames that are all zero count as 'no face'."""

    dim = 3
    label = "fake-colour"
    weights_hash = None
    weights_verified = False

    def embed_frames(self, frames):
        e = frames.reshape(frames.shape[0], -1, 3).mean(axis=1).astype(np.float64)
        found = frames.reshape(frames.shape[0], -1).any(axis=1)
        e[~found] = np.nan
        return e, found


def _videos(rng, n=5, T=6):
    v = rng.integers(0, 256, size=(n, T, 8, 8, 3), dtype=np.uint8)
    v[1, 2] = 0  # one frame without a "face"
    return v


def test_metric_matches_function_and_is_permutation_invariant(rng):
    vids = _videos(rng)
    proto = PRESETS["acd256_dlib"].__class__(num_frames=6)
    m = ACD("acd_test", proto, MetricOptions(), embedder=_MeanColourEmbedder())
    m.update(vids[:2])
    m.update(list(vids[2:]))
    r = m.compute()
    embs = [_MeanColourEmbedder().embed_frames(v)[0] for v in vids]
    ref = np.mean([pdist(e[~np.isnan(e).any(1)]).mean() for e in embs])
    assert r["value"] == pytest.approx(ref, rel=1e-12)
    assert r["extra"]["frames_without_face"] == 1 and r["extra"]["frames_total"] == 30
    assert r["n_fake"] == 5 and r["comparable"] is False
    assert any("no detected face" in w for w in r["warnings"])
    assert [d["frames_without_face"] for d in m.per_video()] == [0, 1, 0, 0, 0]
    assert r["extra"]["per_video"]["frames_without_face"] == [0, 1, 0, 0, 0]
    np.testing.assert_allclose(r["extra"]["per_video"]["acd"], [pdist(e[~np.isnan(e).any(1)]).mean() for e in embs])

    m.reset()
    m.update(vids[::-1])
    assert m.compute()["value"] == pytest.approx(ref, rel=1e-12)


def test_video_without_faces_is_counted_not_dropped(rng):
    vids = _videos(rng, n=3)
    vids[0, 1:] = 0  # only one face frame left -> no ACD value for video 0
    m = ACD("acd_test", PRESETS["acd256_dlib"].__class__(num_frames=6), MetricOptions(), embedder=_MeanColourEmbedder())
    m.update(vids)
    r = m.compute()
    assert r["extra"]["videos_without_value"] == 1 and r["extra"]["videos_with_value"] == 2
    assert r["n_fake"] == 3
    assert any("fewer than 2 frames" in w for w in r["warnings"])


def test_registered_presets():
    for name in ("acd256_dlib", "acd256_facenet"):
        e = METRICS.get(name)
        assert e.meta["kind"] == "sample"
        assert e.meta["protocol"].num_videos == 256 and e.meta["protocol"].pairs == "all"
    assert METRICS.get("acd256_facenet").meta["protocol"].crop == "none"
    m = METRICS.get("acd256_facenet").obj("acd256_facenet", MetricOptions(extra={"crop": "mtcnn"}))
    assert m.protocol.crop == "mtcnn"


def test_comparable_reasons_exactly_n_and_facenet_unverified_hash(rng, tmp_path):
    """Issue 10 §2: FaceNet VGGFace2 found under its registered file name is NOT verified (no published sha256): its
    file hash is recorded, and the value is not comparable to published numbers; exactly N videos are scored."""
    import hashlib

    import torch
    from facenet_pytorch import InceptionResnetV1
    from vidbench.metrics.detectors.faces import FacenetEmbedder

    torch.manual_seed(0)
    path = tmp_path / "20180402-114759-vggface2.pt"  # the registered file name, random content
    torch.save(InceptionResnetV1(pretrained=None, classify=False).state_dict(), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    emb = FacenetEmbedder(weights_dir=tmp_path)
    assert emb.registered is False and emb.weights_verified is False and emb.weights_hash == sha
    assert emb.reasons == (f"unverified FaceNet weights sha256 {sha[:12]} (no published hash): compare only with "
                           "runs of the same hash; not comparable to published numbers",)
    proto = PRESETS["acd256_facenet"].__class__(num_videos=2, num_frames=2, embedder="facenet_vggface2", crop="none",
                                                detector="none", chip_size=128, num_jitters=0)
    m = ACD("acd_test", proto, MetricOptions(), embedder=emb)
    m.update(rng.integers(0, 256, size=(3, 2, 64, 64, 3), dtype=np.uint8))  # one beyond N; 64² < the 128² pool
    r = m.compute()
    assert r["n_fake"] == 2 and r["extra"]["ignored_beyond_n"] == 1 and r["weights_hash"] == sha
    assert r["comparable"] is False and r["comparable_reasons"][0] == emb.reasons[0]
    assert "resolution: 2 videos have frames smaller than the protocol's 128²" in r["comparable_reasons"][1]
    # a verified embedder at N and size: comparable, no reasons
    verified = _MeanColourEmbedder()
    verified.weights_verified, verified.registered = "sha256", True
    m = ACD("acd_test", PRESETS["acd256_dlib"].__class__(num_videos=2, num_frames=6), MetricOptions(),
            embedder=verified)
    m.update(rng.integers(1, 256, size=(2, 6, 8, 8, 3), dtype=np.uint8))
    r = m.compute()
    assert r["comparable"] is True and r["comparable_reasons"] == []
