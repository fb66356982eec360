"""Generic scoring: feed videos on disk (or in memory) to any registered metric and build the run record.

The runner owns the decoding rules (which frames, stride, how GIF/mp4 are read) and records them, streams videos in
batches of ``options.batch_size`` with decoding in a background thread (so the detector never waits on the decoder),
and keeps memory O(batch). Metric kinds decide how videos are fed (metrics/base.py).
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from vidbench.errors import VidbenchError
from vidbench.metrics.base import Metric, MetricOptions
from vidbench.records import metric_result, new_record, new_run_dir, write_per_video, write_result
from vidbench.registry import METRICS
from vidbench.video import count_videos, list_videos


def build_metric(name: str, options: MetricOptions | None = None) -> Metric:
    entry = METRICS.get(name)
    return entry.obj(name, options or MetricOptions())


def path_fingerprint(path: str | os.PathLike, decoding: dict) -> str:
    """Hash of a video collection: relative file list + sizes + mtimes-free content identity + decoding rules."""
    root = Path(path)
    h = hashlib.sha256()
    for item in list_videos(root):
        files = [item] if item.is_file() else sorted(p for p in item.iterdir() if p.is_file())
        for f in files:
            rel = f.name if f == root else str(f.relative_to(root if root.is_dir() else root.parent))
            h.update(f"{rel}\t{f.stat().st_size}\n".encode())
    h.update(repr(sorted(decoding.items())).encode())
    return h.hexdigest()[:16]


def prefetch(it: Iterable, depth: int = 2) -> Iterator:
    """Run ``it`` in a background thread, ``depth`` items ahead (decode overlaps compute)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    sentinel = object()
    err: list[BaseException] = []

    def work():
        try:
            for x in it:
                q.put(x)
        except BaseException as e:  # re-raised in the consumer
            err.append(e)
        finally:
            q.put(sentinel)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    while True:
        x = q.get()
        if x is sentinel:
            break
        yield x
    t.join()
    if err:
        raise err[0]


def batched_videos(path: str | os.PathLike, batch_size: int, num_frames: int | None, limit: int | None = None,
                   progress: bool = True, desc: str = "") -> Iterator[tuple[list[str], list[np.ndarray]]]:
    from tqdm import tqdm

    from vidbench.video import iter_videos

    total = count_videos(path)
    if limit is not None:
        total = min(total, limit)
    bar = tqdm(total=total, desc=desc, unit="video", disable=not progress, leave=False)

    def gen():
        ids, vids = [], []
        for vid_id, v in iter_videos(path, num_frames=num_frames, limit=limit):
            ids.append(vid_id)
            vids.append(v)
            if len(vids) == batch_size:
                yield ids, vids
                ids, vids = [], []
        if vids:
            yield ids, vids

    for ids, vids in prefetch(gen()):
        bar.update(len(vids))
        yield ids, vids
    bar.close()


def run_metric(
    metric: Metric,
    *,
    fake_batches: Callable[[], Iterable[tuple[list[str], list[np.ndarray]]]] | None,
    real_batches: Callable[[], Iterable[tuple[list[str], list[np.ndarray]]]] | None = None,
    real_fingerprint: str | None = None,
) -> tuple[dict, list[dict]]:
    """Feed batches of (ids, uint8 videos) to ``metric`` by its kind; return (metric entry, per-video rows).

    ``*_batches`` are zero-argument callables returning fresh iterables, so the real set is decoded only when its
    cached statistics are missing.
    """
    name = metric.name
    per_video: list[dict] = []
    if metric.kind == "distribution":
        if real_batches is None or fake_batches is None:
            raise VidbenchError(f"{name} compares two sets: pass --real PATH as well as --fake PATH")
        cacheable = bool(real_fingerprint) and "real" in metric.cache_sides
        if not (cacheable and metric.try_load_real_cache(real_fingerprint)):
            for _, vids in real_batches():
                metric.update(vids, real=True)
            if cacheable:
                metric.save_real_cache(real_fingerprint)
        for _, vids in fake_batches():
            metric.update(vids, real=False)
        result = metric.compute()
    elif metric.kind == "sample":
        if fake_batches is None:
            raise VidbenchError(f"{name} scores one set: pass --fake PATH")
        ids_all: list[str] = []
        for ids, vids in fake_batches():
            ids_all += ids
            metric.update(vids)
        result = metric.compute()
        per_video = _per_video_rows(ids_all, result)
    elif metric.kind == "paired":
        if real_batches is None or fake_batches is None:
            raise VidbenchError(f"{name} compares pairs: pass --real PATH (targets) and --fake PATH (predictions)")
        ids_all = []
        for (ids_r, vr), (ids_f, vf) in zip(real_batches(), fake_batches()):
            ids_all += [f"{a}|{b}" for a, b in zip(ids_f, ids_r)]
            for a, b, x, y in zip(ids_f, ids_r, vf, vr):  # name the files of a pair that cannot be compared
                if x.shape != y.shape:
                    raise VidbenchError(f"{name}: --fake {a} is {list(x.shape)} but --real {b} is {list(y.shape)} "
                                        "[T,H,W,C]; pairs must have the same frames and size")
            metric.update(vf, vr)
        result = metric.compute()
        per_video = _per_video_rows(ids_all, result)
    else:
        raise VidbenchError(
            f"{name} is a {metric.kind} metric: it needs a generator or latents, not video files; "
            "use `vidbench eval --model ... --metrics " + name + "`"
        )
    return result, per_video


def score_paths(
    metric_name: str,
    *,
    fake: str | os.PathLike,
    real: str | os.PathLike | None = None,
    options: MetricOptions | None = None,
    limit: int | None = None,
) -> tuple[dict, list[dict]]:
    """Score the videos under ``fake`` (and ``real``) with one metric; return (metric entry, per-video rows)."""
    options = options or MetricOptions()
    if limit is not None:  # the real-statistics cache keys on --limit
        import dataclasses

        options = dataclasses.replace(options, real_limit=int(limit))
    metric = build_metric(metric_name, options)
    T = metric.num_frames
    decoding = {"start": 0, "stride": 1, "num_frames": T, "decoder": "pyav-rgb24", "frames": "first T frames"}
    bs = max(1, int(options.batch_size))
    if metric.kind == "sample" and real is not None:
        raise VidbenchError(f"{metric_name} scores one set: pass only --fake PATH (score real videos as --fake)")
    if metric.kind == "paired" and real is not None:
        n_r, n_f = count_videos(real), count_videos(fake)
        if n_r != n_f:
            raise VidbenchError(f"{metric_name}: --real has {n_r} videos but --fake has {n_f}; pairs must match 1:1")
    show = options.progress
    result, per_video = run_metric(
        metric,
        fake_batches=lambda: batched_videos(fake, bs, T, limit, show, "fake"),
        real_batches=None if real is None else (lambda: batched_videos(real, bs, T, limit, show, "real")),
        real_fingerprint=None if real is None else path_fingerprint(real, decoding),
    )
    result.setdefault("extra", {})["decoding"] = decoding
    return result, per_video


def _per_video_rows(ids: list[str], result: dict) -> list[dict]:
    """Per-video values from ``result['extra']['per_video']`` ({field: [values...]}) if the metric provides them."""
    pv = (result.get("extra") or {}).get("per_video")
    if not isinstance(pv, dict) or not ids:
        return []
    rows = []
    for i, vid in enumerate(ids):
        row = {"index": i, "id": vid, "seed": None}
        for k, vals in pv.items():
            if isinstance(vals, list) and len(vals) == len(ids):
                row[k] = vals[i]
        rows.append(row)
    return rows


def write_score_run(out: str | os.PathLike, metric_name: str, result: dict, per_video: list[dict], *,
                    fake: str, real: str | None, seed: int | None, command: str | None) -> Path:
    dataset = {"name": f"folder:{real}" if real else f"folder:{fake}", "split": None,
               "fingerprint": None}
    rec = new_record(model=f"samples:{fake}", dataset=dataset, seed=seed, metrics={metric_name: result},
                     command=command)
    run_dir = new_run_dir(out, "samples", Path(real or fake).name)
    write_result(run_dir, rec)
    write_per_video(run_dir, per_video)
    return run_dir


__all__ = ["build_metric", "score_paths", "path_fingerprint", "prefetch", "batched_videos", "write_score_run",
           "metric_result"]
