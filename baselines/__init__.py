"""Baselines of the MoCoGAN-HD comparisons, trained and evaluated by the same pipeline as ``mocohd``.

* :mod:`.tgan_v2` — TGANv2 (IJCV 2020), clean-room PyTorch, MODELS ``tganv2`` (unconditional).
* :mod:`.dtvnet` — DTVNet (ECCV 2020), clean-room PyTorch, MODELS ``dtvnet`` (``task="predict"``).
* :mod:`.samples` — ``samples:PATH``: videos exported by any other project.
* :mod:`.training` — the training-loop plumbing the two trainers share (checkpoints, resume, CSV log, samples).
"""
