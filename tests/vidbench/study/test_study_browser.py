"""The study page in a real browser: Debian chromium driven by Playwright (no Playwright browser download).

A study is answered entirely by keyboard from `vidbench study serve` (http, results POSTed) and from file://
(results downloaded); every <video> must reach readyState >= 2 before its trial is answered; the analysis must count
exactly the choices the test made. Screenshots go to $VIDBENCH_STUDY_ARTIFACTS when set (else the test's tmp dir).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from vidbench.study.analyze import AnalyzeConfig, analyze
from vidbench.study.build import StudyConfig, build_study

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("VIDBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _artifacts(tmp_path: Path) -> Path:
    d = Path(os.environ.get("VIDBENCH_STUDY_ARTIFACTS") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


def run_session(browser, url: str, manifest: dict, rater: str, *, prefer_a: set[str], checks_right: bool,
                keys: tuple[str, str], screenshot: Path | None = None) -> dict:
    """Answer every trial by keyboard; return what was chosen (by method) and the downloaded result."""
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1000, "height": 720})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        assert page.get_attribute("body", "data-vb-state") == "intro"
        page.fill("#vb-rater", rater)
        page.keyboard.press("Enter")
        chose_a = judged = 0
        min_ready = 4
        for i, t in enumerate(manifest["trials"]):  # the page shows trials in manifest order
            page.wait_for_function(
                "id => { const s = document.getElementById('vb-stage');"
                " return s.dataset.trial === id && s.dataset.ready === '1'; }", arg=t["id"], timeout=15000)
            states = page.evaluate("Array.from(document.querySelectorAll('#vb-stage video')).map(v => v.readyState)")
            assert len(states) == len(t["left"]["files"]) + len(t["right"]["files"])
            min_ready = min(min_ready, *states)
            assert page.inner_text("#vb-count") == f"Pair {i + 1} of {len(manifest['trials'])}"
            if screenshot is not None and i == 1:
                page.screenshot(path=str(screenshot))
            if t["kind"] == "pair":
                want = "A" if t["id"] in prefer_a else "B"
                side = "left" if t["left"]["role"] == want else "right"
                judged += 1
                chose_a += want == "A"
            elif t["kind"] == "check":
                side = t["correct"] if checks_right else ("left" if t["correct"] == "right" else "right")
            else:
                side = "left" if i % 2 else "right"
            page.keyboard.press(keys[0] if side == "left" else keys[1])
        page.wait_for_function("document.body.dataset.vbState === 'done'", timeout=10000)
        assert page.inner_text("#vb-answered") == str(len(manifest["trials"]))
        if url.startswith("http"):
            page.wait_for_function("document.getElementById('vb-submit-status').dataset.state === 'ok'",
                                   timeout=10000)
        else:
            assert page.get_attribute("#vb-submit-status", "data-state") == "file"
        with page.expect_download() as dl:
            page.keyboard.press("d")
        download = json.loads(Path(dl.value.path()).read_text())
        assert dl.value.suggested_filename == f"vidbench-study-{manifest['study_id']}-{rater}.json"
        assert not errors, errors
        return {"chose_a": chose_a, "judged": judged, "min_ready": min_ready, "result": download,
                "status": page.inner_text("#vb-submit-status")}
    finally:
        ctx.close()


def complete_and_analyze(browser, study: Path, tmp_path: Path, tag: str) -> dict:
    """http session (passes checks), file:// session (passes), file:// session failing the checks; analyse."""
    from vidbench.study.server import make_server

    m = json.loads((study / "manifest.json").read_text())
    pairs = [t["id"] for t in m["trials"] if t["kind"] == "pair"]
    art = _artifacts(tmp_path)
    srv = make_server(study, host="127.0.0.1", port=0)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        http = run_session(browser, srv.url, m, f"{tag}-http", prefer_a=set(pairs[: len(pairs) - 1]),
                           checks_right=True, keys=("ArrowLeft", "ArrowRight"),
                           screenshot=art / f"study_{tag}_trial.png")
    finally:
        srv.shutdown()
        srv.server_close()
    stored = sorted((study / "results").glob("*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text()) == http["result"]  # POSTed == downloaded
    url = (study / "index.html").resolve().as_uri()
    f1 = run_session(browser, url, m, f"{tag}-file", prefer_a=set(pairs[:1]), checks_right=True, keys=("1", "2"))
    f2 = run_session(browser, url, m, f"{tag}-careless", prefer_a=set(pairs), checks_right=False, keys=("1", "2"))
    downloads = tmp_path / f"downloads-{tag}"
    downloads.mkdir()
    for s in (f1, f2):
        (downloads / f"{s['result']['rater_id']}.json").write_text(json.dumps(s["result"]))
    res = analyze([study, downloads], cfg=AnalyzeConfig(n_boot=500))
    (c,) = res["comparisons"]
    n_checks = sum(t["kind"] == "check" for t in m["trials"])
    assert c["raters_included"] == 2 and c["raters_excluded"] == (1 if n_checks else 0)
    assert c["judgements"] == http["judged"] + f1["judged"]
    assert c["chose_a"] == http["chose_a"] + f1["chose_a"]
    assert min(http["min_ready"], f1["min_ready"], f2["min_ready"]) >= 2
    assert not res["rejected_files"] and not res["duplicate_files"]
    if os.environ.get("VIDBENCH_STUDY_ARTIFACTS"):
        shutil.copy(stored[0], art / f"study_{tag}_stored_result.json")
        (art / f"study_{tag}_analysis.json").write_text(json.dumps(res, indent=1, default=str))
    return {"analysis": res, "http": http, "file": f1, "careless": f2}


def test_study_completed_in_chromium_by_keyboard(browser, two_runs, tmp_path):
    a, b = two_runs
    study = build_study(StudyConfig(a=str(a), b=str(b), pairs=4, checks=1, identical=1, seed=5), tmp_path / "study",
                        progress=False)
    out = complete_and_analyze(browser, study, tmp_path, "runs")
    assert "Submitted" in out["http"]["status"]
    (c,) = out["analysis"]["comparisons"]
    assert c["pref_a_pct"] == pytest.approx(100 * (3 + 1) / 8)  # http: A on 3 of 4, file: A on 1 of 4


def test_grid_study_in_chromium(browser, clips, tmp_path):
    a = clips.make_run(tmp_path / "ga", 9, (230, 40, 40), label="Full")
    b = clips.make_run(tmp_path / "gb", 9, (40, 60, 230), label="w/o L_m")
    study = build_study(StudyConfig(a=str(a), b=str(b), pairs=2, grid=3, checks=1, identical=0, seed=0),
                        tmp_path / "gstudy", progress=False)
    out = complete_and_analyze(browser, study, tmp_path, "grid")
    (c,) = out["analysis"]["comparisons"]
    assert (c["method_a"], c["method_b"], c["grid"]) == ("Full", "w/o L_m", 3)


def quickstart_pair(root: Path) -> tuple[Path, Path, Path | None, tuple[str, str]] | None:
    """The two eval runs of one ``quickstart`` folder to compare (trained vs step-0 motion generator), the real clips
    it saved (for the attention checks) and the labels; None when the quickstart records only one eval run."""
    summary = json.loads(next(root.glob("quickstart-*/quickstart.json")).read_text())
    runs = (summary.get("eval") or {}).get("runs") or {}
    if "trained" not in runs or "step0" not in runs:
        return None
    a, b = Path(runs["trained"]), Path(runs["step0"])
    real = a / "real_samples" if (a / "real_samples").is_dir() else None
    return a, b, real, ("MoCoGAN-HD quickstart (trained)", "MoCoGAN-HD quickstart (step 0)")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_study_from_quickstart_runs(browser, tmp_path):
    """Done-when of the issue: `vidbench quickstart --smoke` runs -> study -> chromium -> analysis. One quickstart
    gives two eval runs (trained and step-0 motion generator); an older quickstart layout needs two quickstarts."""
    from click.testing import CliRunner

    from vidbench.cli import cli

    def quickstart(seed: int) -> Path:
        r = CliRunner().invoke(cli, ["quickstart", "--smoke", "--out", str(tmp_path / f"qs{seed}"), "--seed",
                                     str(seed)])
        assert r.exit_code == 0, r.output
        return tmp_path / f"qs{seed}"

    pair = quickstart_pair(quickstart(0))
    if pair is None:
        runs = [next(q.glob("quickstart-*/eval/*/samples")).parent for q in (tmp_path / "qs0", quickstart(1))]
        pair = (runs[0], runs[1], None, ("quickstart seed 0", "quickstart seed 1"))
    a, b, real, (la, lb) = pair
    args = ["study", "build", "--a", str(a), "--b", str(b), "--pairs", "6", "--label-a", la, "--label-b", lb,
            "--out", str(tmp_path / "qstudy")] + (["--real", str(real)] if real else [])
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    out = complete_and_analyze(browser, tmp_path / "qstudy", tmp_path, "quickstart")
    (c,) = out["analysis"]["comparisons"]
    assert (c["method_a"], c["method_b"]) == (la, lb) and c["judgements"] == 12
    r = CliRunner().invoke(cli, ["study", "analyze", str(tmp_path / "qstudy"), str(tmp_path / "downloads-quickstart"),
                                 "--out", str(_artifacts(tmp_path) / "quickstart_analysis")])
    assert r.exit_code == 0 and f"{la} vs {lb}" in r.output
