"""The distribution installs models/, metrics/, baselines/ under the vidbench namespace (editable and wheel)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {"vidbench": "vidbench", "models": "vidbench.models", "metrics": "vidbench.metrics",
           "leaderboards": "vidbench.leaderboards",
           "baselines": "vidbench.baselines"}


def _declared_packages():
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def _source_packages():
    found = set()
    for folder, ns in FOLDERS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([ns, *rel.parts]) if rel.parts else ns)
    return found


def test_every_package_folder_is_declared():
    assert _source_packages() == _declared_packages()


def test_editable_install_maps_namespace():
    import vidbench.baselines
    import vidbench.metrics
    import vidbench.models

    assert Path(vidbench.metrics.__file__).parent == REPO / "metrics"
    assert Path(vidbench.models.__file__).parent == REPO / "models"
    assert Path(vidbench.baselines.__file__).parent == REPO / "baselines"


@pytest.mark.timeout(300)
def test_wheel_installs_and_imports_outside_repo(tmp_path):
    # build from a copy so setuptools' build/ folder never lands in the checkout
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for folder in FOLDERS:
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(src)], check=True, cwd=tmp_path)
    wheel = next(dist.glob("vidbench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "vidbench/metrics/base.py" in names and "vidbench/schemas/run_record_v1.json" in names
    assert "vidbench/schemas/run_record_v2.json" in names
    assert not any(n.startswith(("models/", "metrics/", "baselines/", "tests/")) for n in names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    code = ("import vidbench, vidbench.metrics.base, vidbench.records as r; "
            "assert vidbench.__file__.startswith(%r); assert r.SCHEMA_PATH.exists(); print('ok')" % str(target))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    # the paper tables read leaderboards/ shipped as vidbench/leaderboards
    assert "vidbench/leaderboards/published.csv" in names and "vidbench/leaderboards/table1.yaml" in names
    out = subprocess.run([sys.executable, "-m", "vidbench.cli", "table", "--paper", "1"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "33.95 ± .25" in out.stdout and "1209 ± 28" in out.stdout
    # the quickstart's frozen image generator ships in the wheel and resolves (sha256-verified) from the install
    assert "vidbench/assets/stylegan2-moving_mnist32-tiny.pt" in names
    code = ("from vidbench.weights import resolve_weights; r = resolve_weights('stylegan2.moving_mnist32_tiny'); "
            "assert str(r.path).startswith(%r), r.path; assert r.verified == 'sha256'; print('ok')" % str(target))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
