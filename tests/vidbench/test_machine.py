"""vidbench.machine: CPU model and flags from a /proc/cpuinfo-format file, and the FVD fast mode's bf16 check."""

from vidbench.machine import cpu_info


def _cpuinfo(tmp_path, flags: str):
    p = tmp_path / "cpuinfo"
    p.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse2 " + flags + "\n\n"
                 "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n")
    return p


def test_cpu_info_reads_the_first_cpu(tmp_path):
    info = cpu_info(_cpuinfo(tmp_path, "avx2 avx512f avx512_bf16"))
    assert info["model"] == "Test CPU 9000"
    assert info["flags"] == {"fpu", "sse2", "avx2", "avx512f", "avx512_bf16"}


def test_cpu_info_unreadable_gives_none(tmp_path):
    assert cpu_info(tmp_path / "missing") == {"model": None, "flags": None}


def test_bf16_support_follows_the_flags(tmp_path, monkeypatch):
    from vidbench.metrics.fvd import cpu_bf16_support

    import vidbench.machine

    for flags, expect in (("avx2", (False, "lacks")), ("avx512_bf16", (True, "AVX512-BF16")),
                          ("amx_bf16 avx512_bf16", (True, "AMX-BF16"))):
        path = _cpuinfo(tmp_path, flags)
        monkeypatch.setattr(vidbench.machine, "cpu_info", lambda p=path: cpu_info(p))
        ok, why = cpu_bf16_support.__wrapped__()  # past the lru_cache: the real answer stays cached
        assert ok is expect[0] and expect[1] in why, (flags, ok, why)
    monkeypatch.setattr(vidbench.machine, "cpu_info", lambda: cpu_info(tmp_path / "missing"))
    assert cpu_bf16_support.__wrapped__() == (False, "cannot read /proc/cpuinfo to detect AVX512-BF16/AMX")


def test_emit_benchmark_prints_and_writes_the_same_json(tmp_path, capsys):
    import json

    from vidbench.machine import emit_benchmark

    result = {"cpu": {"model": "x", "flags": ["avx2"]}, "runs": [{"threads": 1, "ms": 1.5}]}
    emit_benchmark(result, tmp_path / "r.json")
    assert json.loads(capsys.readouterr().out) == result
    assert json.loads((tmp_path / "r.json").read_text()) == result
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
    emit_benchmark(result)  # no out: print only
    assert json.loads(capsys.readouterr().out) == result
