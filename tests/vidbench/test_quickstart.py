"""`vidbench quickstart`: the smoke run (default suite) and the full run with the real weights (slow, weights)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.errors import VidbenchError
from vidbench.quickstart import gif_grid, learning_signal, static_videos
from vidbench.records import read_result
from vidbench.video import read_video


def test_static_baseline_repeats_each_first_frame():
    v = np.arange(2 * 3 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 3, 2, 2, 3)
    s = static_videos(v)
    assert s.shape == v.shape
    for i in range(2):
        for t in range(3):
            assert np.array_equal(s[i, t], v[i, 0])


def test_gif_grid_places_real_left_and_generated_right():
    real = np.full((2, 4, 8, 8, 3), 10, np.uint8)
    fake = np.full((2, 4, 8, 8, 3), 200, np.uint8)
    g = gif_grid(real, fake, cols=2, scale=2, gap=2)
    # one block: 2 tiles of 16 px + 3 gaps of 2 px = 38 px wide, 1 row -> 16 + 2 * 2 = 20 px high; bar = 8 px
    assert g.shape == (4, 20, 38 + 8 + 38, 3)
    assert (g[:, 2:18, 2:18] == 10).all() and (g[:, 2:18, 46 + 2:46 + 18] == 200).all()
    assert (g[:, :, 38:46] == 255).all()


def test_learning_signal_margin_and_spread():
    s = learning_signal({"value": 100.0, "std": 3.0}, {"value": 120.0, "std": 4.0})
    assert s == {"margin": 20.0, "spread": 7.0, "holds": True}
    assert not learning_signal({"value": 100.0, "std": 3.0}, {"value": 105.0, "std": 4.0})["holds"]


def test_quickstart_cli_maps_exact_and_threads_onto_the_budget(monkeypatch):
    import vidbench.quickstart as qs

    seen = []
    monkeypatch.setattr(qs, "run_quickstart", lambda out, **kw: seen.append(kw["budget"]) or {})
    assert CliRunner().invoke(cli, ["quickstart", "--json"]).exit_code == 0
    assert CliRunner().invoke(cli, ["quickstart", "--exact", "--threads", "1", "--json"]).exit_code == 0
    assert CliRunner().invoke(cli, ["quickstart", "--train-image-generator", "--json"]).exit_code == 0
    assert seen[0] == qs.FULL and seen[0].eval_fast is True and seen[0].image_generator == "shipped"
    assert seen[1].eval_fast is False and {seen[1].image_threads, seen[1].train_threads, seen[1].eval_threads} == {1}
    assert seen[2].image_generator == "train" and seen[2].image_iters == qs.FULL.image_iters


def test_shipped_image_generator_is_verified_and_loads(tmp_path):
    from vidbench.quickstart import SHIPPED_GENERATOR, SMOKE, _image_generator_stage
    from vidbench.weights import resolve_weights, sha256_file

    r = resolve_weights(SHIPPED_GENERATOR)
    assert r.verified == "sha256" and r.sha256 == sha256_file(r.path) == r.spec.sha256
    assert r.path.stat().st_size == r.spec.size
    img = _image_generator_stage(SMOKE, tmp_path / "g", seed=3, smoke=True, quiet=True, progress=False)
    assert img.checkpoint == r.path and img.info["source"] == "shipped" and img.info["sha256"] == r.sha256
    assert img.G.size == 32 and not any(p.requires_grad for p in img.G.parameters())
    prov = img.info["provenance"]  # how it was made, inside the file itself
    assert 0 < prov["step"] == img.info["steps"] <= prov["run_config"]["iters"]  # a checkpoint of that run
    assert prov["run_config"]["dataset"] == "moving_mnist" and prov["train_wall_s"] > 0
    assert img.samples_png.exists()
    pool = img.frame_pool  # moving_mnist training frames for the FID's real side
    assert pool.dtype == torch.uint8 and pool.shape[1:] == (32, 32, 3) and len(pool) == 32 * 16


def test_train_image_generator_recipe_is_the_shipped_generators():
    """`--train-image-generator` trains with the recipe the shipped generator's provenance records (up to its step)."""
    import torch

    from vidbench.quickstart import FULL, SHIPPED_GENERATOR
    from vidbench.weights import resolve_weights

    prov = torch.load(resolve_weights(SHIPPED_GENERATOR).path, map_location="cpu", weights_only=True)["provenance"]
    rc = prov["run_config"]
    assert FULL.image_iters == prov["step"]
    assert (FULL.image_batch, FULL.image_r1, FULL.image_lr, FULL.image_augment, FULL.image_ema_kimg,
            FULL.image_pool_clips) == (rc["batch"], rc["r1"], rc["lr"], rc["augment"], rc["ema_half_life_kimg"],
                                       rc["pool_clips"])
    assert (rc["size"], rc["channel_max"], rc["style_dim"], rc["seed"]) == (32, 32, 128, 0)


def test_image_generator_stage_trains_one_when_asked(tmp_path):
    import dataclasses

    from vidbench.quickstart import SMOKE, _image_generator_stage

    b = dataclasses.replace(SMOKE, image_generator="train", image_iters=2)
    img = _image_generator_stage(b, tmp_path / "g", seed=0, smoke=True, quiet=True, progress=False)
    assert img.info["source"] == "trained" and img.info["steps"] == 2 and img.checkpoint.exists()
    assert set(img.info["final_losses"]) == {"d_loss", "g_loss"} and img.samples_png.exists()
    with pytest.raises(VidbenchError, match="'shipped' or 'train'"):
        _image_generator_stage(dataclasses.replace(SMOKE, image_generator="pretrained"), tmp_path / "h", seed=0,
                               smoke=True, quiet=True, progress=False)


@pytest.mark.timeout(300)  # < 60 s on an idle 2-core machine; headroom for a loaded CI runner
def test_quickstart_smoke_runs_the_whole_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_OFFLINE", "1")  # --smoke never fetches; make sure of it
    r = CliRunner().invoke(cli, ["quickstart", "--smoke", "--out", str(tmp_path), "--json", "--threads", "1"])
    assert r.exit_code == 0, r.output
    s = json.loads(getattr(r, "stdout", r.output))
    recs = {k: read_result(v) for k, v in s["eval"]["runs"].items()}
    assert set(recs) == {"trained", "step0", "static", "real_floor"}
    fvd = {k: next(m for n, m in rec["metrics"].items() if n.startswith("fvd")) for k, rec in recs.items()}
    names = {next(n for n in rec["metrics"] if n.startswith("fvd")) for rec in recs.values()}
    assert names == {"fvd6_16f[random-init]"}  # one protocol name for the four sets, random-init labelled
    from vidbench.metrics.fvd import cpu_bf16_support

    # fast mode (bf16 I3D trunk) where the CPU has AVX512-BF16/AMX, fp32 elsewhere; the same for all four sets
    want = "bf16_trunk" if cpu_bf16_support()[0] else "fp32"
    assert {m["protocol"]["precision"] for m in fvd.values()} == {want}
    # trained, step 0 and static share one protocol id; the floor draws two disjoint real sets (eval --gt), so its
    # real-clip rule, and with it its protocol id, differs (the summary says so)
    assert len({fvd[k]["protocol_id"] for k in ("trained", "step0", "static")}) == 1
    assert fvd["real_floor"]["protocol_id"] != fvd["trained"]["protocol_id"]
    for m in fvd.values():
        assert m["comparable"] is False and any("random" in x for x in m["comparable_reasons"])
        assert m["value"] >= 0 and m["std"] is not None
    assert len({rec.get("label") for rec in recs.values()}) == 4
    # the static baseline is the trained model's first frames, repeated
    with np.load(Path(s["eval"]["runs"]["trained"]) / "samples.npz") as z:
        trained = z["video"]
    with np.load(Path(s["root"]) / "baselines" / "static.npz") as z:
        static = z["video"]
    assert static.shape == trained.shape == (6, 16, 32, 32, 3)
    assert all(np.array_equal(static[i, t], trained[i, 0]) for i in range(6) for t in range(16))
    # the learning-signal arithmetic agrees with the records
    sig = s["eval"]["learning_signal"]["step0"]
    assert sig["margin"] == pytest.approx(fvd["step0"]["value"] - fvd["trained"]["value"])
    assert sig["spread"] == pytest.approx(fvd["step0"]["std"] + fvd["trained"]["std"])
    # the image generator's FID is its own record (random-init Inception offline)
    fid = read_result(s["eval"]["fid"]["run"])
    assert list(fid["metrics"]) == ["fid8[random-init]"] and fid["task"] == "score"
    # something to look at
    assert Path(s["report"]).stat().st_size > 10_000 and "<video" in Path(s["report"]).read_text()
    gif = read_video(s["gif_grid"])
    assert gif.shape[0] == 16 and gif.shape[2] > 2 * gif.shape[1]
    assert "quickstart: trained" in s["table"] and "fvd6_16f" in s["table"]
    assert any("vidbench weights fetch i3d" in line for line in s["summary_lines"])
    assert set(s["timings"]) >= {"image_generator", "pca", "motion_generator", "eval", "report", "total"}
    assert s["image_generator"]["source"] == "shipped" and s["image_generator"]["sha256"]
    # the motion checkpoints name the exact image generator they were trained with
    ck = torch.load(s["motion_generator"]["step0_checkpoint"], map_location="cpu", weights_only=True)
    assert ck["meta"]["image_generator"]["sha256"] == s["image_generator"]["sha256"]
    assert ck["meta"]["image_generator"]["weights"] == "stylegan2.moving_mnist32_tiny"


@pytest.mark.slow
@pytest.mark.weights
@pytest.mark.timeout(3600)
def test_quickstart_full_run_learns_motion(tmp_path, real_weights):
    from vidbench.quickstart import run_quickstart

    s = run_quickstart(tmp_path, quiet=True)
    assert all(s["eval"]["real_weights"].values()), s["eval"]["real_weights"]
    fvd = s["eval"]["fvd"]
    assert not s["eval"]["fvd_name"].endswith("[random-init]")
    # the learning signal: the trained model beats its step-0 self and the static baseline by more than the
    # bootstrap spread, and the real-vs-real floor is below all of them
    for other in ("step0", "static"):
        sig = s["eval"]["learning_signal"][other]
        assert sig["holds"], (other, sig, fvd)
        assert fvd[other]["value"] - fvd["trained"]["value"] > fvd[other]["std"] + fvd["trained"]["std"]
    assert fvd["real_floor"]["value"] < fvd["trained"]["value"]
    for p in (s["report"], s["gif_grid"], s["image_generator"]["samples_png"], s["pca"]["plot"]):
        assert Path(p).exists()
    assert np.isfinite(s["eval"]["fid"]["value"])


def test_records_table_lists_every_record_when_the_export_fails(tmp_path, monkeypatch):
    import vidbench.tables
    from vidbench.quickstart import _records_table
    from vidbench.records import metric_result, new_record, write_result

    m = metric_result(value=12.5, protocol={"num_fake": 4}, detector=None, weights_hash=None, weights_verified=None,
                      comparable=False, elapsed_s=0.0, n_real=4, n_fake=4, std=1.25)
    run = tmp_path / "eval" / "run1"
    run.mkdir(parents=True)
    write_result(run, new_record(model="gt", dataset={"name": "moving_mnist", "split": "test", "fingerprint": None}, seed=0, metrics={"fvd4_16f": m},
                                 label="floor"))
    assert "floor" in _records_table(tmp_path, include_uncomparable=True)[0]  # the leaderboard export

    def broken(*a, **k):
        raise RuntimeError("no table today\nsecond line")

    monkeypatch.setattr(vidbench.tables, "export_leaderboard", broken)
    text, note = _records_table(tmp_path, include_uncomparable=True)
    assert note == " [leaderboard export failed: no table today; own summary below]"
    assert "| run1 | floor | fvd4_16f | 12.5 | 1.25 | no |" in text.splitlines()
