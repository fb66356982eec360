"""`vidbench train motion` (incl. exact resume through the CLI) and `vidbench generate` end to end on tiny models."""

import csv
import json
import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidbench.cli import cli

TINY = ["n_pca=16", "hidden_dim=16", "num_frames=4", "frame_size=32", "d_ndf=4", "biggan_ch=4", "proj_dim=16",
        "bank_size=16", "batch_size=2", "ckpt_every=1", "sample_every=2", "log_every=1", "num_grid=4"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.stylegan2 import Generator, tiny_config, to_rosinality_state_dict

    d = tmp_path_factory.mktemp("mocohd_cli")
    torch.manual_seed(0)
    G = Generator(tiny_config(size=32, channels=16, style_dim=64, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, d / "g.pt")
    save_pca(d / "pca.npz", compute_w_pca(G, 4000, 1000, 64, progress=False))
    return d


def _train(files, out, *sets, resume=None):
    args = ["train", "motion", "--dataset", "moving_mnist", "--image-generator", str(files / "g.pt"),
            "--pca", str(files / "pca.npz"), "--out", str(out)]
    for s in TINY + list(sets):
        args += ["--set", s]
    if resume:
        args += ["--resume", str(resume)]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return re.findall(re.escape(str(out)) + r"/mocohd-moving_mnist-[0-9a-f-]+", res.output)[-1]


def _rows(run):
    with open(f"{run}/train_log.csv") as fh:
        return [{k: v for k, v in r.items() if k not in ("time_s", "iter_s")} for r in csv.DictReader(fh)]


RECIPE = ["recipe=released", "domain=cross", "g_steps_per_d=2"]


@pytest.fixture(scope="module")
def full_run(files, tmp_path_factory):
    return _train(files, tmp_path_factory.mktemp("full"), "total_steps=3", *RECIPE)


def test_train_records_recipe_and_resume_is_exact(files, full_run, tmp_path):
    part = _train(files, tmp_path / "b", "total_steps=2", *RECIPE)
    _train(files, tmp_path / "b", "total_steps=3", resume=part)
    assert _rows(part) == _rows(full_run)  # resume through the CLI continues exactly
    cfg = json.loads(open(f"{full_run}/config.json").read())
    assert cfg["recipe"] == "released" and cfg["config"]["gp_weight"] == 10.0 and cfg["config"]["latent_dim"] == 64
    rec = json.loads(open(f"{full_run}/result.json").read())
    assert rec["recipe"] == "released" and rec["model"] == "mocohd" and len(rec["checkpoint_hash"]) == 64


def _generate(run, out, *args):
    res = CliRunner().invoke(cli, ["generate", "--checkpoint", run, "--out", str(out), "--json", *args],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    return out, np.load(out["files"]["npz"])["video"]


def test_generate_interpolation_and_swaps(full_run, tmp_path):
    out, vids = _generate(full_run, tmp_path, "--num", "3", "--frames", "5", "--interpolate", "1")
    assert vids.shape == (3, 9, 32, 32, 3) and vids.dtype == np.uint8  # 5 codes, 1 midpoint each -> 2·5-1
    assert len(out["files"]["samples"]) == 3 and out["recipe"] == "released"
    assert all(out["files"][k].endswith(("grid.gif", "grid.png")) for k in ("grid_gif", "grid_png"))
    _, v = _generate(full_run, tmp_path, "--num", "3", "--frames", "4", "--swap", "content", "--no-noise")
    assert np.array_equal(v[0, 0], v[1, 0]) and np.array_equal(v[0, 0], v[2, 0])  # same content code z1
    _, v = _generate(full_run, tmp_path, "--num", "3", "--frames", "4", "--swap", "motion", "--no-noise")
    assert not np.array_equal(v[0, 0], v[1, 0])  # different content codes


def test_cli_errors_exit_2(files, tmp_path):
    res = CliRunner().invoke(cli, ["train", "motion", "--dataset", "moving_mnist", "--image-generator",
                                   str(files / "g.pt"), "--pca", str(files / "pca.npz"), "--set", "lamda=1"])
    assert res.exit_code == 2 and "unknown config key" in res.output
    res = CliRunner().invoke(cli, ["train", "motion", "--dataset", "moving_mnist", "--image-generator",
                                   str(files / "g.pt"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--pca" in res.output
    res = CliRunner().invoke(cli, ["generate", "--checkpoint", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "not found" in res.output


def test_generate_predict_from_a_frame(full_run, files, tmp_path):
    from PIL import Image
    from vidbench.models.stylegan2 import load_rosinality_checkpoint

    from vidbench.video import write_video

    G, _ = load_rosinality_checkpoint(files / "g.pt")
    with torch.no_grad():
        img = G.synthesis(G.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(4))), noise_mode="none")
    frame = ((img[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(frame).save(tmp_path / "x1.png")
    out, v = _generate(full_run, tmp_path, "--num", "2", "--frames", "4", "--interpolate", "1", "--predict",
                       str(tmp_path / "x1.png"), "--invert-iterations", "300", "--lambda-vgg", "0", "--no-noise")
    assert v.shape == (2, 7, 32, 32, 3)
    assert np.array_equal(v[0, 0], v[1, 0])  # both predictions start at G_I(ẑ1)
    m = out["metrics"]
    # independent check of UP-B: PSNR between the input frame and the first predicted frame, by hand
    mse = np.mean((v[0, 0].astype(np.float64) - frame.astype(np.float64)) ** 2)
    assert m["upb_psnr"]["value"] == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=0.5)
    assert m["upb_psnr"]["value"] > 15 and 0 < m["upb_ssim"]["value"] <= 1
    write_video(tmp_path / "clip.mp4", np.repeat(frame[None], 6, 0), fps=10)
    out, _ = _generate(full_run, tmp_path, "--num", "1", "--frames", "3", "--predict", str(tmp_path / "clip.mp4"),
                       "--invert-iterations", "20", "--lambda-vgg", "0")
    assert {"upb_psnr", "upb_ssim", "pred_psnr", "pred_ssim"} <= set(out["metrics"])
