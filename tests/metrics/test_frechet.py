"""FeatureStats and frechet_distance against independent float64 references (numpy.cov, scipy.linalg.sqrtm)."""

import numpy as np
import pytest
import scipy.linalg
from vidbench.metrics.frechet import FeatureStats, frechet_distance, frechet_distance_from_features


def _scipy_fd(mu1, s1, mu2, s2):
    """The classic reference formulation (pytorch-fid / TTUR): sqrtm of the non-symmetric product, real part."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _random_feats(rng, n, d, scale=1.0, shift=0.0):
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ a * scale + shift


@pytest.mark.parametrize("d", [4, 32, 400])
def test_mean_cov_match_numpy(rng, d):
    x = _random_feats(rng, 600, d, shift=3.0)
    st = FeatureStats(d)
    for chunk in np.array_split(x, 7):  # uneven batches
        st.update(chunk.astype(np.float32))
    x32 = x.astype(np.float32).astype(np.float64)
    assert st.n == 600
    np.testing.assert_allclose(st.mean(), x32.mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(st.cov(), np.cov(x32, rowvar=False), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(st.cov(ddof=0), np.cov(x32, rowvar=False, bias=True), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("d,n1,n2", [(8, 50, 70), (64, 300, 200), (400, 1000, 900)])
def test_frechet_matches_scipy_sqrtm(rng, d, n1, n2):
    a = _random_feats(rng, n1, d)
    b = _random_feats(rng, n2, d, scale=1.3, shift=0.2)
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    ref = _scipy_fd(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(ref, rel=1e-7, abs=1e-7)
    assert frechet_distance_from_features(a, b) == pytest.approx(ref, rel=1e-7, abs=1e-7)


def test_rank_deficient_covariances_match_scipy(rng):
    # N < D: singular covariances, where naive sqrtm can return complex parts; the symmetric form must stay real.
    d = 64
    a, b = _random_feats(rng, 40, d), _random_feats(rng, 30, d, shift=0.5)
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    ref = _scipy_fd(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(got)
    assert got == pytest.approx(ref, rel=1e-5)


def test_identical_is_zero(rng):
    x = _random_feats(rng, 500, 400, scale=5.0, shift=10.0)
    mu, s = x.mean(0), np.cov(x, rowvar=False)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6


def test_hand_case_1d():
    # N(0, 1) vs N(3, 4): (0-3)^2 + 1 + 4 - 2*sqrt(1*4) = 9 + 5 - 4 = 10
    assert frechet_distance([0.0], [[1.0]], [3.0], [[4.0]]) == pytest.approx(10.0, abs=1e-12)


def test_merge_equals_single_pass_and_state_roundtrip(rng, tmp_path):
    x = _random_feats(rng, 257, 16)
    whole = FeatureStats(16)
    whole.update(x)
    a, b = FeatureStats(16), FeatureStats(16)
    a.update(x[:100])
    b.update(x[100:])
    a.merge(b)
    np.testing.assert_allclose(a.cov(), np.cov(x, rowvar=False), rtol=1e-10)
    assert a.n == whole.n
    path = a.save(tmp_path / "stats.npz")
    c = FeatureStats.load(path)
    np.testing.assert_array_equal(c.cov(), a.cov())
    assert c.n == 257
    d = FeatureStats.from_state_dict(a.state_dict())
    np.testing.assert_array_equal(d.mean(), a.mean())


def test_errors():
    st = FeatureStats(3)
    with pytest.raises(ValueError):
        st.update(np.zeros((2, 4)))
    with pytest.raises(ValueError):
        st.update(np.array([[np.nan, 0, 0]]))
    st.update(np.zeros((1, 3)))
    with pytest.raises(ValueError):
        st.cov(ddof=1)
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _worker(rank, world, port, x, out_dir):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        st = FeatureStats(x.shape[1])
        st.update(x[rank::world])
        st.all_reduce()
        np.save(f"{out_dir}/cov{rank}.npy", st.cov())
    finally:
        dist.destroy_process_group()


def test_all_reduce_two_gloo_processes(rng, tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    x = _random_feats(rng, 101, 8)
    mp.spawn(_worker, args=(2, port, x, str(tmp_path)), nprocs=2, join=True)
    ref = np.cov(x, rowvar=False)
    for r in range(2):
        np.testing.assert_allclose(np.load(tmp_path / f"cov{r}.npy"), ref, rtol=1e-10)
