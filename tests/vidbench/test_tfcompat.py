"""`vidbench.tfcompat.import_tensorflow`: after it, importing torchvision is safe (the bare order segfaults).

Run in a fresh interpreter: this test process already imported torchvision (tests/conftest.py), which would hide the
crash. ``python -c "import torch; import tensorflow; import torchvision"`` dies of SIGSEGV here (torch 2.14.1,
torchvision 0.29.1, tensorflow 2.21.0).
"""

import importlib.util
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import torch
from vidbench.tfcompat import import_tensorflow
assert "torchvision" not in sys.modules and "tensorflow" not in sys.modules, sorted(sys.modules)
tf = import_tensorflow()
assert tf is sys.modules["tensorflow"] and "torchvision" in sys.modules
import torchvision
print("ok", tf.__version__, torchvision.__version__)
"""


@pytest.mark.tf
@pytest.mark.timeout(300)  # one TensorFlow import: ~7 s on an idle 2-core machine
def test_torchvision_imports_after_import_tensorflow(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (pip install 'vidbench[tf]')")
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert r.stdout.startswith("ok "), r.stdout
