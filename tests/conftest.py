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
    # (the real-weights tests fetch once per session through tests/metrics/conftest.py)
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


# ------------------------------------------------------------------ CI guard: the proof must not disappear silently
# (tests/ci_guard.py: under CI=true a skipped tf/weights/latex/browser test fails the run, with or without xdist)
sys.path.insert(0, str(Path(__file__).parent))
from ci_guard import (  # noqa: E402,F401  (hooks: pytest finds them in this module's namespace)
    pytest_collectreport,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)
