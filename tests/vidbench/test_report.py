"""`vidbench report`: components, the page built from a synthetic run folder, and the page in headless Chromium."""

import base64
import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.records import metric_result, new_record, write_per_video, write_result
from vidbench.report import (
    build_report,
    metric_table_html,
    per_video_table_html,
    video_grid_html,
    worst_first_key,
)
from vidbench.video import write_video


class _Tags(HTMLParser):
    """Every tag with its attributes (the independent reading of the page)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(html)
    return p.tags


def _clip(seed: int, t: int = 8, s: int = 32) -> np.ndarray:
    """A moving square (uint8 [T,S,S,3])."""
    v = np.zeros((t, s, s, 3), np.uint8)
    for i in range(t):
        x = (seed * 3 + i * 2) % (s - 8)
        v[i, 8:16, x:x + 8] = (255, 80 + 20 * seed % 170, 40)
    return v


def _record(reason_fvd: list[str]) -> dict:
    fvd = metric_result(value=123.456, std=2.5, ci95=(118.0, 128.9), protocol={"name": "fvd8_8f", "n": 8},
                        detector="i3d[random-init]", weights_hash=None, weights_verified=False, comparable=False,
                        elapsed_s=1.0, warnings=["random-init detector: NOT an FVD value"], n_real=8, n_fake=8,
                        extra={"fd_vs_n": {"n": [8, 16, 24, 32], "fd": [150.0, 135.0, 130.0, 127.5],
                                           "fd_inf": 120.0, "slope": 240.0}},
                        comparable_reasons=reason_fvd)
    acd = metric_result(value=0.25, protocol={"name": "acd8_test"}, detector="pixels", weights_hash="ab" * 32,
                        weights_verified="sha256", comparable=True, elapsed_s=0.1, n_fake=4)
    return new_record(model="samples:x", dataset={"name": "moving_mnist", "split": "test", "fingerprint": "f"},
                      seed=0, metrics={"fvd8_8f[random-init]": fvd, "acd8_test": acd}, label="demo <run>")


@pytest.fixture()
def run_folder(tmp_path) -> Path:
    """An eval-like run folder with 4 generated + 2 real mp4 clips, per-video ACD, a training log and a config."""
    run = tmp_path / "runs" / "demo"
    run.mkdir(parents=True)
    write_result(run, _record(["random-init detector", "N=8 < protocol N=2048"]))
    write_per_video(run, [{"index": i, "id": f"{i:06d}", "seed": 0, "acd8_test.acd": v}
                          for i, v in enumerate([0.10, 0.50, 0.30, 0.20])])
    for i in range(4):
        write_video(run / "samples" / f"{i:06d}.mp4", _clip(i), fps=8)
    for i in range(2):
        write_video(run / "real_samples" / f"{i:06d}.mp4", _clip(10 + i), fps=8)
    (run / "config.json").write_text(json.dumps({"model": "samples:x", "num_videos": 4}))
    with open(run / "train_log.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "d_loss", "g_loss", "elapsed_s"])
        for s in range(1, 11):
            w.writerow([s, 1.0 / s, 0.5 + 0.01 * s, s * 0.1])
    return run


def test_metric_table_lists_protocol_ids_and_reasons_escaped():
    rec = _record(["random-init detector", "N=8 < protocol N=2048"])
    html = metric_table_html(rec)
    assert rec["metrics"]["fvd8_8f[random-init]"]["protocol_id"] in html
    assert rec["metrics"]["acd8_test"]["protocol_id"] in html
    assert "random-init detector" in html and "N=8 &lt; protocol N=2048" in html
    rows = [t for t, _ in _tags(html) if t == "tr"]
    assert len(rows) == 1 + 2  # header + one row per metric
    assert "<run>" not in metric_table_html({**rec, "metrics": {"<run>": rec["metrics"]["acd8_test"]}})


def test_video_grid_embeds_the_exact_file_bytes_or_links_relatively(tmp_path):
    a = write_video(tmp_path / "s" / "000000.mp4", _clip(1), fps=8)
    b = write_video(tmp_path / "s" / "000001.mp4", _clip(2), fps=8)
    html = video_grid_html([a, b], labels=["first", "second"], columns=2)
    srcs = [attrs["src"] for tag, attrs in _tags(html) if tag == "source"]
    assert len(srcs) == 2 and all(s.startswith("data:video/mp4;base64,") for s in srcs)
    assert base64.b64decode(srcs[1].split(",", 1)[1]) == b.read_bytes()
    videos = [attrs for tag, attrs in _tags(html) if tag == "video"]
    assert all({"autoplay", "loop", "muted", "playsinline"} <= set(v) for v in videos)
    linked = video_grid_html([a], embed=False, base_dir=tmp_path)
    assert [attrs["src"] for tag, attrs in _tags(linked) if tag == "source"] == ["s/000000.mp4"]


@pytest.mark.parametrize("column, values, expected", [
    ("acd256_dlib.acd", [0.10, 0.50, 0.30], [1, 2, 0]),  # larger distance is worse: largest first
    ("psnr_ssim_rgb.psnr", [30.0, 20.0, 25.0], [1, 2, 0]),  # lower PSNR is worse: smallest first
])
def test_per_video_rows_worst_first(column, values, expected):
    rows = [{"index": i, "id": f"v{i}", column: v} for i, v in enumerate(values)]
    html = per_video_table_html(rows)
    order = [int(m) for m in re.findall(r"<code>v(\d)</code>", html)]
    assert order == expected
    assert worst_first_key("acd256_dlib.acd") and not worst_first_key("psnr_ssim_rgb.psnr")


def test_build_report_is_self_contained(run_folder, tmp_path):
    out = build_report(run_folder, tmp_path / "elsewhere" / "r.html")
    html = out.read_text()
    tags = _tags(html)
    assert sum(t == "video" for t, _ in tags) == 4 + 2 + 4  # grid (generated + real) + one clip per per-video row
    urls = [v for _, attrs in tags for k, v in attrs.items() if k in ("src", "href") and v]
    assert urls and all(u.startswith("data:") for u in urls), [u[:40] for u in urls if not u.startswith("data:")]
    assert not re.search(r"https?://", html)
    imgs = [a["alt"] for t, a in tags if t == "img"]
    assert any("FD vs N" in alt for alt in imgs) and "training curves" in imgs
    # per-video table worst ACD first: 0.5 (index 1), 0.3, 0.2, 0.1
    pv = html[html.index("vb-pervideo"):]
    assert [int(m) for m in re.findall(r"<code>00000(\d)</code>", pv)] == [1, 2, 3, 0]
    assert "demo &lt;run&gt;" in html  # the label, escaped


def test_build_report_links_videos_when_over_the_embed_limit(run_folder):
    out = build_report(run_folder, embed_limit_bytes=1)
    html = out.read_text()
    srcs = [a["src"] for t, a in _tags(html) if t == "source"]
    assert srcs and all(s.startswith(("samples/", "real_samples/")) for s in srcs)
    assert all((run_folder / s).exists() for s in srcs)
    assert "linked by relative path" in html


def test_report_cli(run_folder, tmp_path):
    r = CliRunner().invoke(cli, ["report", str(run_folder), "--out", str(tmp_path / "x.html")])
    assert r.exit_code == 0, r.output
    assert Path(r.output.strip()).exists()
    r = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "not a folder" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(cli, ["report", str(empty)])
    assert r.exit_code == 2 and "no result.json" in r.output


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def open_in_chromium(html_path: Path, screenshot: Path | None = None, timeout_ms: int = 30_000) -> dict:
    """Open a page from file:// in headless Chromium; wait until every <video> has readyState >= 2."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html_path.resolve().as_uri())
            page.wait_for_function(
                "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 2)", timeout=timeout_ms)
            states = page.evaluate("Array.from(document.querySelectorAll('video')).map(v => "
                                   "({ready: v.readyState, error: v.error && v.error.code, w: v.videoWidth}))")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {"videos": states, "requests": requests}


@pytest.mark.browser
def test_report_videos_play_in_headless_chromium(run_folder, tmp_path):
    html = build_report(run_folder)
    shot = tmp_path / "report.png"
    res = open_in_chromium(html, shot)
    assert len(res["videos"]) == 10
    assert all(v["ready"] >= 2 and v["error"] is None and v["w"] == 32 for v in res["videos"])
    assert all(u.startswith(("file:", "data:")) for u in res["requests"]), res["requests"]
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
def test_linked_report_videos_play_from_file_url(run_folder, tmp_path):
    html = build_report(run_folder, embed="never")
    res = open_in_chromium(html)
    assert res["videos"] and all(v["ready"] >= 2 and v["error"] is None for v in res["videos"])
