"""Property-based tests (hypothesis) of the formats every job reads and writes.

- npz and PNG frame folders round-trip any uint8 video exactly (write_video -> read_video / iter_videos);
- mp4 keeps the frame count and size (odd sizes included) and stays above a PSNR floor on smooth content;
- any JSON given to the run-record reader gives a valid v2 record or one clear VidbenchError, never another exception;
- the metric-name grammar parses exactly what it prints: names built from their parts resolve to a protocol with those
  parts, the protocol's fields print back to the same name, and strings outside the grammar are refused cleanly.

Example counts are small (25-50, no deadline) to keep the suite fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vidbench.errors import VidbenchError
from vidbench.video import iter_videos, read_video, write_video, write_videos_npz

FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


def videos(max_t=6, max_side=20):
    shape = st.tuples(st.integers(1, max_t), st.integers(1, max_side), st.integers(1, max_side), st.just(3))
    return shape.flatmap(lambda s: arrays(np.uint8, s))


# ------------------------------------------------------------------------------------------------ exact formats
@FAST
@given(v=videos())
def test_npz_round_trip_is_exact(tmp_path, v):
    p = write_video(tmp_path / "clip.npz", v)
    out = read_video(p)
    assert out.dtype == np.uint8 and np.array_equal(out, v)


@FAST
@given(batch=st.integers(1, 4).flatmap(lambda n: videos(4, 12).flatmap(
    lambda v: arrays(np.uint8, (n, *v.shape)))))
def test_npz_collection_round_trip_is_exact(tmp_path, batch):
    p = write_videos_npz(tmp_path / "samples.npz", batch)
    got = list(iter_videos(p))
    assert [i for i, _ in got] == [f"samples.npz#{i}" for i in range(len(batch))]
    assert all(np.array_equal(g, b) for (_, g), b in zip(got, batch))


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(v=videos(5, 16))
def test_png_frame_folder_round_trip_is_exact(tmp_path, v):
    folder = write_video(tmp_path / "frames", v)  # a path without extension is a frame folder
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:06d}.png" for i in range(len(v))]
    assert np.array_equal(read_video(folder), v)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# smooth content at the writer's default crf 15: what remains is mostly yuv420p chroma subsampling of saturated colour
# ramps (hypothesis found 29.9 dB on an 8x8 ramp); a wrong colour conversion or channel order gives < 15 dB
MP4_PSNR_FLOOR_DB = 25.0


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=st.integers(1, 10), h=st.integers(8, 48), w=st.integers(8, 48),
       coarse=arrays(np.uint8, (2, 3, 3, 3)), fps=st.sampled_from([5.0, 8.0, 10.0, 24.0, 29.97]))
def test_mp4_keeps_frames_and_size_above_psnr_floor(tmp_path, t, h, w, coarse, fps):
    import torch
    import torch.nn.functional as F

    # smooth content: bilinear upsampling of a 3x3 colour field, blended linearly from the first to the last key
    keys = F.interpolate(torch.from_numpy(coarse).permute(0, 3, 1, 2).double(), size=(h, w), mode="bilinear",
                         align_corners=True)  # [2,3,h,w]
    a = torch.linspace(0, 1, t, dtype=torch.float64).view(t, 1, 1, 1)
    v = ((1 - a) * keys[0] + a * keys[1]).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    p = write_video(tmp_path / "clip.mp4", v, fps=fps)
    out = read_video(p)
    assert out.shape == v.shape  # frame count and (odd) size kept
    assert _psnr(out, v) >= MP4_PSNR_FLOOR_DB


# ------------------------------------------------------------------------------------------------ run records
def _valid_record() -> dict:
    from vidbench.records import metric_result, new_record

    m = metric_result(value=12.5, protocol={"name": "fvd2_10f", "num_real": 2}, detector="i3d", weights_hash="ab" * 32,
                      weights_verified="sha256", comparable=False, comparable_reasons=["N=2 < protocol N=2048"],
                      elapsed_s=1.0, n_real=2, n_fake=2)
    return new_record(model="samples:x", dataset={"name": "folder:y", "split": None, "fingerprint": None}, seed=0,
                      metrics={"fvd2_10f": m}, command="score")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


def _check_reader(tmp_path: Path, text: str) -> None:
    from vidbench.records import read_result, validate_record

    (tmp_path / "result.json").write_text(text)
    try:
        rec = read_result(tmp_path)
    except VidbenchError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "result.json" in msg  # one line naming the file
        return
    validate_record(rec)  # what the reader returns is itself valid (v2-shaped)
    assert rec["schema"].startswith("vidbench.run_record.v")


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_gives_a_record_or_one_clear_error(tmp_path, value):
    _check_reader(tmp_path, json.dumps(value))


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_records_give_a_record_or_one_clear_error(tmp_path, data):
    """A valid record with one field replaced, deleted or added anywhere in the tree."""
    rec = _valid_record()
    node, path = rec, []
    while isinstance(node, dict) and node and data.draw(st.booleans(), label="descend"):
        key = data.draw(st.sampled_from(sorted(node)), label="key")
        path.append(key)
        if not isinstance(node[key], dict):
            break
        node = node[key]
    parent = rec
    for k in path[:-1]:
        parent = parent[k]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if action == "add" or not path:
        parent[data.draw(st.text(max_size=8), label="new key")] = data.draw(json_values, label="new value")
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values, label="value")
    _check_reader(tmp_path, json.dumps(rec))


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_non_json_text_gives_one_clear_error(tmp_path, text):
    try:
        json.loads(text)
    except ValueError:
        pass
    else:
        assume(False)  # valid JSON is covered above
    _check_reader(tmp_path, text)


def test_valid_record_is_read_back():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "result.json").write_text(json.dumps(_valid_record()))
        from vidbench.records import read_result

        assert read_result(d)["metrics"]["fvd2_10f"]["value"] == 12.5


# ------------------------------------------------------------------------------------------------ metric names
# independent printers of the documented grammar (DESIGN.md: family{N}[x{R}]_{T}f[_variant])
def fvd_name(p) -> str:
    variant = {"i3d.kinetics400_styleganv_ts": "_styleganv"}.get(p.default_weights, "")
    if p.default_weights == "i3d.kinetics400_tats":
        variant = "_videogpt" if p.resize == "short_side_center_crop" else "_tats"
    return f"fvd{p.num_real}_{p.num_frames}f{variant}"


def motion_div_name(p) -> str:
    return f"motion_div{p.num_videos}x{p.num_content}_{p.num_frames}f"


@settings(max_examples=50, deadline=None, database=None)
@given(n=st.integers(2, 100_000), t=st.integers(9, 128), variant=st.sampled_from(["", "styleganv", "tats", "videogpt"]))
def test_fvd_names_parse_to_their_parts_and_print_back(n, t, variant):
    from vidbench.registry import METRICS

    name = f"fvd{n}_{t}f" + (f"_{variant}" if variant else "")
    e = METRICS.get(name)
    p = e.meta["protocol"]
    assert (p.num_real, p.num_fake, p.num_frames) == (n, n, t)
    assert fvd_name(p) == name and e.name == name
    assert METRICS.get(name + "[random-init]").meta["protocol"] == p


@settings(max_examples=40, deadline=None, database=None)
@given(k=st.integers(2, 5000), m=st.integers(1, 500), t=st.integers(1, 64))
def test_motion_div_names_parse_to_their_parts_and_print_back(k, m, t):
    from vidbench.registry import METRICS

    name = f"motion_div{k}x{m}_{t}f"
    p = METRICS.get(name).meta["protocol"]
    assert motion_div_name(p) == name


@settings(max_examples=40, deadline=None, database=None)
@given(n=st.integers(2, 200_000), k=st.booleans())
def test_fid_names_parse_to_their_parts(n, k):
    from vidbench.registry import METRICS

    name = f"fid{n}{'k' if k else ''}"
    p = METRICS.get(name).meta["protocol"]
    assert p.num_fake == n * (1000 if k else 1)


@settings(max_examples=50, deadline=None, database=None)
@given(name=st.from_regex(r"\A(fvd|fid|motion_div|is|acd|psnr_ssim)[0-9a-z_x\[\]\-]{0,16}\Z")
       | st.text(max_size=20))
def test_any_name_resolves_or_is_refused_cleanly(name):
    """Whatever the user types: an entry whose protocol prints back to the same name, or one UnknownNameError /
    VidbenchError line (never another exception)."""
    from vidbench.registry import METRICS

    try:
        e = METRICS.get(name)
    except VidbenchError as err:
        assert "\n" not in str(err)
        return
    p = e.meta.get("protocol")
    base = name.removesuffix("[random-init]")
    if base.startswith("fvd") and base not in ("fvd2048_16f",) and hasattr(p, "num_real"):
        assert fvd_name(p) == base, f"{name!r} is accepted but its protocol prints as {fvd_name(p)!r}"
    if base.startswith("motion_div"):
        assert motion_div_name(p) == base, f"{name!r} is accepted but its protocol prints as {motion_div_name(p)!r}"


@pytest.mark.parametrize("name", ["fvd02_16f", "fvd2_016f", "motion_div02x5_16f"])
def test_zero_padded_numbers_are_not_a_second_name_for_a_protocol(name):
    """``fvd02_16f`` would be a second spelling of ``fvd2_16f`` (same protocol id, two table columns)."""
    from vidbench.registry import METRICS

    try:
        e = METRICS.get(name)
    except VidbenchError:
        return
    p = e.meta["protocol"]
    printed = fvd_name(p) if name.startswith("fvd") else motion_div_name(p)
    assert printed == name, f"{name!r} is accepted as a second name of {printed!r}"
