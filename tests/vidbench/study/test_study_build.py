"""`vidbench study build`: trials, sides, checks, videos, page; checked against the inputs, not the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from skimage.metrics import peak_signal_noise_ratio

from vidbench.errors import VidbenchError
from vidbench.study.build import StudyConfig, build_study
from vidbench.study.sources import load_source
from vidbench.video import read_video


@pytest.fixture(scope="module")
def study(two_runs, tmp_path_factory):
    a, b = two_runs
    out = tmp_path_factory.mktemp("st") / "study"
    build_study(StudyConfig(a=str(a), b=str(b), pairs=7, checks=2, identical=1, seed=3), out, progress=False)
    return out, json.loads((out / "manifest.json").read_text())


def _colour_of(path: Path) -> str:
    """Which run a decoded clip came from, by the colour of its square (A red, B blue)."""
    v = read_video(path).astype(int)
    r, b = v[..., 0].max(), v[..., 2].max()
    return "A" if r > b else "B"


def test_trials_counts_sides_and_ids(study):
    out, m = study
    kinds = [t["kind"] for t in m["trials"]]
    assert (kinds.count("pair"), kinds.count("check"), kinds.count("identical")) == (7, 2, 1)
    assert [t["id"] for t in m["trials"]] == [f"t{i:04d}" for i in range(1, 11)]
    assert m["labels"] == {"A": "Ours", "B": "Baseline"}  # from the run records' labels
    pairs = [t for t in m["trials"] if t["kind"] == "pair"]
    assert all({t["left"]["role"], t["right"]["role"]} == {"A", "B"} for t in pairs)
    assert sum(t["left"]["role"] == "A" for t in pairs) == 4  # balanced: ceil(7/2) with A on the left
    # every side shows what the manifest says: the clip's colour identifies the run it came from
    for t in pairs:
        for s in ("left", "right"):
            assert _colour_of(out / t[s]["files"][0]) == t[s]["role"]
    ident = [t for t in m["trials"] if t["kind"] == "identical"]
    assert ident[0]["left"]["files"] == ident[0]["right"]["files"]
    # nothing on the page or in the file names says which method is where
    assert all(re.fullmatch(r"videos/v\d{4}\.mp4", f) for t in m["trials"] for s in ("left", "right")
               for f in t[s]["files"])
    page = (out / "index.html").read_text()
    for word in ("Ours", "Baseline", "runA", "runB", '"role"'):
        assert word not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no external URL
    assert len(re.findall(r"<template id=\"tpl-t\d{4}\">", page)) == 10


def test_videos_are_h264_and_checks_have_a_known_answer(study, two_runs):
    out, m = study
    for f in (out / "videos").iterdir():
        with av.open(str(f)) as c:
            assert c.streams.video[0].codec_context.name == "h264"
    checks = [t for t in m["trials"] if t["kind"] == "check"]
    assert {t["correct"] for t in checks} == {"left", "right"}  # balanced
    kinds = set()
    for t in checks:
        good, bad = t[t["correct"]], t["right" if t["correct"] == "left" else "left"]
        assert good["transform"] is None and bad["transform"] in ("frozen", "corrupt")
        kinds.add(bad["transform"])
        src = read_video(Path(two_runs[0 if good["source"] == "A" else 1]) / "samples" / good["ids"][0])
        g, x = read_video(out / good["files"][0]), read_video(out / bad["files"][0])
        assert peak_signal_noise_ratio(src, g) > 30  # the good side is the clip itself
        if bad["transform"] == "frozen":
            assert np.abs(np.diff(x.astype(int), axis=0)).mean() < 1.0  # no motion left
            assert np.abs(np.diff(src.astype(int), axis=0)).mean() > 3.0
        else:
            assert peak_signal_noise_ratio(src, x) < 20  # visibly corrupted (the clean copy is > 30 dB)
    assert kinds == {"frozen", "corrupt"}


def test_seeded_and_recorded(two_runs, tmp_path):
    a, b = two_runs
    cfg = StudyConfig(a=str(a), b=str(b), pairs=5, seed=11, checks=1, identical=1)
    m1 = json.loads((build_study(cfg, tmp_path / "s1", progress=False) / "manifest.json").read_text())
    m2 = json.loads((build_study(cfg, tmp_path / "s2", progress=False) / "manifest.json").read_text())
    cfg3 = StudyConfig(a=str(a), b=str(b), pairs=5, seed=12, checks=1, identical=1)
    m3 = json.loads((build_study(cfg3, tmp_path / "s3", progress=False) / "manifest.json").read_text())
    assert m1["trials"] == m2["trials"] and m1["study_id"] == m2["study_id"]
    assert m1["trials"] != m3["trials"] and m1["study_id"] != m3["study_id"]
    assert m1["config"]["seed"] == 11


def test_never_rebuilt_in_place_and_bad_input(two_runs, tmp_path):
    a, b = two_runs
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(VidbenchError, match="not empty"):
        build_study(StudyConfig(a=str(a), b=str(b), pairs=2), tmp_path / "busy", progress=False)
    with pytest.raises(VidbenchError, match="pairs"):
        build_study(StudyConfig(a=str(a), b=str(b), pairs=0), tmp_path / "s", progress=False)
    from vidbench.cli import cli

    r = CliRunner().invoke(cli, ["study", "build", "--a", str(a), "--b", str(b), "--pairs", "2", "--grid", "2x2",
                                 "--out", str(tmp_path / "g")])
    assert r.exit_code == 2 and "3x3" in r.output
    r = CliRunner().invoke(cli, ["study", "build", "--a", str(tmp_path / "nope"), "--b", str(b), "--pairs", "2",
                                 "--out", str(tmp_path / "g")])
    assert r.exit_code == 2 and "no such run folder" in r.output


def test_build_cli(two_runs, tmp_path):
    from vidbench.cli import cli

    a, b = two_runs
    r = CliRunner().invoke(cli, ["study", "build", "--a", str(a), "--b", "samples:" + str(b / "samples"), "--pairs",
                                 "3", "--label-b", "B-videos", "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert f"study {m['study_id']}: 5 trials (3 pairs, 1 attention checks, 1 identical)" in r.output
    assert m["labels"] == {"A": "Ours", "B": "B-videos"} and m["sources"]["B"]["kind"] == "folder"


def test_match_by_id_pairs_same_file(two_runs, tmp_path):
    a, b = two_runs
    m = json.loads((build_study(StudyConfig(a=str(a), b=str(b), pairs=6, match="id", checks=0, identical=0),
                               tmp_path / "s", progress=False) / "manifest.json").read_text())
    assert all(t["left"]["ids"] == t["right"]["ids"] for t in m["trials"])
    assert sorted(t["left"]["ids"][0] for t in m["trials"]) == [f"{i:06d}.mp4" for i in range(6)]


def test_grid_grouping_rules(clips, tmp_path):
    # 1. content ids recorded: grouped by them (a group of 8 is dropped)
    content = [i % 3 for i in range(27)] + [9] * 8
    run = clips.make_run(tmp_path / "runC", 35, (200, 200, 40), content=content)
    s = load_source(str(run), grid=3)
    assert len(s.units) == 3 and s.dropped == 8
    for u in s.units:
        code = int(u.uid.split(":")[1])
        assert [int(i[:6]) % 3 for i in u.ids] == [code] * 9
    # 2. no content id: consecutive blocks of nine
    run2 = clips.make_run(tmp_path / "runD", 20, (40, 200, 40))
    s2 = load_source(str(run2), grid=3)
    assert [u.ids[0] for u in s2.units] == ["000000.mp4", "000009.mp4"] and s2.dropped == 2
    # 3. plain folder with one sub-folder per content code
    from vidbench.video import write_video

    for code in ("c1", "c2"):
        for i in range(9):
            write_video(tmp_path / "folder" / code / f"{i}.mp4", clips.square_clip((90, 90, 90), i), fps=8)
    s3 = load_source("samples:" + str(tmp_path / "folder"), grid=3)
    assert sorted(u.uid for u in s3.units) == ["content:c1", "content:c2"]


def test_grid_study_page_has_nine_per_side(clips, tmp_path):
    a = clips.make_run(tmp_path / "ga", 18, (230, 40, 40))
    b = clips.make_run(tmp_path / "gb", 18, (40, 60, 230))
    out = build_study(StudyConfig(a=str(a), b=str(b), pairs=2, grid=3, checks=1, identical=0, seed=0),
                      tmp_path / "gs", progress=False)
    m = json.loads((out / "manifest.json").read_text())
    assert m["question"].startswith("Which set of videos shows more diverse motion")
    page = (out / "index.html").read_text()
    for t in m["trials"]:
        assert len(t["left"]["files"]) == len(t["right"]["files"]) == 9
        tpl = re.search(rf'<template id="tpl-{t["id"]}">(.*?)</template>', page, re.S).group(1)
        assert tpl.count("<video") == 18
