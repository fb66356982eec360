"""Average Content Distance (ACD) — MoCoGAN's identity-consistency metric, paper Table 2 / 5 (PROTOCOLS.md "ACD").

Each frame of a video is embedded with a face network; the ACD of one video is the mean L2 distance between its frame
embeddings (all pairs i<j by default, consecutive pairs selectable); the reported ACD is the mean over videos (lower
= the identity is kept better). The paper evaluates 256 videos and quotes a GT (real-video) value of 0.2935; always
compute the same metric on real videos for the GT row.

Presets (the name is the protocol):

* ``acd256_dlib`` — offline: dlib HOG detector (1 upsample), largest face, 5-point alignment, 150×150 chip,
  ``num_jitters=1``, 128-d ResNet descriptor; raw L2 distances.
* ``acd256_facenet`` — the authors' sketch: facenet-pytorch InceptionResnetV1 (VGGFace2), whole frames
  average-pooled to 128×128 (``crop="none"``); ``crop="mtcnn"`` selectable via ``acd256_facenet_mtcnn``.

Frames without a detected face are excluded from their video's pairs and **counted**; a video with fewer than two
embedded frames gets no ACD value and is counted too (it is never dropped silently: see ``extra`` and ``warnings``).
Exactly N videos are scored (more are ignored and counted). ``comparable_reasons`` (shared policy in
:mod:`vidbench.metrics.base`): random-init embedder; FaceNet VGGFace2 weights have no published sha256, so they are
recorded by the file's sha256 (``weights_verified: false``) and compare only with runs of the same hash, never with
published numbers; N below the protocol; for ``crop="none"`` frames smaller than the pooling size (the authors pool
256² frames to 128²); no face found at all.

Example::

    from vidbench.metrics.acd import average_content_distance
    average_content_distance([emb_video0, emb_video1])        # list of [T,D] arrays -> float
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from vidbench.metrics.base import (
    RANDOM_INIT_REASON,
    Metric,
    MetricOptions,
    as_video_list,
    n_below_reason,
    random_init_requested,
    unregistered_weights_reason,
)

from vidbench.errors import VidbenchError
from vidbench.records import metric_result
from vidbench.registry import METRICS

PAIRS = ("all", "consecutive")


# ----------------------------------------------------------------------------------------------- pure functions
def video_content_distance(embeddings: np.ndarray, pairs: str = "all") -> float:
    """ACD of one video: mean L2 distance between frame embeddings ``[T,D]`` (MoCoGAN ACD, paper Table 2).

    ``pairs="all"``: mean over all pairs i<j (T(T-1)/2 pairs); ``"consecutive"``: mean over (t, t+1).
    Rows containing NaN (frames without a face) are removed first; fewer than two rows left → NaN.
    """
    if pairs not in PAIRS:
        raise VidbenchError(f"ACD: pairs must be one of {PAIRS}, got {pairs!r}")
    e = np.asarray(embeddings, dtype=np.float64)
    if e.ndim != 2:
        raise VidbenchError(f"ACD: embeddings of one video must be [T,D], got shape {list(e.shape)}")
    e = e[~np.isnan(e).any(axis=1)]
    if e.shape[0] < 2:
        return float("nan")
    if pairs == "consecutive":
        return float(np.linalg.norm(e[1:] - e[:-1], axis=1).mean())
    # all pairs i<j: |a-b|^2 = |a|^2 + |b|^2 - 2 a.b, computed on mean-centred rows for accuracy
    c = e - e.mean(axis=0, keepdims=True)  # [T,D]
    sq = (c * c).sum(axis=1)  # [T]
    d2 = sq[:, None] + sq[None, :] - 2.0 * (c @ c.T)  # [T,T]
    iu = np.triu_indices(e.shape[0], k=1)
    return float(np.sqrt(np.maximum(d2[iu], 0.0)).mean())


def average_content_distance(embeddings: Sequence[np.ndarray], pairs: str = "all") -> float:
    """ACD: the per-video mean pairwise L2 distance (:func:`video_content_distance`) averaged over videos.

    ``embeddings`` is a list of ``[T,D]`` arrays (one per video). Videos with fewer than two valid frames are
    skipped; if none is left the result is NaN.
    """
    vals = np.array([video_content_distance(e, pairs) for e in embeddings], dtype=np.float64)
    vals = vals[~np.isnan(vals)]
    return float(vals.mean()) if vals.size else float("nan")


# ----------------------------------------------------------------------------------------------- protocols
@dataclass(frozen=True)
class AcdProtocol:
    """ACD protocol (PROTOCOLS.md "ACD"; paper Table 2/5 uses 256 videos)."""

    num_videos: int = 256  # N: the paper's count
    num_frames: int = 16  # frames read from each video (the generators' clip length)
    pairs: str = "all"  # "all" (i<j) | "consecutive"
    embedder: str = "dlib_resnet_v1"  # "dlib_resnet_v1" | "facenet_vggface2"
    crop: str = "largest_face_5pt"  # dlib: detector crop; facenet: "none" | "mtcnn"
    detector: str = "hog_frontal_upsample1"  # face detector ("none" when crop="none")
    chip_size: int = 150  # aligned chip / crop side fed to the embedder; for crop="none" the pooled frame side
    num_jitters: int = 1  # dlib only
    distance: str = "l2"  # raw L2 between embeddings (dlib: not normalised; facenet: unit-norm outputs)


PRESETS: dict[str, AcdProtocol] = {
    "acd256_dlib": AcdProtocol(),
    "acd256_facenet": AcdProtocol(embedder="facenet_vggface2", crop="none", detector="none", chip_size=128,
                                  num_jitters=0),
    "acd256_facenet_mtcnn": AcdProtocol(embedder="facenet_vggface2", crop="mtcnn", detector="mtcnn_largest",
                                        chip_size=160, num_jitters=0),
}


def _summary(p: AcdProtocol) -> str:
    return (f"N={p.num_videos} videos x {p.num_frames} frames, {p.embedder}, crop={p.crop}, "
            f"pairs={p.pairs}, mean L2 per video then mean over videos")


# ----------------------------------------------------------------------------------------------- metric
class ACD(Metric):
    """Streaming ACD: ``update(videos)`` embeds each video's frames; ``compute()`` returns the record entry."""

    kind = "sample"

    def __init__(self, name: str, protocol: AcdProtocol, options: MetricOptions | None = None, embedder=None):
        super().__init__(name, protocol, options)
        if protocol.pairs not in PAIRS:
            raise VidbenchError(f"{name}: pairs must be one of {PAIRS}, got {protocol.pairs!r}")
        self.random_init = random_init_requested(self.options)
        self._embedder = embedder  # built lazily (dlib/torch models) unless injected (tests)
        self.reset()

    # -------------------------------------------------------------- embedder
    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = self._build_embedder()
        return self._embedder

    def _build_embedder(self):
        from vidbench.metrics.detectors import faces

        p, o = self.protocol, self.options
        if p.embedder == "dlib_resnet_v1":
            if self.random_init:
                raise VidbenchError(f"{self.name}: the dlib embedder has no random-init mode (it works offline)")
            if o.detector_weights:
                raise VidbenchError(f"{self.name}: --detector-weights is not supported for dlib; use --weights-dir")
            return faces.DlibFaceEmbedder(
                faces.DlibEmbedderConfig(upsample=1, num_jitters=p.num_jitters, chip_size=p.chip_size),
                weights_dir=o.weights_dir,
            )
        if p.embedder == "facenet_vggface2":
            cfg = faces.FacenetEmbedderConfig(crop=p.crop, pool_to=p.chip_size if p.crop == "none" else 128,
                                              mtcnn_image_size=p.chip_size if p.crop == "mtcnn" else 160)
            return faces.FacenetEmbedder(cfg, weights=o.detector_weights, weights_dir=o.weights_dir,
                                         random_init=self.random_init, device=o.device, batch_size=o.batch_size,
                                         seed=o.seed)
        raise VidbenchError(f"{self.name}: unknown embedder {p.embedder!r}")

    # -------------------------------------------------------------- streaming API
    def reset(self) -> None:
        self._per_video: list[dict] = []
        self._sum = 0.0  # float64 accumulator of per-video ACDs
        self._n_valid = 0
        self._frames_total = 0
        self._frames_no_face = 0
        self._videos_no_value = 0
        self._ignored = 0  # videos beyond the protocol's N (exactly N are scored)
        self._small_frames = 0  # crop="none": videos with frames below the pooling size
        self._sizes: set = set()

    def update(self, videos) -> None:
        """Embed and score a batch: uint8 [B,T,H,W,3] or a list of [T,H,W,3] (first ``num_frames`` frames used)."""
        T = self.protocol.num_frames
        vids = as_video_list(videos)
        room = max(0, self.protocol.num_videos - len(self._per_video))
        if len(vids) > room:
            self._ignored += len(vids) - room
            vids = vids[:room]
        for v in vids:
            self._sizes.add(tuple(int(x) for x in v.shape[1:3]))
            if min(v.shape[1:3]) < self.protocol.chip_size:
                self._small_frames += 1
            if T is not None:
                if v.shape[0] < T:
                    raise VidbenchError(f"{self.name}: a video has {v.shape[0]} frames; the protocol needs {T}")
                v = v[:T]
            emb, found = self.embedder.embed_frames(v)
            acd = video_content_distance(emb, self.protocol.pairs)
            n_miss = int((~found).sum())
            self._frames_total += int(found.size)
            self._frames_no_face += n_miss
            if np.isnan(acd):
                self._videos_no_value += 1
            else:
                self._sum += acd
                self._n_valid += 1
            self._per_video.append({"index": len(self._per_video), "acd": None if np.isnan(acd) else acd,
                                    "frames": int(found.size), "frames_without_face": n_miss})

    def per_video(self) -> list[dict]:
        """One dict per video seen: index, acd (None if < 2 faces), frames, frames_without_face."""
        return [dict(d) for d in self._per_video]

    def compute(self) -> dict:
        p = self.protocol
        n = len(self._per_video)
        value = self._sum / self._n_valid if self._n_valid else None
        vals = np.array([d["acd"] for d in self._per_video if d["acd"] is not None], dtype=np.float64)
        std = float(vals.std()) if vals.size > 1 else None  # spread over videos (population std)
        warnings = []
        if n < p.num_videos:
            warnings.append(f"{n} videos < protocol N={p.num_videos}: not comparable with published numbers")
        if self._frames_no_face:
            warnings.append(f"{self._frames_no_face} of {self._frames_total} frames had no detected face "
                            "(excluded from their video's pairs)")
        if self._videos_no_value:
            warnings.append(f"{self._videos_no_value} of {n} videos had fewer than 2 frames with a face and no ACD "
                            "value (excluded from the mean)")
        if self._ignored:
            warnings.append(f"{self._ignored} videos beyond the protocol's N={p.num_videos} were ignored")
        emb = self._embedder
        weights_hash = getattr(emb, "weights_hash", None)
        verified = getattr(emb, "weights_verified", False)
        label = getattr(emb, "label", p.embedder)
        # comparability (shared policy, metrics/base.py): hash-verified weights only (FaceNet VGGFace2 has no
        # published sha256: recorded by hash, comparable only with runs of the same hash), N, frame size, faces
        reasons = list(getattr(emb, "reasons", ()) or ())
        if self.random_init and RANDOM_INIT_REASON not in reasons:
            reasons.append(RANDOM_INIT_REASON)
        if not reasons and not self.random_init and not (bool(verified) or getattr(emb, "registered", False)):
            reasons.append(unregistered_weights_reason(weights_hash, "face-embedder weights"))
        if n < p.num_videos:
            reasons.append(n_below_reason(n, p.num_videos))
        if self._n_valid == 0:
            reasons.append("no video had two frames with a detected face")
        if p.crop == "none" and self._small_frames:
            reasons.append(f"resolution: {self._small_frames} videos have frames smaller than the protocol's "
                           f"{p.chip_size}² average-pooling size (upsampled)")
        return metric_result(
            value=value, std=std, protocol=p, detector=label, weights_hash=weights_hash, weights_verified=verified,
            comparable=not reasons, comparable_reasons=reasons, elapsed_s=self.elapsed(), warnings=warnings, n_fake=n,
            extra={"videos_with_value": self._n_valid, "videos_without_value": self._videos_no_value,
                   "ignored_beyond_n": self._ignored, "frame_sizes": sorted(self._sizes),
                   "frames_total": self._frames_total, "frames_without_face": self._frames_no_face,
                   "std_over_videos": std,
                   "per_video": {"acd": [d["acd"] for d in self._per_video],
                                 "frames_without_face": [d["frames_without_face"] for d in self._per_video]}},
        )


def _factory(preset: str):
    def make(name: str, options: MetricOptions | None = None) -> ACD:
        options = options or MetricOptions()
        proto = PRESETS[preset]
        overrides = {k: v for k, v in (options.extra or {}).items() if k in ("pairs", "crop")}
        if overrides:
            if "crop" in overrides and proto.embedder != "facenet_vggface2":
                raise VidbenchError(f"{name}: crop is selectable only for facenet presets")
            if overrides.get("crop") == "mtcnn":
                proto = PRESETS["acd256_facenet_mtcnn"]
                overrides.pop("crop")
            proto = dataclasses.replace(proto, **overrides)
        if random_init_requested(options) and not name.endswith("[random-init]"):
            name = f"{name}[random-init]"
        return ACD(name, proto, options)

    return make


for _name, _proto in PRESETS.items():
    METRICS.add(_name, _factory(_name),
                description={"acd256_dlib": "Average Content Distance, dlib ResNet face embeddings (offline)",
                             "acd256_facenet": "Average Content Distance, FaceNet VGGFace2 on whole frames (authors)",
                             "acd256_facenet_mtcnn": "Average Content Distance, FaceNet VGGFace2 on MTCNN face crops",
                             }[_name],
                kind="sample", protocol=_proto, summary=_summary(_proto))
