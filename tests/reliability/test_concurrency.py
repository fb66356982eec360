"""Two processes on the same file at once, where they can actually collide.

- Two ``vidbench score`` processes computing the same real-statistics cache entry (FVD, same real set, same
  protocol): both finish with the same value, exactly one cache file exists afterwards and it loads; a third run
  reads it (``real_stats_cached``) and gives the same value; no temporary file is left.
- Two ``vidbench weights fetch`` of the same registered file at once from a loopback HTTP server: both succeed, the
  cached file is complete and verified (sha256), no temporary file is left, and the second fetch reuses the first
  one's file (the server is asked once).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import _harness as H  # tests/reliability/_harness.py (importable: see conftest.py)
import numpy as np
import pytest


def _start(cmd, env, cwd):
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and H.is_temp_name(p.name)]


@pytest.mark.slow  # three FVD runs (random-init I3D at 224²): ~30 s on 2 idle cores
@pytest.mark.timeout(300)
def test_two_processes_write_the_same_real_stats_cache_entry(assets, tmp_path):
    env = H.cli_env(tmp_path / "cache")
    args = [sys.executable, "-m", "vidbench.cli", "score", "--metric", "fvd2_16f", "--detector", "i3d[random-init]",
            "--real", str(assets / "real16"), "--fake", str(assets / "fake16"), "--json"]
    procs = [_start(args, env, tmp_path) for _ in range(2)]
    outs = [p.communicate(timeout=280) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    values = [json.loads(out)["metrics"]["fvd2_16f[random-init]"]["value"] for out, _ in outs]
    assert values[0] == values[1]
    stats = sorted((tmp_path / "cache" / "stats").glob("*"))
    assert len(stats) == 1, stats  # one entry, one file (the second writer replaced it atomically)
    assert H.validate_file(stats[0]) is None
    assert not _temp_files(tmp_path / "cache")
    # a third run reads the entry instead of recomputing, and gets the same number
    out, err = _start(args, env, tmp_path).communicate(timeout=280)
    m = json.loads(out)["metrics"]["fvd2_16f[random-init]"]
    assert m["value"] == values[0]
    assert m["extra"]["real_stats_cached"] is True, m["extra"]


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).hits.append(self.path)
        time.sleep(1.0)  # slow enough that both fetches are in flight together
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        for i in range(0, len(self.payload), 1 << 16):
            self.wfile.write(self.payload[i:i + (1 << 16)])

    def log_message(self, *a):
        pass


FETCH_PRELUDE = r"""
import sys
from vidbench.weights import WeightSpec, register_weights
url, sha, size = sys.argv[1:4]
register_weights(WeightSpec(name="testnet.loopback", filename="testnet_loopback.bin", url=url, sha256=sha,
                            size=int(size), description="reliability test file"))
sys.argv = ["vidbench", "weights", "fetch", "testnet.loopback", "--json"]
from vidbench.cli import main
main()
"""


@pytest.mark.timeout(180)
def test_two_weights_fetches_of_the_same_file(tmp_path):
    payload = np.random.default_rng(0).integers(0, 256, 3 << 20, dtype=np.uint8).tobytes()
    _Handler.payload, _Handler.hits = payload, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/testnet_loopback.bin"
        sha = hashlib.sha256(payload).hexdigest()
        env = H.cli_env(tmp_path / "cache")
        cmd = [sys.executable, "-c", FETCH_PRELUDE, url, sha, str(len(payload))]
        procs = [_start(cmd, env, tmp_path) for _ in range(2)]
        outs = [p.communicate(timeout=170) for p in procs]
    finally:
        server.shutdown()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    paths = {json.loads(out)["path"] for out, _ in outs}
    assert len(paths) == 1
    final = Path(paths.pop())
    assert hashlib.sha256(final.read_bytes()).hexdigest() == sha  # complete, not a mix of two writes
    assert not _temp_files(tmp_path / "cache")
    assert len(_Handler.hits) == 1, f"both processes downloaded the file: {_Handler.hits}"
