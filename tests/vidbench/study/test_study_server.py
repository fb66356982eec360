"""`vidbench study serve`: loopback tests (127.0.0.1 only), bounded in count and time."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vidbench.study.build import StudyConfig, build_study
from vidbench.study.schema import MAX_RESULT_BYTES, RESULT_SCHEMA


@pytest.fixture(scope="module")
def served(two_runs, tmp_path_factory):
    from vidbench.study.server import make_server

    a, b = two_runs
    out = build_study(StudyConfig(a=str(a), b=str(b), pairs=3, checks=1, identical=1, seed=0),
                      tmp_path_factory.mktemp("srv") / "study", progress=False)
    srv = make_server(out, host="127.0.0.1", port=0)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv, json.loads((out / "manifest.json").read_text())
    srv.shutdown()
    srv.server_close()


def _request(port: int, method: str, path: str, body: bytes | None = None, ctype: str = "application/json",
             headers: dict | None = None) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        h = {"Content-Type": ctype} if body is not None else {}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _valid(manifest: dict, rater: str) -> dict:
    ids = [t["id"] for t in manifest["trials"]]
    return {"schema": RESULT_SCHEMA, "study_id": manifest["study_id"], "rater_id": rater,
            "started_at": "2026-12-01T10:00:00Z", "finished_at": "2026-12-01T10:01:00Z",
            "client": {"origin": "http", "user_agent": "loopback-test"},
            "answers": [{"trial": t, "choice": "left" if i % 2 else "right", "rt_ms": 500 + i, "position": i}
                        for i, t in enumerate(ids)]}


def _malformed(manifest: dict, i: int) -> tuple[str, bytes, str]:
    """(path, body, content type) of the i-th kind of bad submission."""
    v = _valid(manifest, f"bad-{i}")
    kind = i % 12
    if kind == 0:
        return "/submit", b"{not json", "application/json"
    if kind == 1:
        return "/submit", json.dumps(dict(v, schema="other.v1")).encode(), "application/json"
    if kind == 2:
        return "/submit", json.dumps(dict(v, rater_id="../../etc/passwd")).encode(), "application/json"
    if kind == 3:
        return "/submit", json.dumps(dict(v, rater_id="/abs/path")).encode(), "application/json"
    if kind == 4:
        return "/submit", json.dumps(dict(v, study_id="0123456789ab")).encode(), "application/json"
    if kind == 5:
        return "/submit", json.dumps(dict(v, answers=v["answers"][:-1])).encode(), "application/json"
    if kind == 6:
        bad = [dict(a) for a in v["answers"]]
        bad[0]["trial"] = "t9999"
        return "/submit", json.dumps(dict(v, answers=bad)).encode(), "application/json"
    if kind == 7:
        bad = [dict(a) for a in v["answers"]]
        bad[0]["choice"] = "both"
        return "/submit", json.dumps(dict(v, answers=bad)).encode(), "application/json"
    if kind == 8:
        return "/submit", json.dumps(v).encode(), "text/plain"
    if kind == 9:
        return "/submit", json.dumps(dict(v, client={"pad": "x" * 100})).encode() + b" " * (MAX_RESULT_BYTES + 10), \
            "application/json"
    if kind == 10:
        return "/../results/x.json", json.dumps(v).encode(), "application/json"
    return "/submit/..%2f..%2fx", json.dumps(v).encode(), "application/json"


def test_concurrent_submissions_are_all_stored_or_refused(served):
    """≥ 1,000 POSTs from 16 concurrent clients, half malformed; then count what is on disk."""
    srv, m = served
    port = srv.server_address[1]
    results_dir = Path(srv.results_dir)
    before = set(os.listdir(results_dir))
    n_total = 1200
    jobs = []
    for i in range(n_total):
        if i % 2 == 0:
            jobs.append(("valid", f"load-{i}", "/submit", json.dumps(_valid(m, f"load-{i}")).encode(),
                         "application/json"))
        else:
            jobs.append(("bad", f"bad-{i}", *_malformed(m, i // 2)))

    def fire(job):
        kind, rater, path, body, ctype = job
        status, data = _request(port, "POST", path, body, ctype)
        return kind, rater, status, data

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as ex:
        out = list(ex.map(fire, jobs, timeout=120))
    elapsed = time.perf_counter() - t0
    sent_valid = {r for k, r, *_ in out if k == "valid"}
    accepted = {r: json.loads(d)["stored"] for k, r, s, d in out if s == 201}
    refused = [(k, r, s) for k, r, s, _ in out if 400 <= s < 500]
    want = {0: 400, 8: 415, 9: 413, 10: 404, 11: 404}  # by kind of malformed request; the rest 400
    for k, r, s, _ in out:
        if k == "bad":
            assert s == want.get((int(r.split("-")[1]) // 2) % 12, 400), (r, s)
    assert set(accepted) == sent_valid  # every valid one accepted, no malformed one
    assert len(refused) == n_total - len(sent_valid) and all(k == "bad" for k, *_ in refused)
    assert all(s < 500 for _, _, s, _ in out)
    new = set(os.listdir(results_dir)) - before
    assert new == set(accepted.values())  # on disk: exactly the accepted ones (no temp files, nothing else)
    for rater, name in accepted.items():
        stored = json.loads((results_dir / name).read_text())
        assert stored == _valid(m, rater)
    figures = {"sent": n_total, "valid_sent": len(sent_valid), "stored": len(new), "refused_4xx": len(refused),
               "seconds": round(elapsed, 2), "clients": 16}
    print("study server load test:", json.dumps(figures))
    if os.environ.get("VIDBENCH_STUDY_ARTIFACTS"):
        d = Path(os.environ["VIDBENCH_STUDY_ARTIFACTS"])
        d.mkdir(parents=True, exist_ok=True)
        (d / "server_load.json").write_text(json.dumps(figures, indent=1))
    assert elapsed < 60


def test_get_serves_only_the_page_and_videos(served):
    srv, m = served
    port = srv.server_address[1]
    status, page = _request(port, "GET", "/")
    assert status == 200 and b"vb-study-data" in page
    video = m["trials"][0]["left"]["files"][0]
    status, data = _request(port, "GET", "/" + video)
    assert status == 200 and data == (srv.study_dir / video).read_bytes()
    status, part = _request(port, "GET", "/" + video, headers={"Range": "bytes=0-99"})
    assert status == 206 and part == data[:100]
    for bad in ("/manifest.json", "/results/", "/../manifest.json", "/videos/../manifest.json",
                "/videos/..%2fmanifest.json", "/%2e%2e/manifest.json", "//etc/passwd", "/videos/.hidden.mp4",
                "/videos\\..\\manifest.json", "/videos/x.py", "/etc/passwd"):
        status, _ = _request(port, "GET", bad)
        assert status == 404, bad


def test_store_never_overwrites(tmp_path, monkeypatch):
    from vidbench.study import server

    monkeypatch.setattr(server, "_stamp", lambda: "20260101T000000000000Z")
    tokens = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(server.secrets, "token_hex", lambda n: next(tokens))
    obj = {"rater_id": "r1", "x": 1}
    n1 = server.store_result(tmp_path, obj)
    n2 = server.store_result(tmp_path, dict(obj, x=2))  # first name taken -> next token
    assert n1 == "r1-20260101T000000000000Z-aaaa.json" and n2 == "r1-20260101T000000000000Z-bbbb.json"
    assert json.loads((tmp_path / n1).read_text())["x"] == 1 and json.loads((tmp_path / n2).read_text())["x"] == 2
    assert sorted(os.listdir(tmp_path)) == [n1, n2]  # no temp file left


def test_length_required_and_method(served):
    srv, _ = served
    c = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    c.putrequest("POST", "/submit")
    c.putheader("Content-Type", "application/json")
    c.endheaders()
    assert c.getresponse().status == 411
    c.close()
    assert _request(srv.server_address[1], "PUT", "/submit", b"{}")[0] == 405


def test_serve_cli_subprocess(served):
    """`vidbench study serve DIR --port 0` in its own process: prints its URL, serves the page, stops on Ctrl-C."""
    import re
    import signal
    import subprocess
    import sys

    srv, _ = served
    proc = subprocess.Popen([sys.executable, "-m", "vidbench.cli", "study", "serve", str(srv.study_dir), "--port", "0",
                             "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        status, page = _request(int(m.group(1)), "GET", "/index.html")
        assert status == 200 and b"vb-study-data" in page
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=20)[1]
    assert proc.returncode == 0 and "stopped: 0 results stored" in rest
