"""`vidbench study serve`: serve a study folder and store POSTed results (stdlib ``ThreadingHTTPServer``).

GET serves only the page and its videos: ``/`` and ``/index.html``, and ``/videos/<name>.mp4`` where ``name`` is
plain (letters, digits, ``_ . -``). Anything else — ``..`` segments, absolute or encoded paths, backslashes, hidden
files, ``manifest.json`` (it holds the answers of the attention checks), ``results/`` — is refused with 404/400.
Videos support single ``Range`` requests (browsers ask for them).

``POST /submit`` takes one result (``application/json``, at most ``MAX_RESULT_BYTES``), validates it against the
schema and this study's manifest (study id, every trial answered once) and writes it to ``results/`` under a name the
server chooses (``<rater>-<UTC time>-<random>.json``): written to a temporary file, then hard-linked into place, which
fails rather than overwrite an existing file, so a stored result is never replaced. Answers: 201 with ``{"stored":
name}``; 400 malformed JSON or schema, 404 unknown path, 411 no length, 413 too large, 415 not JSON.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vidbench.errors import VidbenchError
from vidbench.study.build import load_manifest
from vidbench.study.schema import MAX_RESULT_BYTES, ResultError, validate_result

_VIDEO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.(mp4|webm)$")
_MIME = {".mp4": "video/mp4", ".webm": "video/webm"}


def _stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def store_result(results_dir: Path, obj: dict) -> str:
    """Write ``obj`` to a new file in ``results_dir`` atomically, never overwriting; return its name."""
    stamp = _stamp()
    data = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".json", dir=results_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for _ in range(16):
            name = f"{obj['rater_id']}-{stamp}-{secrets.token_hex(4)}.json"
            try:
                os.link(tmp, results_dir / name)  # atomic; fails if the name exists
                return name
            except FileExistsError:
                continue
        raise OSError("could not find a free result file name")
    finally:
        os.unlink(tmp)


class StudyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], study_dir: str | os.PathLike, *, quiet: bool = True):
        self.study_dir = Path(study_dir).resolve()
        self.manifest = load_manifest(self.study_dir)
        self.study_id = self.manifest["study_id"]
        self.trial_ids = {t["id"] for t in self.manifest["trials"]}
        self.results_dir = self.study_dir / "results"
        self.results_dir.mkdir(exist_ok=True)
        self.quiet = quiet
        self.lock = threading.Lock()
        self.counts = {"stored": 0, "refused": 0}
        super().__init__(addr, StudyHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class StudyHandler(BaseHTTPRequestHandler):
    server: StudyServer
    server_version = "vidbench-study/1"
    protocol_version = "HTTP/1.0"
    timeout = 15  # seconds a client may take to send its request (slow clients cannot hold a thread forever)

    def log_message(self, fmt, *args):  # noqa: D401 - stdlib signature
        if not self.server.quiet:
            super().log_message(fmt, *args)

    # ------------------------------------------------------------------------------------------ responses
    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: dict) -> None:
        if status >= 400:
            with self.server.lock:
                self.server.counts["refused"] += 1
        self._send(status, json.dumps(obj).encode(), "application/json")

    # ------------------------------------------------------------------------------------------ GET
    def _resolve(self) -> Path | None:
        """Map the request path to a servable file, or None (refused)."""
        raw = urlsplit(self.path).path
        if "\\" in raw or "\x00" in raw or "//" in raw or "%" in raw or not raw.startswith("/"):
            return None
        path = unquote(raw)
        if path in ("/", "/index.html"):
            return self.server.study_dir / "index.html"
        parts = path.split("/")[1:]
        if len(parts) == 2 and parts[0] == "videos" and _VIDEO_NAME.match(parts[1]) and ".." not in parts[1]:
            p = (self.server.study_dir / "videos" / parts[1]).resolve()
            if p.parent == self.server.study_dir / "videos" and p.is_file():
                return p
        return None

    def do_GET(self):  # noqa: N802 - stdlib name
        if urlsplit(self.path).path == "/favicon.ico":  # browsers ask for it; the study has none
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            return
        p = self._resolve()
        if p is None or not p.is_file():
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        data = p.read_bytes()
        ctype = "text/html; charset=utf-8" if p.suffix == ".html" else _MIME.get(p.suffix, "application/octet-stream")
        rng = self.headers.get("Range")
        m = re.match(r"^bytes=(\d*)-(\d*)$", rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            size = len(data)
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start, end = max(0, size - int(m.group(2))), size - 1
            if start >= size or start > end:
                self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", ctype, {"Content-Range": f"bytes */{size}"})
                return
            self._send(HTTPStatus.PARTIAL_CONTENT, data[start:end + 1], ctype,
                       {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"})
            return
        self._send(HTTPStatus.OK, data, ctype, {"Accept-Ranges": "bytes"})

    do_HEAD = do_GET

    # ------------------------------------------------------------------------------------------ POST
    def do_POST(self):  # noqa: N802 - stdlib name
        if urlsplit(self.path).path != "/submit" or "?" in self.path:
            self._json(HTTPStatus.NOT_FOUND, {"error": "POST results to /submit"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        n = int(length)
        if n > MAX_RESULT_BYTES:
            self.close_connection = True
            if n <= 8 * MAX_RESULT_BYTES:  # drain a moderately large body so the client reads the 413 cleanly
                left = n
                while left > 0:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"result larger than {MAX_RESULT_BYTES} bytes"})
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = self.rfile.read(n)
        if ctype != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "Content-Type must be application/json"})
            return
        if len(body) != n:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "body shorter than Content-Length"})
            return
        try:
            obj = json.loads(body.decode("utf-8"))
            validate_result(obj, study_id=self.server.study_id, trial_ids=self.server.trial_ids)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "body is not valid UTF-8 JSON"})
            return
        except ResultError as e:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(e)})
            return
        try:
            name = store_result(self.server.results_dir, obj)
        except OSError as e:
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"could not store the result ({e.strerror})"})
            return
        with self.server.lock:
            self.server.counts["stored"] += 1
        self._json(HTTPStatus.CREATED, {"stored": name})

    def do_PUT(self):  # noqa: N802
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET or POST /submit"})

    do_DELETE = do_PATCH = do_PUT


def make_server(study_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = True) -> StudyServer:
    """A server bound to ``host:port`` (port 0: any free port). Call ``serve_forever()`` / ``shutdown()``."""
    try:
        return StudyServer((host, port), study_dir, quiet=quiet)
    except OSError as e:
        raise VidbenchError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --port") from None
