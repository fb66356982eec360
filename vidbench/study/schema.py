"""The two study file formats: the manifest (written by ``study build``) and a rater's result (written by the page).

Result (``vidbench.study_result.v1``), one JSON object per rater session::

    {"schema": "vidbench.study_result.v1", "study_id": "<12 hex>", "rater_id": "r-1a2b3c4d",
     "started_at": "<ISO 8601>", "finished_at": "<ISO 8601>", "client": {"origin": "http", "user_agent": "..."},
     "answers": [{"trial": "t0003", "choice": "left", "rt_ms": 1532, "position": 0}, ...]}

``answers`` holds every trial of the study exactly once (``position`` is the 0-based order the rater saw it in);
``choice`` is the side the rater picked. Which method was on which side is only in the manifest, never on the page.
The same validator guards the server (every POST) and the analysis (every file read).
"""

from __future__ import annotations

import re
from typing import Any

MANIFEST_SCHEMA = "vidbench.study_manifest.v1"
RESULT_SCHEMA = "vidbench.study_result.v1"
MAX_RESULT_BYTES = 256 * 1024  # one session of a few hundred trials is ~30 kB
RATER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
STUDY_ID_RE = re.compile(r"^[0-9a-f]{12}$")
TRIAL_RE = re.compile(r"^t[0-9]{4,6}$")
_TOP_KEYS = {"schema", "study_id", "rater_id", "started_at", "finished_at", "client", "answers"}
_ANSWER_KEYS = {"trial", "choice", "rt_ms", "position"}
_MAX_STR = 512
_MAX_RT_MS = 24 * 3600 * 1000


class ResultError(ValueError):
    """A result file/submission that does not follow ``vidbench.study_result.v1`` (message says what is wrong)."""


def _short_str(v: Any, name: str) -> str:
    if not isinstance(v, str) or len(v) > _MAX_STR:
        raise ResultError(f"{name} must be a string of at most {_MAX_STR} characters")
    return v


def validate_result(obj: Any, *, study_id: str | None = None, trial_ids: set[str] | None = None) -> dict:
    """Check a parsed result against the schema (and against a manifest's study id / trial ids when given).

    Returns the object unchanged; raises :class:`ResultError` with one line naming the first problem.
    """
    if not isinstance(obj, dict):
        raise ResultError("a result is a JSON object")
    extra = set(obj) - _TOP_KEYS
    if extra:
        raise ResultError(f"unknown field(s) {sorted(extra)[:5]}")
    missing = {"schema", "study_id", "rater_id", "answers"} - set(obj)
    if missing:
        raise ResultError(f"missing field(s) {sorted(missing)}")
    if obj["schema"] != RESULT_SCHEMA:
        raise ResultError(f"schema must be {RESULT_SCHEMA!r}")
    if not isinstance(obj["study_id"], str) or not STUDY_ID_RE.match(obj["study_id"]):
        raise ResultError("study_id must be 12 lowercase hex digits")
    if study_id is not None and obj["study_id"] != study_id:
        raise ResultError(f"study_id {obj['study_id']} is not this study ({study_id})")
    if not isinstance(obj["rater_id"], str) or not RATER_RE.match(obj["rater_id"]):
        raise ResultError("rater_id must be 1-64 of A-Z a-z 0-9 _ - (starting with a letter or digit)")
    for k in ("started_at", "finished_at"):
        if k in obj:
            _short_str(obj[k], k)
    if "client" in obj:
        c = obj["client"]
        if not isinstance(c, dict) or len(c) > 8:
            raise ResultError("client must be an object with at most 8 string fields")
        for k, v in c.items():
            _short_str(k, "client key")
            _short_str(v, f"client.{k}")
    answers = obj["answers"]
    if not isinstance(answers, list) or not answers:
        raise ResultError("answers must be a non-empty list")
    if trial_ids is not None and len(answers) != len(trial_ids):
        raise ResultError(f"answers has {len(answers)} entries; the study has {len(trial_ids)} trials (answer all)")
    seen: set[str] = set()
    positions: set[int] = set()
    for i, a in enumerate(answers):
        if not isinstance(a, dict) or set(a) - _ANSWER_KEYS or not {"trial", "choice"} <= set(a):
            raise ResultError(f"answers[{i}] must be {{trial, choice[, rt_ms, position]}}")
        t = a["trial"]
        if not isinstance(t, str) or not TRIAL_RE.match(t):
            raise ResultError(f"answers[{i}].trial must look like t0001")
        if trial_ids is not None and t not in trial_ids:
            raise ResultError(f"answers[{i}].trial {t} is not a trial of this study")
        if t in seen:
            raise ResultError(f"answers[{i}].trial {t} answered twice")
        seen.add(t)
        if a["choice"] not in ("left", "right"):
            raise ResultError(f"answers[{i}].choice must be 'left' or 'right'")
        if "rt_ms" in a:
            rt = a["rt_ms"]
            if isinstance(rt, bool) or not isinstance(rt, int) or not 0 <= rt <= _MAX_RT_MS:
                raise ResultError(f"answers[{i}].rt_ms must be an integer number of milliseconds (0..{_MAX_RT_MS})")
        if "position" in a:
            pos = a["position"]
            if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos < len(answers) or pos in positions:
                raise ResultError(f"answers[{i}].position must be a distinct integer in [0, {len(answers)})")
            positions.add(pos)
    return obj
