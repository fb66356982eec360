"""vidbench: train and fairly evaluate video generators (MoCoGAN-HD, baselines, reference-exact metrics).

Import order matters: torch must be imported before tensorflow (tensorflow first segfaults through triton's native
library), so vidbench imports torch eagerly here and loads tensorflow lazily wherever it is needed.
"""

import torch  # noqa: F401  (imported first on purpose; see module docstring)

__version__ = "0.1.0"
