"""Run records (schema v2; v1 still read): protocol ids, metric results, run folders, writer, reader, validator.

A run folder is ``runs/<model>-<dataset>-<YYYYmmdd-HHMMSS>-<6 hex>/`` holding ``config.json``, ``result.json``,
``per_video.jsonl``, ``samples/{i:06d}.mp4`` and optionally ``samples.npz`` / ``train_log.csv``.
``result.json`` follows ``vidbench/schemas/run_record_v2.json``. v2 adds, per metric, ``comparable_reasons`` (why a
value is not comparable; empty exactly when ``comparable`` is true) and, per record, ``task``, ``label`` (names rows in
tables), ``sampler`` (the sampler's settings) and ``real_clips`` (the rule that drew the real clips). Records written
as v1 are still accepted: :func:`read_result` upgrades them in memory (``upgrade_record``).

The **protocol id** of a metric is the first 12 hex digits of sha256 over the canonical JSON (sorted keys, no spaces)
of its protocol dataclass together with the detector weights hash; it is printed beside every number.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any, Iterable

from vidbench import __version__
from vidbench.cache import atomic_write_json, atomic_write_text
from vidbench.errors import VidbenchError

SCHEMA_ID = "vidbench.run_record.v2"
SCHEMA_IDS = {"vidbench.run_record.v1": "run_record_v1.json", "vidbench.run_record.v2": "run_record_v2.json"}
SCHEMA_PATH = Path(__file__).with_name("schemas") / SCHEMA_IDS[SCHEMA_ID]
TASKS = ("unconditional", "predict", "score", "train", "generate", "ablation", "study")
# a v1 record did not say why a value was not comparable
V1_UNKNOWN_REASON = "recorded by schema v1, which did not store the reason"
GENERIC_REASON = "marked not comparable by the metric (no reason given)"


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, dataclasses as dicts, tuples as lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_default)


def _default(o):
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if isinstance(o, Path):
        return str(o)
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def protocol_dict(protocol: Any) -> dict:
    if dataclasses.is_dataclass(protocol) and not isinstance(protocol, type):
        return json.loads(canonical_json(protocol))
    if isinstance(protocol, dict):
        return json.loads(canonical_json(protocol))
    raise TypeError("a protocol is a dataclass instance or a dict")


def protocol_id(protocol: Any, weights_hash: str | None) -> str:
    """First 12 hex of sha256(canonical JSON of {"protocol": ..., "weights_hash": ...})."""
    payload = canonical_json({"protocol": protocol_dict(protocol), "weights_hash": weights_hash})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def metric_result(
    *,
    value: float | None,
    protocol: Any,
    detector: str | None,
    weights_hash: str | None,
    weights_verified: str | bool | None,
    comparable: bool,
    elapsed_s: float,
    warnings: Iterable[str] = (),
    std: float | None = None,
    ci95: tuple[float, float] | None = None,
    n_real: int | None = None,
    n_fake: int | None = None,
    extra: dict | None = None,
    comparable_reasons: Iterable[str] = (),
) -> dict:
    """Build one entry of ``result.json["metrics"]`` (schema v2).

    ``comparable`` ends up true only when the caller says so *and* ``comparable_reasons`` is empty; a value marked not
    comparable without a reason gets a generic one, so a reader can always say why.
    """
    reasons = list(dict.fromkeys(str(r) for r in comparable_reasons if r))  # ordered, no duplicates
    if not comparable and not reasons:
        reasons = [GENERIC_REASON]
    out = {
        "value": None if value is None else float(value),
        "std": None if std is None else float(std),
        "ci95": None if ci95 is None else [float(ci95[0]), float(ci95[1])],
        "n_real": n_real,
        "n_fake": n_fake,
        "protocol": protocol_dict(protocol),
        "protocol_id": protocol_id(protocol, weights_hash),
        "detector": detector,
        "weights_hash": weights_hash,
        "weights_verified": weights_verified,
        "comparable": bool(comparable) and not reasons,
        "comparable_reasons": reasons,
        "warnings": list(warnings),
        "elapsed_s": float(elapsed_s),
    }
    if extra:
        out["extra"] = json.loads(json.dumps(extra, default=_default))
    return out


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def new_record(
    *,
    model: str | None,
    dataset: dict | None,
    seed: int | None,
    metrics: dict | None = None,
    checkpoint: str | None = None,
    checkpoint_hash: str | None = None,
    recipe: str | None = None,
    command: str | None = None,
    task: str = "unconditional",
    label: str | None = None,
    sampler: dict | None = None,
    real_clips: dict | None = None,
) -> dict:
    if task not in TASKS:
        raise VidbenchError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    return {
        "schema": SCHEMA_ID,
        "vidbench": __version__,
        "git_commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        "checkpoint": checkpoint,
        "checkpoint_hash": checkpoint_hash,
        "recipe": recipe,
        "dataset": dataset,
        "seed": seed,
        "command": command,
        "task": task,
        "label": label,
        "sampler": sampler,
        "real_clips": real_clips,
        "metrics": metrics or {},
    }


@functools.lru_cache(maxsize=None)
def _schema(schema_id: str = SCHEMA_ID) -> dict:
    return json.loads((SCHEMA_PATH.parent / SCHEMA_IDS[schema_id]).read_text())


def validate_record(record: dict) -> None:
    """Raise :class:`VidbenchError` naming the first violation of the record's schema (v1 or v2)."""
    import jsonschema

    if not isinstance(record, dict):
        raise VidbenchError(f"a run record is a JSON object, got {type(record).__name__}")
    schema_id = record.get("schema")
    if not isinstance(schema_id, str) or schema_id not in SCHEMA_IDS:  # e.g. [] would raise TypeError
        raise VidbenchError(f"unknown run record schema {schema_id!r}; this vidbench reads "
                            f"{', '.join(sorted(SCHEMA_IDS))}")
    try:
        jsonschema.validate(record, _schema(schema_id))
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        raise VidbenchError(f"run record does not match schema {schema_id.rsplit('.', 1)[-1]} at {where}: "
                            f"{e.message}") from None


def upgrade_record(record: dict) -> dict:
    """A v2-shaped copy of a valid v1 or v2 record (v1: task "unconditional", no label, reasons unknown)."""
    if record.get("schema") == SCHEMA_ID:
        return record
    out = json.loads(json.dumps(record))
    out["schema"] = SCHEMA_ID
    out["upgraded_from"] = record.get("schema")
    out.setdefault("task", "unconditional")
    out.setdefault("label", None)
    out.setdefault("sampler", None)
    out.setdefault("real_clips", None)
    for m in out.get("metrics", {}).values():
        m.setdefault("comparable_reasons", [] if m.get("comparable") else [V1_UNKNOWN_REASON])
    return out


def _slug(s: str | None) -> str:
    s = (s or "none").replace(":", "_").replace("/", "_").replace(os.sep, "_")
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in s)[:40]


def new_run_dir(out: str | os.PathLike, model: str | None, dataset: str | None) -> Path:
    """Create ``out/<model>-<dataset>-<YYYYmmdd-HHMMSS>-<6 hex>/`` and return it."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(out) / f"{_slug(model)}-{_slug(dataset)}-{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def write_result(run_dir: str | os.PathLike, record: dict) -> Path:
    validate_record(record)
    return atomic_write_json(Path(run_dir) / "result.json", record)


def write_config(run_dir: str | os.PathLike, config: Any) -> Path:
    data = protocol_dict(config) if not isinstance(config, dict) else config
    return atomic_write_json(Path(run_dir) / "config.json", data)


def write_per_video(run_dir: str | os.PathLike, rows: Iterable[dict]) -> Path:
    lines = [json.dumps(r, sort_keys=True, default=_default) for r in rows]
    return atomic_write_text(Path(run_dir) / "per_video.jsonl", "\n".join(lines) + ("\n" if lines else ""))


def read_result(run_dir: str | os.PathLike) -> dict:
    """Read and validate ``result.json`` (v1 or v2) and return it v2-shaped."""
    path = Path(run_dir) / "result.json" if Path(run_dir).is_dir() else Path(run_dir)
    if not path.exists():
        raise VidbenchError(f"{path}: no result.json; pass a run folder written by `vidbench eval`")
    try:
        rec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise VidbenchError(f"{path}: cannot read the run record ({e.__class__.__name__}: {e})") from None
    except json.JSONDecodeError as e:
        raise VidbenchError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}); the run record is damaged, "
                            "re-run the job that wrote it") from None
    try:
        validate_record(rec)
    except VidbenchError as e:
        raise VidbenchError(f"{path}: {e}") from None
    return upgrade_record(rec)


def find_records(*paths: str | os.PathLike) -> list[tuple[Path, dict]]:
    """Every ``result.json`` under the given folders (or the given result files), read through :func:`read_result`,
    sorted by path. A path that does not exist is an error; a folder with no record gives nothing."""
    found: set[Path] = set()
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise VidbenchError(f"{p}: no such file or folder; pass run folders written by vidbench")
        if p.is_file():
            found.add(p.resolve())
        else:
            found.update(q.resolve() for q in p.rglob("result.json"))
    return [(f, read_result(f)) for f in sorted(found)]


def format_metric_line(name: str, m: dict) -> str:
    """One human line: ``fvd2048_16f = 123.45 ± 1.2  [protocol 0123abcd4567]  (warnings)``."""
    v = m.get("value")
    s = f"{name} = {v:.6g}" if isinstance(v, (int, float)) else f"{name} = {v}"
    if m.get("std") is not None:
        s += f" ± {m['std']:.4g}"
    if m.get("ci95"):
        s += f"  (95% CI {m['ci95'][0]:.6g} – {m['ci95'][1]:.6g})"
    extra = m.get("extra") or {}
    values = extra.get("values") if isinstance(extra.get("values"), dict) else {}
    primary = extra.get("primary")
    for k, val in values.items():  # metrics with several numbers (psnr_ssim: value = PSNR, also SSIM)
        if k != primary and isinstance(val, (int, float)):
            s += f"; {k} = {val:.6g}"
    s += f"  [protocol {m['protocol_id']}]"
    if not m.get("comparable", False):
        s += "  NOT COMPARABLE"
        reasons = m.get("comparable_reasons") or []
        if reasons:
            s += f" ({'; '.join(reasons)})"
    for w in m.get("warnings", []):
        s += f"\n  warning: {w}"
    return s
