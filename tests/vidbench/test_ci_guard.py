"""The CI guard (tests/ci_guard.py) fails a CI=true run in which a must-run test was skipped, also under xdist.

Each case runs pytest in a subprocess on a throw-away test folder whose conftest loads the same guard module.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, body: str, *, ci: bool, xdist: bool) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS_DIR)!r})
        from ci_guard import pytest_collectreport, pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401
    """))
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    tf: x\n    weights: x\n    browser: x\n    latex: x\n")
    (tmp_path / "test_case.py").write_text(textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    if ci:
        env["CI"] = "true"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    if xdist:
        args += ["-n", "2"]
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


SKIPPED_TF = """
    import pytest

    @pytest.mark.tf
    def test_parity():
        pytest.skip("tensorflow not installed")

    def test_other():
        assert 1 + 1 == 2
"""


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist-n2"])
def test_skipped_must_run_test_fails_ci(tmp_path, xdist):
    res = _run(tmp_path, SKIPPED_TF, ci=True, xdist=xdist)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "must-run tests" in res.stdout and "test_parity (tf)" in res.stdout


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist-n2"])
def test_same_skip_outside_ci_passes(tmp_path, xdist):
    res = _run(tmp_path, SKIPPED_TF, ci=False, xdist=xdist)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 passed, 1 skipped" in res.stdout


def test_unmarked_skip_is_allowed_in_ci(tmp_path):
    res = _run(tmp_path, """
        import pytest

        @pytest.mark.skip(reason="not a must-run marker")
        def test_a():
            pass

        @pytest.mark.weights
        def test_b():
            assert True
    """, ci=True, xdist=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_module_skipped_at_collection_fails_ci(tmp_path):
    res = _run(tmp_path, """
        import pytest

        pytest.importorskip("a_module_that_is_not_installed_anywhere")

        def test_a():
            pass
    """, ci=True, xdist=True)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "whole module skipped at collection" in res.stdout
