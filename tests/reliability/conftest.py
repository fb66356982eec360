"""Fixtures of the reliability suite. Its helpers live in ``_harness.py``: pytest runs with ``--import-mode=importlib``,
which puts no test folder on ``sys.path``, so this file adds its own folder (pytest imports it before any test module
here) and every module of the suite uses the plain ``import _harness as H`` (which also works when a test file is run
as a script, e.g. ``python tests/reliability/test_bad_inputs.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))
import _harness as H  # noqa: E402

cli_env, run_cli, motion_args, image_args = H.cli_env, H.run_cli, H.motion_args, H.image_args
_write_mp4, _zero_frame_mp4 = H._write_mp4, H._zero_frame_mp4


@pytest.fixture
def cli_runner(tmp_path):
    """``run(args, deny=None) -> Result`` with a private cache; ``run.cache`` is that cache folder."""
    cache = tmp_path / "cache"
    cache.mkdir()
    env = cli_env(cache)

    def run(args, deny=None, cwd=None, timeout=120, **env_extra):
        return run_cli(args, cwd=cwd or tmp_path, env={**env, **{k: str(v) for k, v in env_extra.items()}},
                       deny=deny, timeout=timeout)

    run.cache = cache
    run.env = env
    return run


@pytest.fixture(scope="session")
def assets(tmp_path_factory):
    """Good and malformed inputs, built once per session (tiny: 32² videos of 10 frames, a 32² StyleGAN2)."""
    import torch

    d = tmp_path_factory.mktemp("reliability_assets")
    rng = np.random.default_rng(0)
    clip = lambda t=10, s=32: rng.integers(0, 256, (t, s, s, 3), dtype=np.uint8)  # noqa: E731
    for name in ("real", "fake"):
        for i in range(3):
            _write_mp4(d / name / f"v{i}.mp4", clip())
    _write_mp4(d / "real1" / "v0.mp4", clip())
    for i in range(2):
        _write_mp4(d / "real2" / f"v{i}.mp4", clip())
        _write_mp4(d / "real16" / f"v{i}.mp4", clip(16))
        _write_mp4(d / "fake16" / f"v{i}.mp4", clip(16))
    bad = d / "bad"
    bad.mkdir()
    good = (d / "real" / "v0.mp4").read_bytes()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "trunc.mp4").write_bytes(good[: len(good) * 2 // 5])
    (bad / "corrupt.mp4").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    _zero_frame_mp4(bad / "zeroframe.mp4")
    _write_mp4(bad / "one.mp4", clip(1))
    from vidbench.video import write_video

    write_video(bad / "one.gif", clip(1), fps=8)
    (bad / "clip.flv").write_bytes(good)
    (bad / "clip.txt").write_text("not a video\n")
    np.save(bad / "f32.npy", rng.random((10, 32, 32, 3), dtype=np.float32))
    np.save(bad / "i16.npy", rng.integers(0, 256, (10, 32, 32, 3)).astype(np.int16))
    nan = rng.random((10, 32, 32, 3))
    nan[0, 0, 0, 0] = np.nan
    np.savez(bad / "nan.npz", video=nan)
    inf = rng.random((10, 32, 32, 3)).astype(np.float32)
    inf[1, 2, 3, 0] = np.inf
    np.save(bad / "inf.npy", inf)
    np.save(bad / "rank3.npy", rng.integers(0, 256, (10, 32, 32), dtype=np.uint8))
    np.save(bad / "rank6.npy", rng.integers(0, 256, (1, 1, 10, 32, 32, 3), dtype=np.uint8))
    np.save(bad / "chfirst.npy", np.ascontiguousarray(clip().transpose(0, 3, 1, 2)))
    np.save(bad / "channels5.npy", rng.integers(0, 256, (10, 32, 32, 5), dtype=np.uint8))
    obj = np.empty(2, dtype=object)
    obj[:] = [clip(), clip()]
    np.savez(bad / "pickled.npz", video=obj)
    np.savez(bad / "multikey.npz", a=clip(), b=clip())
    (bad / "garbage.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    from PIL import Image

    (bad / "frames_badpng").mkdir()
    Image.fromarray(clip(1)[0]).save(bad / "frames_badpng" / "000.png")
    (bad / "frames_badpng" / "001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (bad / "frames_mixed").mkdir()
    Image.fromarray(clip(1, 32)[0]).save(bad / "frames_mixed" / "000.png")
    Image.fromarray(clip(1, 48)[0]).save(bad / "frames_mixed" / "001.png")
    _write_mp4(d / "mixed" / "v0.mp4", clip())
    _write_mp4(d / "mixed" / "v1.mp4", clip(10, 48))
    _write_mp4(d / "mixed" / "v2.mp4", clip())
    (d / "empty_dir").mkdir()
    (d / "only_text").mkdir()
    (d / "only_text" / "readme.txt").write_text("no videos here\n")

    # models: a tiny StyleGAN2 and its W-space PCA; broken variants
    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.stylegan2 import Generator, tiny_config, to_rosinality_state_dict

    m = d / "models"
    m.mkdir()
    torch.manual_seed(0)
    G = Generator(tiny_config(size=32, channels=16, style_dim=64, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, m / "g.pt")
    save_pca(m / "pca.npz", compute_w_pca(G, 2000, 1000, 64, progress=False))
    gbytes = (m / "g.pt").read_bytes()
    (m / "g_trunc.pt").write_bytes(gbytes[: len(gbytes) // 2])
    torch.save({"g_ema": {"conv1.weight": torch.zeros(3, 3)}}, m / "g_wrongarch.pt")
    torch.save({"weight": torch.zeros(4, 4)}, m / "other_state.pt")
    (m / "random.pt").write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (m / "pca_corrupt.npz").write_bytes(b"PK\x03\x04 broken")
    np.savez(m / "pca_wrongwidth.npz", components=np.eye(8, 32, dtype=np.float32), std=np.ones(8, np.float32))
    return d


@pytest.fixture(scope="session")
def runs(assets, tmp_path_factory):
    """One finished tiny motion run (2 steps) and one image run (2 steps), trained through the real CLI."""
    d = tmp_path_factory.mktemp("reliability_runs")
    env = cli_env(d / "cache")
    r = run_cli(motion_args(assets, d / "motion", "total_steps=2"), cwd=d, env=env, timeout=300)
    assert r.rc == 0, r.text
    motion = next((d / "motion").iterdir())
    r = run_cli(image_args(d / "image"), cwd=d, env=env, timeout=300)
    assert r.rc == 0, r.text
    image = next((d / "image").iterdir())
    return {"motion": motion, "image": image, "root": d}
