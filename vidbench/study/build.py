"""`vidbench study build`: a self-contained 2AFC preference study (static site + manifest).

Output folder::

    index.html      the page (inline CSS/JS, one <template> per trial; opens from file:// or `study serve`)
    videos/v0001.mp4 ...  every clip re-encoded to H.264 (yuv420p) by vidbench.video.write_video; the names are a
                    seeded shuffle, so neither the file name nor the page reveals which method made a clip
    manifest.json   ``vidbench.study_manifest.v1``: the configuration, both sources, the seed and, per trial, what is
                    on each side (method, source ids, transform) and the known answer of attention checks
    results/        where `study serve` stores submissions (one JSON file each)

Trials (order and sides drawn from ``seed`` and recorded):

- ``pair``: a unit of A against a unit of B. Sides are balanced (half the pairs show A on the left, shuffled).
  ``match="random"`` pairs a random permutation of A's units with one of B's (a permutation is reused, freshly
  shuffled, when more pairs than units are asked); ``match="id"`` pairs units with the same id (same sample file name,
  e.g. prediction from the same test clip as in the paper's Table 8).
- ``check`` (attention check, known answer): a clip against the same clip *frozen* (its first frame held) or
  *visibly corrupted* (strong per-pixel noise). The correct answer is the unmodified clip. The clip comes from
  ``real`` (a folder of real videos) when given, else alternately from side A and side B as given. Frozen is only
  used for clips that move (mean |x_t+1 - x_t| >= 0.01 in [0,1] pixels), else the check falls back to corruption.
  For a question about motion diversity the frozen/corrupted side is also the wrong answer.
- ``identical``: the same unit on both sides; it measures left/right bias only and is never a pass/fail check.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vidbench.cache import atomic_write_json, atomic_write_text
from vidbench.errors import VidbenchError
from vidbench.study.schema import MANIFEST_SCHEMA, RESULT_SCHEMA
from vidbench.study.site import STUDY_CSS, STUDY_JS
from vidbench.study.sources import Source, Unit, describe, load_source

DEFAULT_QUESTION = "Which video looks more realistic?"
DEFAULT_GRID_QUESTION = "Which set of videos shows more diverse motion (e.g. rotations, expressions)?"
FROZEN_MIN_CHANGE = 0.01  # mean |x_t+1 - x_t| (pixels in [0,1]) a clip needs before a frozen copy is a fair check


@dataclass(frozen=True)
class StudyConfig:
    a: str  # run folder, samples:PATH or folder of videos (method A)
    b: str  # the same for method B
    pairs: int  # A-vs-B trials (the paper: 300 videos per method for Table 2, 200 for Table 5, 148 for Table 8)
    question: str | None = None  # None: DEFAULT_QUESTION (DEFAULT_GRID_QUESTION with grid=3)
    grid: int = 1  # 1: one video per side; 3: a 3x3 grid of one content code per side (Table 5, App. B)
    seed: int = 0
    real: str | None = None  # real videos for the attention checks (else side A/B clips as given)
    checks: int | None = None  # attention checks; None: max(1, round(pairs / 10))
    identical: int | None = None  # identical pairs (left/right bias); None: max(1, round(pairs / 20))
    label_a: str | None = None  # None: the run record's label/model, else the folder name
    label_b: str | None = None
    match: str = "random"  # "random" | "id"
    fps: float = 8.0
    max_frames: int | None = None  # keep the first N frames of each clip
    display_px: int = 256  # width of one side on the page (a grid tile is a third of it)


def _resolved_counts(cfg: StudyConfig) -> tuple[int, int]:
    checks = max(1, round(cfg.pairs / 10)) if cfg.checks is None else cfg.checks
    identical = max(1, round(cfg.pairs / 20)) if cfg.identical is None else cfg.identical
    return int(checks), int(identical)


def _validate(cfg: StudyConfig) -> None:
    if cfg.pairs < 1:
        raise VidbenchError(f"--pairs must be >= 1, got {cfg.pairs}")
    checks, identical = _resolved_counts(cfg)
    if checks < 0 or identical < 0:
        raise VidbenchError("--checks and --identical must be >= 0")
    if cfg.pairs + checks + identical > 99999:
        raise VidbenchError("a study holds at most 99,999 trials; split it into rounds")
    if cfg.grid not in (1, 3):
        raise VidbenchError(f"--grid must be 1x1 or 3x3, got {cfg.grid}x{cfg.grid}")
    if cfg.match not in ("random", "id"):
        raise VidbenchError(f"--match must be random or id, got {cfg.match!r}")
    if cfg.fps <= 0:
        raise VidbenchError(f"--fps must be positive, got {cfg.fps}")
    if cfg.display_px < 32:
        raise VidbenchError(f"--display-px must be >= 32, got {cfg.display_px}")


def _cycle(rng: np.random.Generator, n_units: int, n: int) -> list[int]:
    """``n`` unit indices: concatenated fresh permutations of range(n_units)."""
    out: list[int] = []
    while len(out) < n:
        out.extend(int(i) for i in rng.permutation(n_units))
    return out[:n]


def _side(role: str, src_key: str, unit: Unit, transform: str | None = None) -> dict:
    return {"role": role, "source": src_key, "unit": unit.uid, "ids": list(unit.ids), "transform": transform}


def _balanced_bools(rng: np.random.Generator, n: int) -> list[bool]:
    v = np.array([i < (n + 1) // 2 for i in range(n)])
    rng.shuffle(v)
    return [bool(x) for x in v]


def _plan_trials(cfg: StudyConfig, srcs: dict[str, Source], rng: np.random.Generator) -> list[dict]:
    A, B = srcs["A"], srcs["B"]
    checks, identical = _resolved_counts(cfg)
    pairs: list[tuple[Unit, Unit]] = []
    if cfg.match == "id":
        ua = {u.uid: u for u in A.units}
        ub = {u.uid: u for u in B.units}
        common = sorted(set(ua) & set(ub))
        if not common:
            raise VidbenchError("--match id: sides A and B share no video ids (file names); use --match random")
        for i in _cycle(rng, len(common), cfg.pairs):
            pairs.append((ua[common[i]], ub[common[i]]))
    else:
        ia, ib = _cycle(rng, len(A.units), cfg.pairs), _cycle(rng, len(B.units), cfg.pairs)
        pairs = [(A.units[i], B.units[j]) for i, j in zip(ia, ib)]
    trials: list[dict] = []
    for (ua_, ub_), a_left in zip(pairs, _balanced_bools(rng, len(pairs))):
        sa, sb = _side("A", "A", ua_), _side("B", "B", ub_)
        trials.append({"kind": "pair", "left": sa if a_left else sb, "right": sb if a_left else sa, "correct": None})
    # attention checks: a clip vs its frozen / corrupted copy
    pools = [("real", srcs["real"])] if "real" in srcs else [("A", A), ("B", B)]
    for k, good_left in zip(range(checks), _balanced_bools(rng, checks)):
        key, src = pools[k % len(pools)]
        unit = src.units[int(rng.integers(len(src.units)))]
        want = "corrupt" if k % 2 == 0 else "frozen"
        good = _side(key, key, unit)
        bad = _side(key, key, unit, transform=want)
        trials.append({"kind": "check", "left": good if good_left else bad, "right": bad if good_left else good,
                       "correct": "left" if good_left else "right"})
    for k in range(identical):
        key, src = ("A", A) if k % 2 == 0 else ("B", B)
        unit = src.units[int(rng.integers(len(src.units)))]
        s = _side(key, key, unit)
        trials.append({"kind": "identical", "left": s, "right": dict(s), "correct": None})
    order = rng.permutation(len(trials))
    out = []
    for pos, i in enumerate(order):
        t = dict(trials[int(i)])
        t["id"] = f"t{pos + 1:04d}"
        out.append(t)
    return out


def mean_frame_change(clip: np.ndarray) -> float:
    """Mean |x_{t+1} - x_t| of a uint8 clip [T,H,W,C], in [0,1] pixel units (0 for a single frame)."""
    if len(clip) < 2:
        return 0.0
    return float(np.abs(np.diff(clip.astype(np.float32) / 255.0, axis=0)).mean())


def freeze(clip: np.ndarray) -> np.ndarray:
    """The first frame held for the clip's length: [T,H,W,C] -> [T,H,W,C]."""
    return np.repeat(clip[:1], len(clip), axis=0)


def corrupt(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Visibly corrupted copy: uniform noise in [-96, 96] on every pixel and channel, fresh per frame."""
    noise = rng.integers(-96, 97, size=clip.shape)
    return np.clip(clip.astype(np.int16) + noise, 0, 255).astype(np.uint8)


class _Clips:
    """Decode clips on demand, keeping only the last few (a study can hold thousands of clips)."""

    def __init__(self, max_frames: int | None, keep: int = 32):
        self.max_frames = max_frames
        self.keep = keep
        self._cache: dict[str, np.ndarray] = {}

    def get(self, path: str) -> np.ndarray:
        if path not in self._cache:
            from vidbench.video import read_video

            v = read_video(path)
            if self.max_frames is not None:
                v = v[: self.max_frames]
            if len(self._cache) >= self.keep:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = v
        return self._cache[path]


def _study_id(cfg: StudyConfig, sources: dict, trials: list[dict]) -> str:
    blob = json.dumps({"config": asdict(cfg), "sources": sources, "trials": trials}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _page(cfg: StudyConfig, manifest: dict, out: Path) -> str:
    from vidbench.report import page_html, side_by_side_html, video_grid_html

    question = manifest["question"]
    n = cfg.grid
    tile = cfg.display_px if n == 1 else max(32, (cfg.display_px - 8) // n)
    templates = []
    for t in manifest["trials"]:
        grids = [video_grid_html([out / f for f in t[s]["files"]], columns=n, width=tile, embed=False,
                                 base_dir=out) for s in ("left", "right")]
        body = side_by_side_html([("Left  (\u2190 or 1)", grids[0]), ("Right  (\u2192 or 2)", grids[1])])
        templates.append(f'<template id="tpl-{t["id"]}">{body}</template>')
    data = {"study_id": manifest["study_id"], "result_schema": RESULT_SCHEMA,
            "order": [t["id"] for t in manifest["trials"]]}
    data_json = json.dumps(data).replace("</", "<\\/")
    q = html.escape(question)
    n_trials = len(manifest["trials"])
    what = "two sets of videos" if n == 3 else "two videos"
    body = f"""<style>{STUDY_CSS}</style>
<div class="vb-study">
<noscript><p class="vb-note">This study needs JavaScript.</p></noscript>
<section id="vb-intro">
<p class="vb-question">{q}</p>
<p>You will see {n_trials} pairs of {what}, one pair at a time. For each pair, choose the one that answers the
question better. Videos loop; watch as long as you need.</p>
<p class="vb-keys">Keys: <kbd>&larr;</kbd> or <kbd>1</kbd> = left, <kbd>&rarr;</kbd> or <kbd>2</kbd> = right.
Some pairs check attention; a few show the same video twice (pick either).</p>
<p><label>Your rater id (optional; letters, digits, _ -): <input id="vb-rater" maxlength="64"
autocomplete="off"></label> <span id="vb-rater-msg" class="vb-status"></span></p>
<p><button id="vb-start">Start (Enter)</button></p>
</section>
<section id="vb-trial" hidden>
<div class="vb-progress"><div id="vb-bar"></div></div>
<p id="vb-count" class="vb-count"></p>
<p class="vb-question">{q}</p>
<div id="vb-stage"></div>
<div class="vb-buttons"><button id="vb-left" disabled>&larr; Left (1)</button>
<button id="vb-right" disabled>Right (2) &rarr;</button></div>
<p id="vb-status" class="vb-status"></p>
</section>
<section id="vb-done" hidden>
<p class="vb-question">Done: <span id="vb-answered">0</span> answers recorded. Thank you!</p>
<p><button id="vb-download">Download results (JSON) &mdash; D</button>
<button id="vb-resubmit" hidden>Submit again</button></p>
<p id="vb-submit-status" class="vb-status"></p>
</section>
</div>
{''.join(templates)}
<script type="application/json" id="vb-study-data">{data_json}</script>
<script>{STUDY_JS}</script>"""
    return page_html("Video preference study", body,
                     subtitle=f"study {manifest['study_id']} &middot; {n_trials} pairs")


def build_study(cfg: StudyConfig, out: str | os.PathLike, *, progress: bool = True) -> Path:
    """Write the study site and manifest to ``out`` (a new or empty folder). Returns ``out``."""
    _validate(cfg)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise VidbenchError(f"{out} exists and is not empty; a study is never rebuilt in place (raters' results "
                            "refer to its trials): pass a new --out")
    srcs = {"A": load_source(cfg.a, grid=cfg.grid), "B": load_source(cfg.b, grid=cfg.grid)}
    if cfg.real:
        srcs["real"] = load_source(cfg.real, grid=cfg.grid)
    rng = np.random.default_rng(cfg.seed)
    trials = _plan_trials(cfg, srcs, rng)

    # decode, transform and write every distinct clip once, under shuffled anonymous names
    clips = _Clips(cfg.max_frames)
    units = {(k, u.uid): u for k, s in srcs.items() for u in s.units}
    for t in trials:  # a frozen check on a (near-)static clip would not be a fair check: corrupt it instead
        for s in ("left", "right"):
            side = t[s]
            if side["transform"] == "frozen":
                u = units[(side["source"], side["unit"])]
                change = float(np.mean([mean_frame_change(clips.get(p)) for p in u.paths]))
                side["motion"] = round(change, 5)
                if change < FROZEN_MIN_CHANGE:
                    side["transform"] = "corrupt"
                    side["note"] = f"clip too static for a frozen check (change {change:.4f} < {FROZEN_MIN_CHANGE})"
    ordered: dict[tuple[str, str, str], None] = {}  # (source, path, transform), first-use order
    for t in trials:
        for s in ("left", "right"):
            side = t[s]
            for p in units[(side["source"], side["unit"])].paths:
                ordered[(side["source"], p, side["transform"] or "")] = None
    keys = list(ordered)
    names = {k: f"videos/v{i + 1:04d}.mp4" for i, k in zip(rng.permutation(len(keys)), keys)}
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    from vidbench.video import write_video

    it = keys
    if progress:
        from tqdm import tqdm

        it = tqdm(keys, desc="study videos", unit="clip")
    corrupt_rng = np.random.default_rng([cfg.seed, 1])
    for k in it:
        source, path, transform = k
        v = clips.get(path)
        if transform == "frozen":
            v = freeze(v)
        elif transform == "corrupt":
            v = corrupt(v, corrupt_rng)
        write_video(out / names[k], v, fps=cfg.fps)
    for t in trials:
        for s in ("left", "right"):
            side = t[s]
            side["files"] = [names[(side["source"], p, side["transform"] or "")]
                             for p in units[(side["source"], side["unit"])].paths]

    src_desc = {k: describe(s) for k, s in srcs.items()}
    labels = {"A": cfg.label_a or srcs["A"].label, "B": cfg.label_b or srcs["B"].label}
    if labels["A"] == labels["B"]:
        labels = {"A": f"{labels['A']} (A)", "B": f"{labels['B']} (B)"}
    checks, identical = _resolved_counts(cfg)
    question = cfg.question or (DEFAULT_GRID_QUESTION if cfg.grid == 3 else DEFAULT_QUESTION)
    counts = {"pair": cfg.pairs, "check": checks, "identical": identical, "trials": len(trials),
              "videos": len(keys)}
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "study_id": _study_id(cfg, src_desc, trials),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": asdict(cfg),
        "question": question,
        "grid": cfg.grid,
        "labels": labels,
        "sources": src_desc,
        "counts": counts,
        "check_source": "real" if cfg.real else "A/B as given",
        "trials": trials,
    }
    try:
        from vidbench import __version__

        manifest["vidbench"] = __version__
    except ImportError:  # pragma: no cover
        pass
    atomic_write_json(out / "manifest.json", manifest)
    atomic_write_text(out / "index.html", _page(cfg, manifest, out))
    for p in [out / "index.html", out / "manifest.json", *(out / "videos").iterdir()]:
        os.chmod(p, 0o644)  # temp-file writes are 0600; a site is meant to be read by a web server or a colleague
    return out


def load_manifest(study_dir: str | os.PathLike) -> dict:
    """Read ``manifest.json`` of a study folder (or the file itself)."""
    p = Path(study_dir)
    path = p / "manifest.json" if p.is_dir() else p
    try:
        m = json.loads(path.read_text())
    except FileNotFoundError:
        raise VidbenchError(f"{p}: no manifest.json; pass a folder written by `vidbench study build`") from None
    except (OSError, json.JSONDecodeError) as e:
        raise VidbenchError(f"{path}: cannot read the study manifest ({e})") from None
    if not isinstance(m, dict) or m.get("schema") != MANIFEST_SCHEMA:
        raise VidbenchError(f"{path}: not a {MANIFEST_SCHEMA} manifest")
    return m

