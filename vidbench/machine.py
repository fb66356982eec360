"""What CPU this is: model name and the instruction-set flags that decide speed (benchmarks, run summaries, the FVD
fast mode's bf16 check). Read from ``/proc/cpuinfo``; elsewhere the fields are None / empty. Plus the one way
``benchmarks/`` scripts emit their JSON results (:func:`emit_benchmark`)."""

from __future__ import annotations

from pathlib import Path

SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # the flags benchmarks report


def cpu_info(path: str | Path = "/proc/cpuinfo") -> dict:
    """``{"model": str | None, "flags": set[str] | None}`` of the first CPU (``flags`` None when unreadable)."""
    model, flags = None, None
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and flags is None:
                flags = set(line.split(":", 1)[1].split())
            if model is not None and flags is not None:
                break
    except OSError:
        pass
    return {"model": model, "flags": flags}


def cpu_summary() -> dict:
    """The CPU model and which of :data:`SPEED_FLAGS` it has (for benchmark JSON files)."""
    info = cpu_info()
    return {"model": info["model"], "flags": [f for f in SPEED_FLAGS if f in (info["flags"] or ())]}


def emit_benchmark(result: dict, out: str | Path | None = None) -> None:
    """Print a benchmark's JSON result and, with ``out``, write it there atomically (never a half-written file)."""
    import json

    from vidbench.cache import atomic_write_json

    print(json.dumps(result, indent=2))
    if out:
        atomic_write_json(out, result)


__all__ = ["SPEED_FLAGS", "cpu_info", "cpu_summary", "emit_benchmark"]
