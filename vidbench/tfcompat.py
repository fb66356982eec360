"""Import TensorFlow safely in a process that also uses PyTorch.

TensorFlow and torch/torchvision bundle clashing native libraries: importing tensorflow before torch, or torchvision
after torch and tensorflow (``import torch; import tensorflow; import torchvision``), segfaults the process. TensorFlow
is optional (``vidbench[tf]``) and only ever imported lazily; every place that needs it calls
:func:`import_tensorflow`, which imports torch and torchvision first, so a later ``import torchvision`` is safe.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """Import torch and torchvision (each when installed), then tensorflow; return the ``tensorflow`` module.

    Raises ``ImportError`` when tensorflow is not installed (callers name the fix: ``pip install 'vidbench[tf]'``).
    """
    for name in ("torch", "torchvision"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    return importlib.import_module("tensorflow")
