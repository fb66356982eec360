"""Shared test fixtures.

torch is imported before anything else: importing tensorflow first segfaults the process (triton's native library).
Tests read real data from ../shared/data at test time (never copied into the repo) and write only under tmp dirs.
"""

import os
from pathlib import Path

import torch  # noqa: F401  (must precede any tensorflow import)

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIDBENCH_SHARED", REPO.parent / "shared")).resolve()
SHARED_DATA = SHARED / "data"

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own VIDBENCH_CACHE and no weights override."""
    cache = tmp_path_factory.mktemp("vidbench_cache")
    monkeypatch.setenv("VIDBENCH_CACHE", str(cache))
    monkeypatch.delenv("VIDBENCH_WEIGHTS", raising=False)
    monkeypatch.delenv("VIDBENCH_DATA", raising=False)
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.md").exists():
        pytest.fail(f"../shared/data not found at {SHARED_DATA}; set VIDBENCH_SHARED to the shared folder")
    return SHARED_DATA


@pytest.fixture
def rng():
    return np.random.default_rng(0)
