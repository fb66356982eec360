"""Run record v1: protocol ids, metric results, run folders, writer and validator.

A run folder is ``runs/<model>-<dataset>-<YYYYmmdd-HHMMSS>-<6 hex>/`` holding ``config.json``, ``result.json``,
``per_video.jsonl``, ``samples/{i:06d}.mp4`` and optionally ``samples.npz`` / ``train_log.csv``.
``result.json`` follows ``vidbench/schemas/run_record_v1.json``.

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

SCHEMA_ID = "vidbench.run_record.v1"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "run_record_v1.json"


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
) -> dict:
    """Build one entry of ``result.json["metrics"]`` (schema v1)."""
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
        "comparable": bool(comparable),
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
) -> dict:
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
        "metrics": metrics or {},
    }


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def validate_record(record: dict) -> None:
    """Raise :class:`VidbenchError` naming the first violation of schema v1."""
    import jsonschema

    try:
        jsonschema.validate(record, _schema())
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        raise VidbenchError(f"run record does not match schema v1 at {where}: {e.message}") from None


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
    path = Path(run_dir) / "result.json" if Path(run_dir).is_dir() else Path(run_dir)
    if not path.exists():
        raise VidbenchError(f"{path}: no result.json; pass a run folder written by `vidbench eval`")
    rec = json.loads(path.read_text())
    validate_record(rec)
    return rec


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
    for w in m.get("warnings", []):
        s += f"\n  warning: {w}"
    return s
