"""C3D (Tran et al. 2015), Sports-1M pre-trained and fine-tuned on UCF-101: the classifier of the video Inception Score.

A PyTorch port of pfnet-research/tgan2 ``C3DVersion1UCF101`` (CHECKPOINT_FORMATS.md §2a, BASELINES.md §1.6) with a
loader for its Chainer files ``conv3d_deepnetA_ucf.npz`` (weights) and ``mean2.npz`` (the Sports-1M mean clip, BGR,
0..255), plus a wrapper for StyleGAN-V's TorchScript ``c3d_ucf101.pt`` (§2b).

Preprocessing (TGANv2, in this order; input video RGB in [-1, 1], ``[N, 3, 16, H, W]``):

1. ``pre``: RGB→BGR and ×128 (a fixed 1×1×1 conv in TGANv2) → values in [-128, 128];
2. ``c3d_resize``: every frame to 112×112, bilinear with ``align_corners=True`` (Chainer ``resize_images``);
3. add ``128 − mean2[:, :, 8:120, 8:120]`` → ``(128 x + 128) − mean`` (note: the width crop 8:120 of 171 is not
   centred; TGANv2 does exactly this);
4. conv1a → ReLU → pool1 (1,2,2); conv2a → pool2; conv3a/b → pool3; conv4a/b → pool4; conv5a/b → pool5 (2×2×2 max
   pools, Chainer ``cover_all=True`` = ``ceil_mode=True``: pool5 maps 7×7 → 4×4, so fc6 sees 512·1·4·4 = 8192);
   fc6 → ReLU → fc7 → ReLU → fc8 (dropout inactive at test time) → softmax over 101 classes.

uint8 interchange videos enter as ``x = u / 127.5 − 1`` (so ``128 x + 128 = u · 128 / 127.5``, what TGANv2 computes
on a generator output equal to that uint8 frame).

Weights are never downloaded implicitly; a missing file raises :class:`~vidbench.errors.WeightsMissingError` naming
the file, its URL and ``--weights-dir`` / ``VIDBENCH_WEIGHTS``. ``c3d[random-init]`` (tests and smoke runs only)
uses TGANv2's paper initialisation and a constant per-channel mean; its scores are not comparable to anything.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vidbench.errors import VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS
from vidbench.weights import WeightSpec, register_weights, resolve_weights, sha256_file

NUM_CLASSES = 101
NUM_FRAMES = 16
CROP = 112  # C3D input size
MEAN_SHAPE = (3, 16, 128, 171)  # mean2.npz "mean": BGR, [C, T, H, W], 0..255
MEAN_CROP = (slice(8, 8 + CROP), slice(8, 8 + CROP))  # TGANv2: mean[:, :, 8:120, 8:120]
# per-channel BGR means written (commented out) in TGANv2's c3d_ucf101.py; used only by random-init mode
RANDOM_INIT_BGR_MEAN = (90.25164795, 97.65701294, 101.4083252)
C3D_RESIZE_MODES = ("bilinear_align_corners", "bilinear_half_pixel")

# ---------------------------------------------------------------------------------------------------- weights
WEIGHTS_TGANV2 = register_weights(
    WeightSpec(
        name="c3d.ucf101_tganv2",
        filename="conv3d_deepnetA_ucf.npz",
        url="https://github.com/rezoo/tgan2/releases/download/v1.0/conv3d_deepnetA_ucf.npz",
        sha256=None,  # not published (CHECKPOINT_FORMATS.md §2a)
        license="no licence statement (converted from the C3D Caffe model c3d_ucf101_finetune_whole_iter_20000); "
        "tgan2 code MIT",
        description="C3D Sports-1M fine-tuned on UCF-101, TGANv2 Chainer npz (22 arrays; needs mean2.npz)",
        source="pfnet-research/tgan2 README, release v1.0 (also http://vlg.cs.dartmouth.edu/c3d/)",
    ),
    aliases=("c3d",),
)
WEIGHTS_TGANV2_MEAN = register_weights(
    WeightSpec(
        name="c3d.ucf101_tganv2_mean",
        filename="mean2.npz",
        url="https://github.com/rezoo/tgan2/releases/download/v1.0/mean2.npz",
        sha256=None,
        license="no licence statement",
        description="Sports-1M mean clip for C3D (key 'mean', BGR, 0..255, 3·16·128·171 values)",
        source="pfnet-research/tgan2 release v1.0; TGAN v1 mirror "
        "https://github.com/pfnet-research/tgan/releases/download/v1.0.0/mean2.npz",
    ),
)
WEIGHTS_STYLEGANV_TS = register_weights(
    WeightSpec(
        name="c3d.ucf101_styleganv_ts",
        filename="c3d_ucf101.pt",
        url="https://www.dropbox.com/s/jxpu7avzdc9n97q/c3d_ucf101.pt?dl=1",
        sha256=None,
        license="no licence statement",
        description="StyleGAN-V TorchScript of TGANv2's C3D (uint8 [B,3,16,H,W] → class probabilities [B,101])",
        source="universome/stylegan-v src/metrics/video_inception_score.py",
    ),
)

# Chainer npz key → (PyTorch state_dict key, shape). Chainer ConvolutionND W is [out,in,kT,kH,kW] and Linear W is
# [out,in], the PyTorch layouts, so arrays load unchanged (CHECKPOINT_FORMATS.md §0, §2a).
_CONVS = (
    ("conv1a", 3, 64), ("conv2a", 64, 128), ("conv3a", 128, 256), ("conv3b", 256, 256),
    ("conv4a", 256, 512), ("conv4b", 512, 512), ("conv5a", 512, 512), ("conv5b", 512, 512),
)
_FCS = (("fc6", 8192, 4096), ("fc7", 4096, 4096), ("fc8", 4096, NUM_CLASSES))


def chainer_key_map() -> dict[str, tuple[str, tuple[int, ...]]]:
    """The 22 keys of ``conv3d_deepnetA_ucf.npz`` mapped to (state_dict key, expected shape)."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, cin, cout in _CONVS:
        out[f"{name}/W"] = (f"{name}.weight", (cout, cin, 3, 3, 3))
        out[f"{name}/b"] = (f"{name}.bias", (cout,))
    for name, fin, fout in _FCS:
        out[f"{name}/W"] = (f"{name}.weight", (fout, fin))
        out[f"{name}/b"] = (f"{name}.bias", (fout,))
    return out


# ---------------------------------------------------------------------------------------------------- network
class C3D(nn.Module):
    """C3D conv1a…conv5b + fc6/fc7/fc8 on preprocessed clips [N, 3, 16, 112, 112] (BGR, mean-subtracted)."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        for name, cin, cout in _CONVS:
            setattr(self, name, nn.Conv3d(cin, cout, kernel_size=3, stride=1, padding=1))
        self.fc6 = nn.Linear(512 * 1 * 4 * 4, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, num_classes)
        # Chainer max_pooling_nd(cover_all=True) == ceil_mode (only pool5, 7 → 4, is affected at 112×112×16)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2), ceil_mode=True)
        self.pool = nn.MaxPool3d(kernel_size=2, stride=2, ceil_mode=True)

    def reset_parameters_tganv2(self, generator: torch.Generator | None = None) -> None:
        """TGANv2's from-scratch init (C3D paper): conv W ~ N(0, 0.01), b = 0; fc W ~ N(0, 0.005), b = 1."""
        for name, _, _ in _CONVS:
            conv = getattr(self, name)
            nn.init.normal_(conv.weight, 0.0, 0.01, generator=generator)
            nn.init.zeros_(conv.bias)
        for name, _, _ in _FCS:
            fc = getattr(self, name)
            nn.init.normal_(fc.weight, 0.0, 0.005, generator=generator)
            nn.init.ones_(fc.bias)

    def conv_features(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, 16, 112, 112] → pool5 output [N, 512, 1, 4, 4]."""
        h = self.pool1(F.relu(self.conv1a(x)))  # [N, 64, 16, 56, 56]
        h = self.pool(F.relu(self.conv2a(h)))  # [N, 128, 8, 28, 28]
        h = self.pool(F.relu(self.conv3b(F.relu(self.conv3a(h)))))  # [N, 256, 4, 14, 14]
        h = self.pool(F.relu(self.conv4b(F.relu(self.conv4a(h)))))  # [N, 512, 2, 7, 7]
        h = self.pool(F.relu(self.conv5b(F.relu(self.conv5a(h)))))  # [N, 512, 1, 4, 4] (ceil mode)
        return h

    def forward(self, x: torch.Tensor, layer: str = "fc8") -> torch.Tensor:
        """Logits [N, 101] (``layer="fc8"``) or fc6/fc7 activations after ReLU [N, 4096]."""
        h = self.conv_features(x).flatten(1)  # [N, 8192], C,T,H,W order as Chainer's Linear reshape
        if h.shape[1] != self.fc6.in_features:
            raise VidbenchError(
                f"C3D: pool5 gives {h.shape[1]} features, fc6 expects {self.fc6.in_features}; input must be "
                f"[N, 3, {NUM_FRAMES}, {CROP}, {CROP}]"
            )
        h = F.relu(self.fc6(h))  # [N, 4096]
        if layer == "fc6":
            return h
        h = F.relu(self.fc7(h))  # [N, 4096]
        if layer == "fc7":
            return h
        if layer != "fc8":
            raise VidbenchError(f"C3D: unknown layer {layer!r}; choose fc6, fc7 or fc8")
        return self.fc8(h)  # [N, 101]


def c3d_resize(x: torch.Tensor, size: int = CROP, mode: str = "bilinear_align_corners") -> torch.Tensor:
    """Resize every frame of [N, C, T, H, W] to size×size (TGANv2 ``_resize``: Chainer bilinear, align_corners)."""
    n, c, t, h, w = x.shape
    if mode not in C3D_RESIZE_MODES:
        raise VidbenchError(f"unknown c3d_resize {mode!r}; choose one of {', '.join(C3D_RESIZE_MODES)}")
    if (h, w) == (size, size):
        return x
    frames = x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)  # [N·T, C, H, W]
    frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=(mode == "bilinear_align_corners"))
    return frames.reshape(n, t, c, size, size).permute(0, 2, 1, 3, 4)  # [N, C, T, size, size]


class TGANv2Preprocess(nn.Module):
    """RGB [-1, 1] [N, 3, 16, H, W] → C3D input [N, 3, 16, 112, 112]: BGR ×128, resize, + (128 − mean crop)."""

    def __init__(self, mean_clip: np.ndarray | torch.Tensor, resize: str = "bilinear_align_corners"):
        super().__init__()
        mean_clip = torch.from_numpy(np.array(mean_clip, dtype=np.float32))  # a copy
        if tuple(mean_clip.shape) != (3, NUM_FRAMES, CROP, CROP):
            raise VidbenchError(f"C3D mean crop must be [3, 16, 112, 112], got {list(mean_clip.shape)}")
        self.register_buffer("bias", 128.0 - mean_clip)  # [3, 16, 112, 112], BGR
        self.resize = resize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5 or x.shape[1] != 3 or x.shape[2] != NUM_FRAMES:
            raise VidbenchError(f"C3D expects [N, 3, {NUM_FRAMES}, H, W] in [-1, 1], got {list(x.shape)}")
        h = x.flip(1) * 128.0  # RGB→BGR, ×128 (TGANv2 "pre" 1×1×1 conv)
        h = c3d_resize(h, CROP, self.resize)  # [N, 3, 16, 112, 112]
        return h + self.bias  # = 128x + 128 − mean


class C3DClassifier(nn.Module):
    """TGANv2 ``C3DVersion1UCF101``: preprocessing + C3D. ``forward(x ∈ [-1,1] RGB [N,3,16,H,W]) -> logits``."""

    def __init__(self, mean_clip, resize: str = "bilinear_align_corners"):
        super().__init__()
        self.pre = TGANv2Preprocess(mean_clip, resize)
        self.net = C3D()

    def forward(self, x: torch.Tensor, layer: str = "fc8") -> torch.Tensor:
        return self.net(self.pre(x), layer=layer)


# ---------------------------------------------------------------------------------------------------- loaders
def load_tganv2_npz(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read ``conv3d_deepnetA_ucf.npz`` (Chainer ``save_npz``) → a C3D state_dict, remapping and checking every key."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise VidbenchError(f"{path}: not a readable numpy .npz ({e}); expected TGANv2's conv3d_deepnetA_ucf.npz") from None
    keys = set(npz.files)
    kmap = chainer_key_map()
    missing = sorted(set(kmap) - keys)
    if missing:
        raise VidbenchError(
            f"{path}: missing {len(missing)} C3D arrays ({', '.join(missing[:6])}{', …' if len(missing) > 6 else ''}); "
            f"file has {len(keys)} keys ({', '.join(sorted(keys)[:6])}…) — is this TGANv2's conv3d_deepnetA_ucf.npz?"
        )
    unexpected = sorted(keys - set(kmap))
    if unexpected:
        raise VidbenchError(f"{path}: unexpected arrays {', '.join(unexpected[:6])}; expected exactly the 22 C3D arrays")
    state = {}
    for ckey, (tkey, shape) in kmap.items():
        arr = npz[ckey]
        if tuple(arr.shape) != shape:
            raise VidbenchError(f"{path}: {ckey} has shape {list(arr.shape)}, expected {list(shape)}")
        state[tkey] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    return state


def load_mean2(path: str | os.PathLike) -> np.ndarray:
    """Read ``mean2.npz`` → float32 [3, 16, 128, 171] (BGR, 0..255). Accepts the 4-D layout and 5-D ones with a
    singleton axis (TGAN v1 reshapes to (3, 1, 16, 128, 171))."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise VidbenchError(f"{path}: not a readable numpy .npz ({e}); expected TGANv2's mean2.npz") from None
    if "mean" not in npz.files:
        raise VidbenchError(f"{path}: no array 'mean' (keys: {', '.join(npz.files)}); expected TGANv2's mean2.npz")
    mean = np.asarray(npz["mean"], dtype=np.float32)
    squeezed = tuple(d for d in mean.shape if d != 1)
    if mean.ndim not in (4, 5) or squeezed != MEAN_SHAPE:
        raise VidbenchError(
            f"{path}: 'mean' has shape {list(mean.shape)}; expected {list(MEAN_SHAPE)} (or 5-D with a singleton axis)"
        )
    return mean.reshape(MEAN_SHAPE)


def mean_crop(mean: np.ndarray) -> np.ndarray:
    """TGANv2's crop ``mean[:, :, 8:120, 8:120]`` → [3, 16, 112, 112]."""
    return np.ascontiguousarray(mean[:, :, MEAN_CROP[0], MEAN_CROP[1]])


def is_torchscript_file(path: str | os.PathLike) -> bool:
    """True for a TorchScript archive (a zip holding ``*/code/`` and ``*/constants.pkl``)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names)


# ---------------------------------------------------------------------------------------------------- detector
@dataclass
class C3DDetector:
    """uint8 videos [B, T, H, W, 3] → class probabilities [B, 101] (float64), plus provenance for the record."""

    model: nn.Module
    kind: str  # "tganv2_npz" | "torchscript" | "random_init"
    label: str  # "c3d", "c3d[torchscript]", "c3d[random-init]"
    weights_hash: str | None
    weights_verified: str | bool | None
    registered: bool  # the file's sha256 matched a *published* registered hash (never by file name alone)
    device: str = "cpu"
    mean_hash: str | None = None  # sha256 of mean2.npz (TGANv2 npz only)
    file_sha256: str | None = None  # sha256 of the weights file itself
    reasons: tuple[str, ...] = ()  # why values from these weights are not comparable to published numbers

    def _clip(self, videos) -> np.ndarray:
        v = np.asarray(videos)
        if v.ndim == 4:
            v = v[None]
        if v.dtype != np.uint8 or v.ndim != 5 or v.shape[-1] != 3:
            raise VidbenchError(f"C3D: expected uint8 [B, T, H, W, 3], got {v.dtype} {list(v.shape)}")
        if v.shape[1] < NUM_FRAMES:
            raise VidbenchError(f"C3D needs {NUM_FRAMES} frames per video, got {v.shape[1]}")
        return v[:, :NUM_FRAMES]

    @torch.no_grad()
    def logits_or_probs(self, videos, layer: str = "fc8") -> torch.Tensor:
        v = self._clip(videos)
        u = torch.from_numpy(np.ascontiguousarray(v)).to(self.device).permute(0, 4, 1, 2, 3)  # [B, 3, 16, H, W]
        if self.kind == "torchscript":
            if layer != "fc8":
                raise VidbenchError("the StyleGAN-V TorchScript C3D exposes class probabilities only")
            return self.model(u)  # uint8 in, probabilities out (StyleGAN-V uses them without a softmax)
        x = u.float() / 127.5 - 1.0  # uint8 → [-1, 1]
        return self.model(x, layer=layer)

    def probs(self, videos) -> np.ndarray:
        """Softmax class probabilities [B, 101] float64 (TorchScript: the file's output as is)."""
        out = self.logits_or_probs(videos)
        if self.kind != "torchscript":
            out = torch.softmax(out.double(), dim=1)
        return out.double().cpu().numpy()

    def features(self, videos, layer: str = "fc7") -> np.ndarray:
        """fc6/fc7 activations [B, 4096] float64 (TGANv2's C3D "FID" uses fc7)."""
        return self.logits_or_probs(videos, layer=layer).double().cpu().numpy()


def _find_mean(weights_path: Path, mean: str | os.PathLike | None, weights_dir) -> tuple[Path, str, str | bool]:
    if mean is not None:
        r = resolve_weights(mean, weights_dir=weights_dir)
        return r.path, r.sha256, r.verified
    beside = weights_path.with_name(WEIGHTS_TGANV2_MEAN.filename)
    if beside.exists():
        return beside, sha256_file(beside), False
    try:
        r = resolve_weights(WEIGHTS_TGANV2_MEAN.name, weights_dir=weights_dir)
    except WeightsMissingError as e:
        raise WeightsMissingError(f"C3D needs the Sports-1M mean clip as well: {e}") from None
    return r.path, r.sha256, r.verified


def load_c3d_detector(
    weights: str | os.PathLike | None = WEIGHTS_TGANV2.name,
    *,
    mean: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    random_init: bool = False,
    c3d_resize_mode: str = "bilinear_align_corners",
    seed: int = 0,
) -> C3DDetector:
    """Build the C3D detector.

    ``weights``: a registered name (``c3d.ucf101_tganv2``, ``c3d.ucf101_styleganv_ts``) or a path to a TGANv2 npz or a
    StyleGAN-V TorchScript file. ``mean``: name/path of ``mean2.npz`` (default: beside the npz, else the registered
    ``c3d.ucf101_tganv2_mean``). ``random_init``: TGANv2 paper init + constant BGR mean (tests/smoke only).
    """
    if c3d_resize_mode not in C3D_RESIZE_MODES:
        raise VidbenchError(f"unknown c3d_resize {c3d_resize_mode!r}; choose one of {', '.join(C3D_RESIZE_MODES)}")
    if random_init:
        mean_clip = np.broadcast_to(
            np.asarray(RANDOM_INIT_BGR_MEAN, np.float32)[:, None, None, None], (3, NUM_FRAMES, CROP, CROP)
        )
        model = C3DClassifier(mean_clip, c3d_resize_mode)
        model.net.reset_parameters_tganv2(torch.Generator().manual_seed(seed))
        from vidbench.metrics.base import RANDOM_INIT_REASON

        return C3DDetector(model.eval().to(device), "random_init", "c3d[random-init]", None, None, False, device,
                           reasons=(RANDOM_INIT_REASON,))
    if weights is None:
        weights = WEIGHTS_TGANV2.name
    r = resolve_weights(weights, weights_dir=weights_dir)
    known = r.spec is not None  # a registered name, or a file whose hash equals a registered one
    if (known and r.spec.name == WEIGHTS_STYLEGANV_TS.name) or (not known and is_torchscript_file(r.path)):
        if not is_torchscript_file(r.path):
            raise VidbenchError(f"{r.path}: not a TorchScript archive; expected StyleGAN-V's c3d_ucf101.pt")
        ts = torch.jit.load(str(r.path), map_location=device).eval()
        reasons = (_weights_reason(r, WEIGHTS_STYLEGANV_TS, "C3D TorchScript"),) if not r.registered else ()
        return C3DDetector(ts, "torchscript", "c3d[torchscript]", r.sha256, r.verified or False, r.registered,
                           device, file_sha256=r.sha256, reasons=reasons)
    if known and r.spec.name == WEIGHTS_TGANV2_MEAN.name:
        raise VidbenchError(f"{r.path} is the mean clip, not the C3D weights; pass conv3d_deepnetA_ucf.npz")
    state = load_tganv2_npz(r.path)
    mean_path, mean_hash, mean_verified = _find_mean(Path(r.path), mean, weights_dir)
    model = C3DClassifier(mean_crop(load_mean2(mean_path)), c3d_resize_mode)
    model.net.load_state_dict(state, strict=True)
    mean_r = resolve_weights(mean_path)  # identified by its content hash, whatever its name or folder
    reasons = tuple(x for x in (None if r.registered else _weights_reason(r, WEIGHTS_TGANV2, "C3D weights"),
                                None if mean_r.registered else _weights_reason(mean_r, WEIGHTS_TGANV2_MEAN,
                                                                               "C3D mean2.npz")) if x)
    verified = r.verified if (r.registered and mean_r.registered) else False
    return C3DDetector(
        model.eval().to(device), "tganv2_npz", "c3d", combined_weights_hash(r.sha256, mean_hash), verified,
        r.registered and mean_r.registered, device, mean_hash=mean_hash, file_sha256=r.sha256, reasons=reasons,
    )


def combined_weights_hash(weights_sha256: str, mean_sha256: str) -> str:
    """One identity for the two files the TGANv2 C3D needs: sha256 of ``"c3d <sha256>\nmean2 <sha256>\n"``; it is
    the result's ``weights_hash``, so the protocol id changes when either file does."""
    import hashlib

    return hashlib.sha256(f"c3d {weights_sha256}\nmean2 {mean_sha256}\n".encode()).hexdigest()


def _weights_reason(r, expected: WeightSpec, what: str) -> str:
    """Comparability reason for a resolved file that is not hash-verified (shared policy in metrics/base.py): the
    ``expected`` file has no published hash → "unverified" (recorded by its sha256); else → "unregistered"."""
    from vidbench.metrics.base import unregistered_weights_reason, unverified_weights_reason

    spec = r.spec or expected
    if not (spec.sha256 or spec.git_blob_sha1):  # nobody published a hash: the user's file is recorded by its sha256
        return unverified_weights_reason(r.sha256, what)
    return unregistered_weights_reason(r.sha256, what)


DETECTORS.add(
    "c3d",
    load_c3d_detector,
    description="C3D Sports-1M→UCF-101 (TGANv2 npz + mean2.npz, or StyleGAN-V TorchScript); video IS classifier",
    weights=(WEIGHTS_TGANV2.name, WEIGHTS_TGANV2_MEAN.name, WEIGHTS_STYLEGANV_TS.name),
    input="uint8 [B,16,H,W,3] → [-1,1] → BGR×128 → bilinear 112² (align_corners) → +128−mean2[:,:,8:120,8:120]",
)
