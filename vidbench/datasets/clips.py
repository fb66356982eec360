"""The real clips an evaluation compares against: drawn by a seeded rule over the whole split, listed in the run.

The rule (``RealClipRule``, recorded in every eval record as ``real_clips`` and, without its seed, in every metric's
protocol) is:

1. **Videos without replacement.** A seeded permutation of the split's videos (``numpy.random.default_rng`` over the
   seed sequence ``(seed, 0x5245414C, 0, pass)``); clip k uses video ``perm[k]``. When more clips than videos are
   needed (FaceForensics has 704 training videos, FVD needs 2,048 clips), a fresh permutation is appended for each
   further pass, so every video is used ⌊N/V⌋ or ⌈N/V⌉ times.
2. **A random start per clip.** ``start ~ U{0, …, L − (T−1)·stride − 1}`` (every window of T frames at ``stride`` that
   fits in the video's L frames), from the generator of seed sequence ``(seed, 0x5245414C, 1, k)``. Generated
   datasets (``moving_mnist``, ``synthetic_sky``) render each video as exactly one clip: start 0.

Every draw is keyed by its position, so the first n clips do not depend on how many were drawn (a drawn set of 2,048
starts with the drawn set of 256; the statistics cache relies on it).
3. **Frames** ``start, start + stride, …, start + (T−1)·stride``, centre square crop, resized to the evaluation size
   with the dataset's filter (Lanczos, as the MoCoGAN-HD loader).

Consecutive slices of the drawn list are disjoint sets of clips, so the paper's GT row (real vs real FVD) uses clips
``[0, N)`` against ``[N, 2N)``. ``write_real_clips`` writes ``real_clips.jsonl`` (one line per clip: index, video id,
start, stride, frames) so anyone can re-read exactly the same pixels.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidbench.datasets.base import VideoDataset, fingerprint_of

RULE_STREAM = 0x5245414C  # "REAL": separates the rule's random stream from any other use of the same seed
RULE_NAME = "videos_without_replacement_random_start"


@dataclass(frozen=True)
class RealClipRule:
    """What identifies a drawn real set (everything but the dataset files, which the dataset fingerprint covers)."""

    dataset: str
    split: str
    num_clips: int  # clips drawn (the largest N any requested metric needs; 2N for the GT rows)
    num_frames: int
    stride: int
    resolution: int
    seed: int = 0
    rule: str = RULE_NAME
    version: int = 1

    def protocol_fields(self) -> dict:
        """The rule as it enters metric protocols: without seed and count (those are run facts, not the protocol)."""
        d = asdict(self)
        for k in ("seed", "num_clips", "dataset", "split"):
            d.pop(k)
        return d

    def describe(self) -> str:
        return (f"{self.rule} v{self.version}: {self.num_clips} clips of {self.num_frames} frames at stride "
                f"{self.stride} from {self.dataset}[{self.split}], videos drawn without replacement (seeded "
                f"permutation, seed {self.seed}), a uniform random start per clip, {self.resolution}² Lanczos")


@dataclass(frozen=True)
class ClipRef:
    """One drawn clip: ``video`` is the dataset index of its source video."""

    index: int
    video: int
    video_id: str
    start: int
    stride: int
    frames: int

    def as_json(self) -> dict:
        return {"index": self.index, "video": self.video, "video_id": self.video_id, "start": self.start,
                "stride": self.stride, "frames": self.frames}


def draw_real_clips(ds: VideoDataset, rule: RealClipRule) -> list[ClipRef]:
    """The first ``rule.num_clips`` clips of ``ds`` under ``rule`` (see the module docstring)."""
    n_videos = len(ds)
    seed = int(rule.seed) & 0xFFFFFFFF
    order: list[int] = []
    while len(order) < rule.num_clips:
        order += np.random.default_rng([seed, RULE_STREAM, 0, len(order) // n_videos]).permutation(n_videos).tolist()
    order = order[: rule.num_clips]
    span = (rule.num_frames - 1) * rule.stride + 1
    out = []
    for k, v in enumerate(order):
        length = ds.source_length(v)
        hi = 0 if length is None else length - span
        if hi < 0:  # datasets drop too-short videos when built; this guards a changed file
            raise ValueError(f"{ds.name}: video {ds.video_id(v)} has {length} frames, fewer than the {span} needed")
        start = int(np.random.default_rng([seed, RULE_STREAM, 1, k]).integers(0, hi + 1)) if hi > 0 else 0
        out.append(ClipRef(k, int(v), ds.video_id(v), start, rule.stride, rule.num_frames))
    return out


def read_clip(ds: VideoDataset, ref: ClipRef) -> np.ndarray:
    """uint8 [T, S, S, 3] of one drawn clip."""
    return ds.read_window(ref.video, ref.start)


def write_real_clips(path: str | os.PathLike, refs: list[ClipRef], sets: dict[str, tuple[int, int]] | None = None
                     ) -> Path:
    """``real_clips.jsonl``: one JSON line per clip (index, video, video_id, start, stride, frames[, set])."""
    from vidbench.cache import atomic_write_text

    lines = []
    for r in refs:
        row = r.as_json()
        for name, (a, b) in (sets or {}).items():
            if a <= r.index < b:
                row["set"] = name
        lines.append(json.dumps(row, sort_keys=True))
    return atomic_write_text(Path(path), "\n".join(lines) + ("\n" if lines else ""))


def read_real_clips(path: str | os.PathLike) -> list[ClipRef]:
    rows = [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    return [ClipRef(r["index"], r["video"], r["video_id"], r["start"], r["stride"], r["frames"]) for r in rows]


def clips_key(dataset_fingerprint: str, rule: RealClipRule, n: int, start: int = 0) -> str:
    """Cache key of the statistics of ``n`` clips drawn by ``rule`` from a dataset with this fingerprint: the first
    ``n``, or those from position ``start`` on (the second real set of ``eval --gt``)."""
    spec = {"dataset": dataset_fingerprint, "rule": asdict(rule) | {"num_clips": None}, "n": int(n)}
    return fingerprint_of(spec | ({"start": int(start)} if start else {}))


__all__ = ["ClipRef", "RealClipRule", "clips_key", "draw_real_clips", "read_clip", "read_real_clips",
           "write_real_clips"]
