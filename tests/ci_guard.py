"""CI guard: under ``CI=true`` the run fails if any test carrying a must-run marker was skipped.

The proof that the reference tests ran must not disappear silently (a missing TensorFlow, browser, LaTeX or weight
fetch would otherwise turn the parity tests into skips and leave CI green). The check reads test *reports*
(``pytest_runtest_logreport``), which pytest-xdist forwards from its workers to the controller, so it works the same
under ``pytest -n 2`` as serially; the old hook (``pytest_runtest_makereport``) ran inside the workers, whose state the
controller never saw. Collection-level skips (a module skipped as a whole) are counted too: their markers are not
known, so any of them fails a CI run.

Loaded by tests/conftest.py; tests/vidbench/test_ci_guard.py runs pytest in a subprocess to prove it.
"""

from __future__ import annotations

import os

import pytest

MUST_RUN = ("tf", "weights", "latex", "browser")
_SKIPPED: list[str] = []  # node ids of skipped must-run tests, gathered in the controller (or the only process)


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")  # pytest-xdist worker process


def pytest_runtest_logreport(report):
    if not (report.skipped and _in_ci()):
        return
    marks = [m for m in MUST_RUN if m in report.keywords]
    if marks:
        _SKIPPED.append(f"{report.nodeid} ({','.join(marks)})")


def pytest_collectreport(report):
    if report.skipped and _in_ci():
        _SKIPPED.append(f"{report.nodeid} (whole module skipped at collection)")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _is_worker(session.config) or not _SKIPPED:
        return
    lines = sorted(set(_SKIPPED))
    msg = ("CI=true and these must-run tests (markers " + "/".join(MUST_RUN) + ") were skipped:\n  "
           + "\n  ".join(lines))
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        tr.write_line(msg, red=True)
    else:  # pragma: no cover
        print(msg)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
