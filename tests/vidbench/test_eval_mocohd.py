"""`vidbench eval` on a tiny MoCoGAN-HD checkpoint: the real-clip stride comes from the checkpoint's training config,
and `--task predict` pairs each prediction with its own clip (plus the UP-B row), checked against scikit-image."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from vidbench.metrics.base import Metric

from vidbench.cli import cli
from vidbench.records import metric_result
from vidbench.registry import METRICS, Entry

SEEN: dict[str, list] = {}


class _Dist(Metric):
    kind = "distribution"

    def __init__(self, name, options):
        super().__init__(name, {"num_frames": 4, "num_real": 3, "num_fake": 3}, options)
        SEEN[name] = []

    def reset(self):
        pass

    def update(self, videos, real):
        if real:
            SEEN[self.name] += [np.array(v) for v in videos]

    def compute(self):
        return metric_result(value=0.0, protocol=self.protocol, detector=None, weights_hash=None,
                             weights_verified=None, comparable=True, elapsed_s=0.0)


def _checkpoint(d, G_path, **cfg_kw):
    from vidbench.models.mocogan_hd import build_motion_generator, resolve_config, tiny_config
    from vidbench.models.mocogan_hd.trainer import CKPT_FORMAT

    cfg = resolve_config(tiny_config(n_pca=16, hidden_dim=16, num_frames=4, frame_size=32, **cfg_kw))
    torch.manual_seed(1)
    gm = build_motion_generator(cfg)
    path = d / f"ckpt_{cfg.frame_stride}.pt"
    torch.save({"format": CKPT_FORMAT, "config": dataclasses.asdict(cfg), "step": 0, "epoch": 0,
                "meta": {"image_generator": {"path": str(G_path)}}, "motion_generator": gm.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from vidbench.models.stylegan2 import Generator, tiny_config, to_rosinality_state_dict

    d = tmp_path_factory.mktemp("eval_mocohd")
    torch.manual_seed(0)
    G = Generator(tiny_config(size=32, channels=16, style_dim=64, n_mlp=2))
    torch.save({"g_ema": to_rosinality_state_dict(G)}, d / "g.pt")
    v = np.zeros((6, 20, 32, 32, 3), np.uint8)  # R = 8·frame: the stride is readable from the pixels
    for t in range(20):
        v[:, t, ..., 0] = 8 * t
    (d / "real").mkdir()
    np.save(d / "real" / "videos.npy", v)
    return {"dir": d, "G": d / "g.pt", "stride2": _checkpoint(d, d / "g.pt", frame_stride=2),
            "stride1": _checkpoint(d, d / "g.pt", frame_stride=1), "real": d / "real"}


def _eval(tmp_path, *args):
    runs = tmp_path / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    r = CliRunner().invoke(cli, ["eval", "--out", str(runs), "--json", *args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (new,) = set(runs.iterdir()) - before
    return json.loads(r.output), new


@pytest.mark.parametrize("stride", [2, 1])
def test_real_clip_stride_is_the_checkpoints_training_stride(files, tmp_path, monkeypatch, stride):
    monkeypatch.setitem(METRICS._entries, "t_dist", Entry("t_dist", _Dist, meta={"kind": "distribution"}))
    rec, run = _eval(tmp_path, "--model", "mocohd", "--checkpoint", str(files[f"stride{stride}"]), "--dataset",
                     f"folder:{files['real']}", "--metrics", "t_dist", "--frames", "4", "--resolution", "32",
                     "--batch-size", "2")
    assert rec["sampler"]["stride"] == stride and rec["real_clips"]["stride"] == stride
    assert "training config" in rec["sampler"]["stride_source"]
    assert rec["sampler"]["noise_mode"] == "video" and rec["sampler"]["uint8"].startswith("truncate")
    lines = [json.loads(x) for x in (run / "real_clips.jsonl").read_text().splitlines()]
    for x, v in zip(lines, SEEN["t_dist"]):
        assert x["stride"] == stride
        assert [int(f[0, 0, 0]) for f in v] == [8 * (x["start"] + stride * k) for k in range(4)]
    assert len(list((run / "samples").glob("*.mp4"))) == 3 and not (run / "work").exists()


def test_stride_override(files, tmp_path, monkeypatch):
    monkeypatch.setitem(METRICS._entries, "t_dist", Entry("t_dist", _Dist, meta={"kind": "distribution"}))
    rec, _ = _eval(tmp_path, "--model", "mocohd", "--checkpoint", str(files["stride2"]), "--dataset",
                   f"folder:{files['real']}", "--metrics", "t_dist", "--frames", "4", "--resolution", "32",
                   "--stride", "3")
    assert rec["real_clips"]["stride"] == 3 and rec["sampler"]["stride_source"] == "--stride"


def test_predict_pairs_each_clip_with_its_own_ground_truth(files, tmp_path):
    from vidbench.datasets import build_dataset
    from vidbench.datasets.clips import ClipRef, read_clip

    rec, run = _eval(tmp_path, "--model", "mocohd", "--checkpoint", str(files["stride1"]), "--dataset",
                     "moving_mnist", "--task", "predict", "--metrics", "psnr_ssim_rgb", "--frames", "5",
                     "--resolution", "32", "--num-videos", "3", "--batch-size", "2", "--invert-iterations", "3",
                     "--lambda-vgg", "0")
    assert rec["task"] == "predict" and rec["dataset"]["split"] == "test"
    main, upb = rec["metrics"]["psnr_ssim_rgb"], rec["metrics"]["psnr_ssim_rgb_upb"]
    assert main["n_fake"] == 3 and upb["n_fake"] == 3
    p = main["protocol"]["eval"]["predict"]
    assert p["inversion_iterations"] == 3 and p["lambda_vgg"] == 0 and p["vgg_weights_hash"] is None
    assert p["frames_scored"] == 5 and p["codes"] == 3 and p["interpolate"] == 1
    for m in (main, upb):
        assert not m["comparable"]
        assert "inversion 3 iterations (paper App. B: 20,000)" in m["comparable_reasons"]
        assert "N=3 < the split's 1000 videos (Tab. 3 scores every test clip)" in m["comparable_reasons"]
        assert any(r.startswith("lambda_vgg=0") for r in m["comparable_reasons"])
    # independent reference: scikit-image on (prediction i, clip i as listed in real_clips.jsonl)
    with np.load(run / "samples.npz") as z:
        pred = z["video"]
    assert pred.shape == (3, 5, 32, 32, 3)
    ds = build_dataset("moving_mnist", split="test", num_frames=5, size=32, seed=0, stride=1)
    refs = [ClipRef(**{k: r[k] for k in ("index", "video", "video_id", "start", "stride", "frames")})
            for r in map(json.loads, (run / "real_clips.jsonl").read_text().splitlines())]
    real = np.stack([read_clip(ds, r) for r in refs])
    psnr = np.mean([np.mean([peak_signal_noise_ratio(real[i, t], pred[i, t], data_range=255) for t in range(5)])
                    for i in range(3)])
    ssim0 = np.mean([structural_similarity(real[i, 0], pred[i, 0], data_range=255, channel_axis=-1,
                                           gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
                     for i in range(3)])
    assert main["value"] == pytest.approx(min(psnr, 100.0), rel=1e-9)
    assert upb["extra"]["values"]["ssim"] == pytest.approx(ssim0, rel=1e-9)
    rows = [json.loads(x) for x in (run / "per_video.jsonl").read_text().splitlines()]
    assert [r["id"].split("|")[1] for r in rows] == [r.video_id for r in refs]  # pairs name their clip
    for i, row in enumerate(rows):  # per-video rows are the prediction's (all 5 frames), not the UP-B frame
        ref = np.mean([min(peak_signal_noise_ratio(real[i, t], pred[i, t], data_range=255), 100.0) for t in range(5)])
        assert row["psnr_ssim_rgb.psnr"] == pytest.approx(ref, rel=1e-9)


def test_predict_frame0_is_the_inversion_reconstruction(files):
    """Frame 0 of the sampler's prediction is G(ẑ1) of the same inversion (what makes frame 0 the UP-B row)."""
    from vidbench.models.inversion import InversionConfig, invert
    from vidbench.models.mocogan_hd import load_sampler
    from vidbench.models.mocogan_hd.sampling import to_uint8_video

    s = load_sampler(str(files["stride1"]))
    first = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    out = s.predict(first, 5, seed=7, options={"iterations": 2, "lambda_vgg": 0})
    x = torch.from_numpy(first).permute(0, 3, 1, 2).float() / 127.5 - 1
    res = invert(s.model.image_generator, x, InversionConfig(iterations=2, lambda_vgg=0, seed=7, noise_mode="const"),
                 progress=False)
    np.testing.assert_array_equal(out[:, 0], to_uint8_video(res.image[:, None])[:, 0])
    assert out.shape == (2, 5, 32, 32, 3)
