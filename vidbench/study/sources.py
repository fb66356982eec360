"""Where a study's videos come from: a run folder (its ``samples/*.mp4``), ``samples:PATH`` or a plain folder.

A *unit* is what one side of a trial shows: one video, or (``grid=3``) the nine videos of one content code.

Grouping rule for ``--grid 3x3`` (the paper's Table 5 motion-diversity study, App. B: "the same content code z1 to
generate 9 videos with different motion trajectories, organised into a 3 × 3 grid"):

1. run folder whose ``per_video.jsonl`` rows carry a content id (``content_id``, ``content`` or ``z1``): samples are
   grouped by that id, in sample-index order; a group with fewer than nine videos is dropped (and counted), a larger
   one keeps its first nine;
2. run folder without a content id: consecutive blocks of nine samples in index order (samples 0–8, 9–17, ...), i.e.
   generate nine videos per content code in a row (``vidbench generate --swap content --num 9`` per code);
3. plain folder: videos in sub-folders are grouped by their sub-folder (one folder per content code); videos directly
   in the folder form consecutive blocks of nine in natural name order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vidbench.errors import VidbenchError
from vidbench.video import VIDEO_EXTS, list_videos

CONTENT_KEYS = ("content_id", "content", "z1")


@dataclass(frozen=True)
class Unit:
    """What one side of a trial shows: ``paths`` (1 or 9 videos) with their ids, and the content code if grouped."""

    uid: str  # stable id inside its source: the video id, or "content:<code>" for a grid
    ids: tuple[str, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    spec: str  # what the user passed
    kind: str  # "run" | "folder"
    root: str  # folder the videos were read from
    label: str  # default display label (record label/model, else folder name)
    units: tuple[Unit, ...]
    grouping: str  # how grid units were formed (empty for single videos)
    dropped: int = 0  # videos not in any complete grid group
    dataset: dict | None = None  # the run record's dataset {name, split, fingerprint}, when there is one


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise VidbenchError(f"{path}: a line is not valid JSON; the run folder is damaged") from None
    return rows


def _find_run_dir(path: Path) -> Path | None:
    """``path`` itself if it holds ``samples/``; else the single run folder below it that does (e.g. a quickstart)."""
    if (path / "samples").is_dir():
        return path
    runs = sorted({p.parent.parent for p in path.rglob("samples/*.mp4") if (p.parent.parent / "result.json").exists()})
    if len(runs) == 1:
        return runs[0]
    if len(runs) > 1:
        listing = ", ".join(str(r) for r in runs[:5])
        raise VidbenchError(f"{path}: holds {len(runs)} run folders with samples ({listing}); pass one of them")
    return None


def _run_info(run: Path) -> tuple[str, dict | None]:
    """Label (record label, else model, else folder name) and dataset of a run folder."""
    try:
        from vidbench.records import read_result

        rec = read_result(run)
    except VidbenchError:
        return run.name, None
    ds = rec.get("dataset")
    return str(rec.get("label") or rec.get("model") or run.name), ds if isinstance(ds, dict) else None


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]


def load_source(spec: str, *, grid: int = 1) -> Source:
    """Resolve ``spec`` (run folder, ``samples:PATH`` or folder of videos) into display units."""
    if grid not in (1, 3):
        raise VidbenchError(f"grid must be 1 (single videos) or 3 (3x3), got {grid}")
    raw = spec[len("samples:"):] if spec.startswith("samples:") else spec
    path = Path(raw).expanduser()
    if not path.exists():
        raise VidbenchError(f"{spec}: no such run folder or video folder; pass a run folder (with samples/) or "
                            "samples:PATH")
    run = None if spec.startswith("samples:") or path.is_file() else _find_run_dir(path)
    if run is not None:
        files = sorted(p for p in (run / "samples").iterdir() if p.suffix.lower() in VIDEO_EXTS)
        if not files:
            raise VidbenchError(f"{run}/samples: no videos; generate samples with `vidbench eval` or `generate`")
        rows = _read_jsonl(run / "per_video.jsonl")
        by_index = {}
        for r in rows:
            if isinstance(r.get("index"), int):
                by_index[r["index"]] = r
        items = []  # (index, id, path, content)
        for p in files:
            stem = p.stem
            idx = int(stem) if stem.isdigit() else None
            row = by_index.get(idx, {}) if idx is not None else {}
            content = next((row[k] for k in CONTENT_KEYS if k in row), None)
            items.append((idx if idx is not None else len(items), p.name, p, content))
        items.sort(key=lambda t: t[0])
        kind, root = "run", run
        label, dataset = _run_info(run)
        has_content = any(c is not None for *_, c in items)
    else:
        vids = [p for p in list_videos(path) if p.is_file() and p.suffix.lower() in VIDEO_EXTS]
        if not vids:
            raise VidbenchError(f"{path}: no video files ({', '.join(VIDEO_EXTS)}); the study plays mp4 videos")
        base = path if path.is_dir() else path.parent
        items = []
        for i, p in enumerate(vids):
            rel = p.relative_to(base).as_posix()
            content = rel.rsplit("/", 1)[0] if "/" in rel else None
            items.append((i, rel, p, content))
        kind, root, label, dataset = "folder", base, base.name, None
        has_content = any(c is not None for *_, c in items)

    if grid == 1:
        units = tuple(Unit(uid=i, ids=(i,), paths=(str(p),)) for _, i, p, _ in items)
        return Source(spec, kind, str(root), label, units, "", dataset=dataset)
    n = grid * grid
    dropped = 0
    if has_content:
        groups: dict[str, list] = {}
        for it in items:
            groups.setdefault(str(it[3]) if it[3] is not None else "(none)", []).append(it)
        units_l = []
        for code, its in groups.items():
            if len(its) < n:
                dropped += len(its)
                continue
            dropped += len(its) - n
            its = its[:n]
            units_l.append(Unit(uid=f"content:{code}", ids=tuple(i for _, i, _, _ in its),
                                paths=tuple(str(p) for _, _, p, _ in its)))
        grouping = ("by content id in per_video.jsonl" if kind == "run" else "by sub-folder (one per content code)")
    else:
        blocks = _chunks(items, n)
        dropped = len(items) - n * len(blocks)
        units_l = [Unit(uid=f"block:{b}", ids=tuple(i for _, i, _, _ in its), paths=tuple(str(p) for _, _, p, _ in its))
                   for b, its in enumerate(blocks)]
        grouping = f"consecutive blocks of {n} in {'sample-index' if kind == 'run' else 'name'} order (no content id)"
    if not units_l:
        raise VidbenchError(f"{spec}: no complete group of {n} videos for a {grid}x{grid} grid ({len(items)} videos, "
                            f"grouping {grouping}); generate {n} videos per content code")
    return Source(spec, kind, str(root), label, tuple(units_l), grouping, dropped, dataset=dataset)


def describe(src: Source) -> dict:
    """JSON-able summary for the manifest."""
    return {"spec": src.spec, "kind": src.kind, "root": os.fspath(src.root), "label": src.label,
            "units": len(src.units), "grouping": src.grouping, "dropped_videos": src.dropped, "dataset": src.dataset}
