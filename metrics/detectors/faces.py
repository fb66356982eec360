"""Face networks for the Average Content Distance (ACD): dlib ResNet (offline) and FaceNet (facenet-pytorch).

Two embedders, each mapping the frames of one video (uint8 RGB ``[T,H,W,3]``) to per-frame embeddings ``[T,D]``
(float64; rows of frames without a detected face are NaN and flagged in a boolean mask):

* :class:`DlibFaceEmbedder` — the pinned offline embedder of ``acd256_dlib`` (PROTOCOLS.md "ACD"): dlib's HOG frontal
  face detector with 1 upsample, the largest detection, the 5-point landmark model, a 150×150 aligned chip (padding
  0.25, dlib's default) and ``dlib_face_recognition_resnet_model_v1`` with ``num_jitters=1`` → 128-d descriptor.
  The model files come from the PyPI package ``face-recognition-models`` (located through its files, without
  importing it: its ``__init__`` needs ``pkg_resources``) or from ``--weights-dir`` / ``$VIDBENCH_WEIGHTS``.
* :class:`FacenetEmbedder` — ``facenet-pytorch``'s ``InceptionResnetV1`` with the VGGFace2 weights (``acd256_facenet``;
  the MoCoGAN-HD authors' sketch in their GitHub issue #13): ``crop="none"`` average-pools whole frames to 128×128
  (256→128 for the paper's 256² videos), ``crop="mtcnn"`` takes the largest MTCNN face as a 160×160 crop (MTCNN
  weights ship inside the facenet-pytorch wheel). Output: the L2-normalised 512-d ``last_bn`` embedding.
  The VGGFace2 file is never downloaded silently: we build the network with ``pretrained=None`` and load the file
  ourselves (explicit key/shape checks), raising :class:`~vidbench.errors.WeightsMissingError` when it is absent.

Both modules import dlib / facenet-pytorch lazily, so importing this module is cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidbench.errors import MissingCapabilityError, VidbenchError, WeightsMissingError
from vidbench.registry import DETECTORS
from vidbench.weights import (
    WeightSpec,
    load_state_dict_checked,
    read_torch_state_dict,
    register_weights,
    resolve_weights,
)

# ----------------------------------------------------------------------------------------------- weight registry
FACENET_VGGFACE2 = register_weights(
    WeightSpec(
        name="facenet.vggface2",
        filename="20180402-114759-vggface2.pt",
        url="https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/20180402-114759-vggface2.pt",
        sha256=None,  # not published (CHECKPOINT_FORMATS.md §3); the record carries the file's sha256
        license="MIT (facenet-pytorch, davidsandberg/facenet); VGGFace2 dataset terms not stated",
        description="FaceNet InceptionResnetV1 trained on VGGFace2 (facenet-pytorch port, ~107 MB, LFW 0.9965)",
        source="timesler/facenet-pytorch release v2.2.9 (torch state_dict incl. logits.[8631,512])",
    ),
    aliases=("facenet",),
)

# The dlib model files as distributed in the PyPI package face-recognition-models 0.3.0 (sha256 of those files,
# measured on the installed package; sizes in bytes). Upstream: dlib.net/files/*.dat.bz2 (Davis King, CC0 / public).
_DLIB_FILES = {
    "resnet": ("dlib_face_recognition_resnet_model_v1.dat", 22466066,
               "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"),
    "landmarks5": ("shape_predictor_5_face_landmarks.dat", 9150489,
                   "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"),
}
DLIB_RESNET = register_weights(
    WeightSpec(
        name="dlib.resnet_v1",
        filename=_DLIB_FILES["resnet"][0],
        url=None,
        package="face_recognition_models:models/" + _DLIB_FILES["resnet"][0],
        sha256=_DLIB_FILES["resnet"][2],
        size=_DLIB_FILES["resnet"][1],
        license="CC0 1.0 (dlib model files); package MIT",
        description="dlib face recognition ResNet (128-d, LFW 0.9938), shipped by pip face-recognition-models",
        source="pip install face-recognition-models (or dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2)",
    ),
    aliases=("dlib",),
)
DLIB_LANDMARKS5 = register_weights(
    WeightSpec(
        name="dlib.landmarks5",
        filename=_DLIB_FILES["landmarks5"][0],
        url=None,
        package="face_recognition_models:models/" + _DLIB_FILES["landmarks5"][0],
        sha256=_DLIB_FILES["landmarks5"][2],
        size=_DLIB_FILES["landmarks5"][1],
        license="CC0 1.0 (dlib model files); package MIT",
        description="dlib 5-point face landmark predictor used to align the 150x150 chip",
        source="pip install face-recognition-models (or dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2)",
    ),
)


def _locate_dlib_file(spec: WeightSpec, weights_dir: str | os.PathLike | None) -> tuple[Path, str, str | bool]:
    """Return (path, sha256, verified) for a dlib model file: weights dir / $VIDBENCH_WEIGHTS / cache, then the file
    shipped by the face-recognition-models package (``spec.package``); always sha256-verified."""
    try:
        r = resolve_weights(spec.name, weights_dir=weights_dir)
    except WeightsMissingError:
        raise WeightsMissingError(
            f"weights {spec.name} not found: install them with `pip install face-recognition-models dlib-bin`, or put "
            f"{spec.filename} in --weights-dir / $VIDBENCH_WEIGHTS ({spec.source})"
        ) from None
    return r.path, r.sha256, r.verified


# ----------------------------------------------------------------------------------------------- dlib embedder
@dataclass(frozen=True)
class DlibEmbedderConfig:
    """acd256_dlib pinning (PROTOCOLS.md "ACD", offline alternative embedder)."""

    upsample: int = 1  # HOG detector pyramid upsampling
    num_jitters: int = 1  # dlib: values <= 1 mean no jitter (face_recognition's default of 1)
    chip_size: int = 150  # aligned chip fed to the ResNet (fixed by the model)
    padding: float = 0.25  # chip padding around the 5 landmarks (dlib default)


class DlibFaceEmbedder:
    """HOG face detector → largest face → 5-point landmarks → 150×150 aligned chip → 128-d ResNet descriptor."""

    dim = 128
    label = "dlib_resnet_v1"

    def __init__(self, config: DlibEmbedderConfig | None = None, *, weights_dir: str | os.PathLike | None = None):
        try:
            import dlib
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise MissingCapabilityError(
                f"the dlib face embedder needs dlib ({e}); install it with `pip install dlib-bin face-recognition-models`"
            ) from None
        self.config = config or DlibEmbedderConfig()
        resnet_path, self.weights_hash, self.weights_verified = _locate_dlib_file(DLIB_RESNET, weights_dir)
        lm_path, self.landmarks_hash, _ = _locate_dlib_file(DLIB_LANDMARKS5, weights_dir)
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(lm_path))
        self._net = dlib.face_recognition_model_v1(str(resnet_path))
        self._dlib = dlib

    def largest_face(self, img: np.ndarray):
        """The largest HOG detection (by box area) in one uint8 RGB [H,W,3] image, or None."""
        rects = self._detector(img, self.config.upsample)
        if len(rects) == 0:
            return None
        return max(rects, key=lambda r: (r.width() * r.height(), -r.top(), -r.left()))

    def embed_frames(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB [T,H,W,3] → (embeddings float64 [T,128] with NaN rows for faceless frames, found bool [T])."""
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise VidbenchError(f"dlib embedder: expected uint8 [T,H,W,3], got {frames.dtype} {list(frames.shape)}")
        T = frames.shape[0]
        out = np.full((T, self.dim), np.nan, dtype=np.float64)
        found = np.zeros(T, dtype=bool)
        imgs, shapes, idx = [], [], []
        for t in range(T):
            img = np.ascontiguousarray(frames[t])
            rect = self.largest_face(img)
            if rect is None:
                continue
            dets = self._dlib.full_object_detections()
            dets.append(self._landmarks(img, rect))
            imgs.append(img)
            shapes.append(dets)
            idx.append(t)
        if imgs:
            # batched descriptor: one aligned chip per image (dlib overload 4: list of images, list of detections)
            vecs = self._net.compute_face_descriptor(imgs, shapes, self.config.num_jitters, self.config.padding)
            for t, v in zip(idx, vecs):
                out[t] = np.asarray(v[0], dtype=np.float64)
                found[t] = True
        return out, found


# ----------------------------------------------------------------------------------------------- FaceNet embedder
# Key layout of the facenet-pytorch release files (CHECKPOINT_FORMATS.md §3): 716 keys incl. 112 num_batches_tracked,
# plus the classifier head logits.{weight,bias} that the embedder does not use.
FACENET_NUM_KEYS = 716
FACENET_NUM_BN_TRACKED = 112
_FACENET_HEAD_KEYS = ("logits.weight", "logits.bias")


def load_facenet_state_dict(path: str | os.PathLike, model) -> dict:
    """Load a facenet-pytorch ``InceptionResnetV1`` state-dict file into ``model`` with explicit checks.

    Accepts files with or without ``*.num_batches_tracked``; drops the ``logits.*`` classifier head (any number of
    classes: 8631 for VGGFace2, 10575 for CASIA-WebFace); every other key must exist in the model with the same shape.
    Returns a small report dict (number of tensors loaded, head classes).
    """
    sd = read_torch_state_dict(path)
    head = {k: sd[k] for k in _FACENET_HEAD_KEYS if k in sd}
    own = model.state_dict()
    unexpected = sorted(k for k in sd if k not in own and k not in _FACENET_HEAD_KEYS)
    missing = sorted(k for k in own if k not in sd and not k.endswith("num_batches_tracked"))
    if unexpected or missing:
        raise VidbenchError(
            f"{path}: not a facenet-pytorch InceptionResnetV1 state_dict: "
            f"{len(missing)} missing keys (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    load_state_dict_checked(model, {k: v for k, v in sd.items() if k not in _FACENET_HEAD_KEYS}, path)
    return {"tensors": len(sd), "head_classes": int(head["logits.weight"].shape[0]) if head else None}


@dataclass(frozen=True)
class FacenetEmbedderConfig:
    """acd256_facenet pinning (authors' sketch, MoCoGAN-HD GitHub issue #13)."""

    crop: str = "none"  # "none": whole frame average-pooled to pool_to² | "mtcnn": largest MTCNN face, 160×160
    pool_to: int = 128  # crop="none": adaptive average pool of the whole frame (256→128 is an exact 2×2 mean)
    mtcnn_image_size: int = 160
    mtcnn_margin: int = 0


class FacenetEmbedder:
    """facenet-pytorch ``InceptionResnetV1`` (VGGFace2) 512-d embeddings, optionally on MTCNN face crops."""

    dim = 512

    def __init__(self, config: FacenetEmbedderConfig | None = None, *, weights: str | None = None,
                 weights_dir: str | os.PathLike | None = None, random_init: bool = False, device: str = "cpu",
                 batch_size: int = 32, seed: int = 0):
        import torch

        try:
            from facenet_pytorch import InceptionResnetV1
        except ImportError as e:  # pragma: no cover
            raise MissingCapabilityError(f"acd with facenet needs facenet-pytorch ({e}): pip install facenet-pytorch") from None
        self.config = config or FacenetEmbedderConfig()
        if self.config.crop not in ("none", "mtcnn"):
            raise VidbenchError(f"facenet embedder: crop must be 'none' or 'mtcnn', got {self.config.crop!r}")
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.random_init = bool(random_init)
        torch.manual_seed(seed)
        # pretrained=None: facenet-pytorch must never try to download on its own
        self.net = InceptionResnetV1(pretrained=None, classify=False).eval()
        self.reasons: tuple[str, ...] = ()  # why values from these weights are not comparable to published numbers
        if random_init:
            from vidbench.metrics.base import RANDOM_INIT_REASON

            self.weights_hash, self.weights_verified, self.registered = None, False, False
            self.label = "facenet[random-init]"
            self.reasons = (RANDOM_INIT_REASON,)
        else:
            from vidbench.metrics.base import unregistered_weights_reason, unverified_weights_reason

            r = resolve_weights(weights or FACENET_VGGFACE2.name, weights_dir=weights_dir)
            load_facenet_state_dict(r.path, self.net)
            self.weights_hash = r.sha256  # the user's file, by content
            # registered = the content matched a *published* hash (never the file name). The VGGFace2 release has no
            # published sha256: recorded by hash, weights_verified false, comparable only with runs of the same hash
            self.registered = r.registered
            self.weights_verified = r.verified or False
            spec = r.spec or FACENET_VGGFACE2
            if not r.registered:
                no_hash = not (spec.sha256 or spec.git_blob_sha1)
                self.reasons = ((unverified_weights_reason if no_hash else unregistered_weights_reason)(
                    r.sha256, "FaceNet weights"),)
            self.label = "facenet_vggface2" if (r.spec is not None or self.registered) else "facenet[user-weights]"
        self.net.to(self.device)
        self._mtcnn = None
        if self.config.crop == "mtcnn":
            from facenet_pytorch import MTCNN

            # weights ship inside the wheel (facenet_pytorch/data/{p,r,o}net.pt); select_largest picks the biggest box
            self._mtcnn = MTCNN(image_size=self.config.mtcnn_image_size, margin=self.config.mtcnn_margin,
                                post_process=True, select_largest=True, keep_all=False, device=self.device)

    def _prepare(self, frames: np.ndarray):
        """uint8 [T,H,W,3] → (float [T',3,S,S] standardised as (x-127.5)/128, found bool [T])."""
        import torch
        import torch.nn.functional as F

        T = frames.shape[0]
        if self.config.crop == "none":
            x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float()  # [T,3,H,W]
            x = F.adaptive_avg_pool2d(x, self.config.pool_to)  # [T,3,128,128]
            return (x - 127.5) / 128.0, np.ones(T, dtype=bool)
        from PIL import Image

        crops, found = [], np.zeros(T, dtype=bool)
        images = [Image.fromarray(f) for f in frames]
        try:
            faces = self._mtcnn(images)  # batched: list of [3,160,160] (standardised) or None
        except ValueError:
            # facenet-pytorch 2.5.3 with numpy >= 2 fails in batch mode when some images have no face
            # (ragged np.array of boxes); detect one image at a time instead
            faces = [self._mtcnn(im) for im in images]
        for t, face in enumerate(faces):
            if face is not None:
                crops.append(face)
                found[t] = True
        if not crops:
            return None, found
        return torch.stack(crops).to(self.device), found

    def embed_frames(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB [T,H,W,3] → (embeddings float64 [T,512] with NaN rows for faceless frames, found bool [T])."""
        import torch

        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise VidbenchError(f"facenet embedder: expected uint8 [T,H,W,3], got {frames.dtype} {list(frames.shape)}")
        x, found = self._prepare(frames)
        out = np.full((frames.shape[0], self.dim), np.nan, dtype=np.float64)
        if x is None:
            return out, found
        embs = []
        with torch.no_grad():
            for i in range(0, x.shape[0], self.batch_size):
                embs.append(self.net(x[i:i + self.batch_size]).double().cpu().numpy())  # [b,512] L2-normalised
        out[found] = np.concatenate(embs)
        return out, found


# ----------------------------------------------------------------------------------------------- detector registry
@DETECTORS.register("dlib_resnet_v1", description="dlib HOG face detector + 5-point alignment + ResNet 128-d "
                    "(offline, pip face-recognition-models); ACD embedder of acd256_dlib", aliases=("dlib",),
                    weights=(DLIB_RESNET.name, DLIB_LANDMARKS5.name))
def make_dlib_embedder(weights_dir=None, **kw: Any) -> DlibFaceEmbedder:
    return DlibFaceEmbedder(DlibEmbedderConfig(**kw), weights_dir=weights_dir)


@DETECTORS.register("facenet", description="facenet-pytorch InceptionResnetV1 (VGGFace2) 512-d face embedding; "
                    "ACD embedder of acd256_facenet", aliases=("facenet_vggface2",), weights=(FACENET_VGGFACE2.name,))
def make_facenet_embedder(**kw: Any) -> FacenetEmbedder:
    cfg_keys = set(FacenetEmbedderConfig.__dataclass_fields__)
    cfg = FacenetEmbedderConfig(**{k: v for k, v in kw.items() if k in cfg_keys})
    return FacenetEmbedder(cfg, **{k: v for k, v in kw.items() if k not in cfg_keys})


@DETECTORS.register("mtcnn", description="MTCNN face detector/aligner (weights ship in the facenet-pytorch wheel); "
                    "crop=mtcnn of acd256_facenet")
def make_mtcnn(device: str = "cpu", image_size: int = 160, margin: int = 0):
    from facenet_pytorch import MTCNN

    return MTCNN(image_size=image_size, margin=margin, post_process=True, select_largest=True, device=device)
