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


# ---------------------------------------------------------------------------------------------------- bootstrap CI
def _fd_n_draws(rng, reps, n, d, shift, scales):
    """Independent reference for E[FD_N]: ``reps`` fresh evaluations at the same N, FD from the eigenvalues of the
    non-symmetric product S1 S2 (the classic TTUR formulation, not the code under test)."""
    a = rng.standard_normal((reps, n, d))
    b = rng.standard_normal((reps, n, d)) * scales + shift
    m1, m2 = a.mean(1), b.mean(1)
    ac, bc = a - m1[:, None], b - m2[:, None]
    s1 = np.einsum("rnd,rne->rde", ac, ac) / (n - 1)
    s2 = np.einsum("rnd,rne->rde", bc, bc) / (n - 1)
    tr = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum(-1)
    return ((m1 - m2) ** 2).sum(-1) + np.trace(s1, axis1=1, axis2=2) + np.trace(s2, axis1=1, axis2=2) - 2 * tr


def _coverage(seed, n, d, shift, scale_hi, repeats, k):
    from vidbench.metrics.frechet import bootstrap_fd

    rng = np.random.default_rng(seed)
    scales = np.linspace(1.0, scale_hi, d)
    target = _fd_n_draws(rng, 10000, n, d, shift, scales).mean()  # E[FD_N] at this N (SE ~ 0.3 % of the CI width)
    hits = 0
    for r in range(repeats):
        real = rng.standard_normal((n, d))
        fake = rng.standard_normal((n, d)) * scales + shift
        ci = bootstrap_fd(real, fake, k=k, seed=r).ci
        hits += ci[0] <= target <= ci[1]
    return hits / repeats, target


def test_bootstrap_ci_covers_expected_fd_at_same_n():
    # a generated-vs-real gap (population FD 0.83, E[FD_200] 1.12: a third of it is finite-N bias), D=8, N=200/set.
    # The old fakes-only percentile interval covers E[FD_N] ~78 % of the time here (and ~41 % for identical sets).
    cov, target = _coverage(seed=0, n=200, d=8, shift=0.3, scale_hi=1.2, repeats=200, k=200)
    print(f"coverage {cov:.3f} of E[FD_N]={target:.4f}")
    assert 0.90 <= cov <= 0.98


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("n,d,shift,scale_hi,lo,hi", [
    (200, 8, 1.0, 2.0, 0.90, 0.98),   # large gap
    (500, 8, 0.1, 1.1, 0.90, 0.98),   # small gap at larger N
    (300, 16, 0.2, 1.3, 0.90, 0.98),  # D=16
    (200, 8, 0.0, 1.0, 0.90, 1.00),   # one distribution: FD's spread is second order; conservative by design
])
def test_bootstrap_ci_coverage_other_regimes(n, d, shift, scale_hi, lo, hi):
    cov, target = _coverage(seed=1, n=n, d=d, shift=shift, scale_hi=scale_hi, repeats=200, k=200)
    print(f"n={n} d={d} shift={shift} scale={scale_hi}: coverage {cov:.3f} of E[FD_N]={target:.4f}")
    assert lo <= cov <= hi


def test_bootstrap_resamples_both_sets_and_groups(rng):
    from vidbench.metrics.frechet import bootstrap_fd

    real, fake = rng.standard_normal((60, 4)), rng.standard_normal((50, 4)) + 0.5
    res = bootstrap_fd(real, fake, k=50, seed=3)
    assert res.value == pytest.approx(frechet_distance_from_features(real, fake), rel=1e-10)
    assert res.units == (60, 50) and res.ci[0] < res.value < res.ci[1]
    assert res.ci[1] - res.value == pytest.approx(res.value - res.ci[0], rel=1e-12)  # value ± z·std
    # a constant real set still has a spread: the fakes are resampled; and vice versa the reals
    const = np.repeat(real[:1], 60, axis=0) + 1e-9 * rng.standard_normal((60, 4))
    assert bootstrap_fd(const, fake, k=50).std > 0 and bootstrap_fd(real, fake[:1].repeat(50, 0)
                                                                     + 1e-9 * rng.standard_normal((50, 4)), k=50).std > 0
    # grouped rows (frames of one video) are resampled as units: 10 videos of 6 identical frames behave like 10 rows
    vids = rng.standard_normal((10, 4))
    frames, groups = np.repeat(vids, 6, axis=0), np.repeat(np.arange(10), 6)
    g = bootstrap_fd(frames, fake, k=40, seed=5, real_groups=groups)
    assert g.units == (10, 50)
    assert bootstrap_fd(frames, fake, k=40, seed=5).units == (60, 50)
    with pytest.raises(ValueError):
        bootstrap_fd(real, fake, k=1)
    with pytest.raises(ValueError):
        bootstrap_fd(real, fake, real_groups=np.zeros(3))


# ---------------------------------------------------------------------------------------------------- factored path
def _repeated_rows_fd(xa, wa, xb, wb, ddof):
    """Independent reference for the FD of one weighted resample: the rows explicitly repeated ``w`` times, mean and
    ``np.cov``, and ``scipy.linalg.sqrtm`` of the covariance product restricted to the range of the lower-rank
    covariance (Q^T S_lo Q)(Q^T S_hi Q), Q an orthonormal basis of range(S_lo): it has the non-zero eigenvalues of
    S_lo S_hi and is non-singular, so sqrtm is accurate there (on the full singular D×D product it is off by ~5e-8)."""
    ra, rb = np.repeat(xa, wa, axis=0), np.repeat(xb, wb, axis=0)
    s1, s2 = np.cov(ra, rowvar=False, ddof=ddof), np.cov(rb, rowvar=False, ddof=ddof)
    lo, hi = (s1, s2) if np.linalg.matrix_rank(s1) <= np.linalg.matrix_rank(s2) else (s2, s1)
    q = scipy.linalg.orth(lo)
    tr = np.trace(np.real(scipy.linalg.sqrtm((q.T @ lo @ q) @ (q.T @ hi @ q))))
    d = ra.mean(0) - rb.mean(0)
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * tr)


@pytest.mark.parametrize("ddof", [0, 1])
def test_factored_fd_matches_repeated_rows_sqrtm(rng, ddof):
    from vidbench.metrics.frechet import _weighted_factors, frechet_distance_batched_factored

    d, na, nb = 120, 30, 45  # n_a != n_b, both < D: singular covariances
    xa, xb = _random_feats(rng, na, d, shift=1.0), _random_feats(rng, nb, d, scale=1.3, shift=0.2)
    wa = rng.integers(0, 4, size=(4, na))  # integer weights up to 3, zeros included (dropped rows)
    wb = rng.integers(0, 4, size=(4, nb))
    wa[:, 0], wb[:, 0] = 3, 2
    m1, f1 = _weighted_factors(xa, wa.astype(np.float64), ddof)
    m2, f2 = _weighted_factors(xb, wb.astype(np.float64), ddof)
    assert f1.shape == (4, na, d) and f2.shape == (4, nb, d)
    got = frechet_distance_batched_factored(m1, f1, m2, f2)
    for j in range(4):
        assert got[j] == pytest.approx(_repeated_rows_fd(xa, wa[j], xb, wb[j], ddof), rel=1e-9)


def test_trace_sqrt_product_factored_full_rank_matches_sqrtm(rng):
    # the identity holds for any factor shapes, also more rows than D (full-rank, non-singular product)
    from vidbench.metrics.frechet import trace_sqrt_product_factored

    a, b = rng.normal(size=(12, 5)), rng.normal(size=(7, 5))
    ref = np.trace(np.real(scipy.linalg.sqrtm((a.T @ a) @ (b.T @ b))))
    assert trace_sqrt_product_factored(a, b) == pytest.approx(ref, rel=1e-10)


def test_bootstrap_factored_path_equals_dxd_path(rng, monkeypatch):
    # N=64 < D=400 takes the factored path; forcing the D×D path on the same seed draws the same resamples. The D×D
    # path itself is off by ~2.5e-8 relative per FD (clamped null eigenvalues of the rank-63 covariances contribute
    # ~sqrt(eps) each; the factored path matches the reference above to ~1e-15), so FDs and std agree to ~1e-8
    # relative, and the bias (mean FD - value, ~10 % of FD) to ~1e-8 of the FD.
    from vidbench.metrics import frechet

    real, fake = _random_feats(rng, 64, 400), _random_feats(rng, 64, 400, scale=1.3, shift=0.2)
    assert frechet._use_factored(64, 64, 400) and not frechet._use_factored(400, 64, 400)
    groups = np.repeat(np.arange(32), 2)  # grouped rows too: 32 units of 2 rows
    out = {}
    for path in ("factored", "dxd"):
        monkeypatch.setattr(frechet, "_RESAMPLE_PATH", path)
        out[path] = (frechet.bootstrap_fd(real, fake, k=12, seed=7),
                     frechet.bootstrap_fd(real, fake, k=6, seed=2, ddof=0, fake_groups=groups))
    for fast, ref in zip(out["factored"], out["dxd"]):
        assert fast.value == ref.value
        assert fast.std == pytest.approx(ref.std, rel=5e-8)
        assert fast.bias == pytest.approx(ref.bias, abs=5e-8 * ref.value)
        assert fast.shrink_cov == pytest.approx(ref.shrink_cov, rel=5e-8)
        assert fast.ci == pytest.approx(ref.ci, rel=1e-8)
    idx = np.arange(64)
    fds = {}
    for path in ("factored", "dxd"):
        monkeypatch.setattr(frechet, "_RESAMPLE_PATH", path)
        fds[path] = frechet._resampled_fds(real, idx, 64, fake, idx, 64, 10, 1, np.random.default_rng(3))
    np.testing.assert_allclose(fds["factored"], fds["dxd"], rtol=5e-8)
