"""`vidbench eval` protocol: real clips by a seeded rule, stride, resolution, exact N per metric, paired refusal, GT
rows, record fields, streaming samples.npz.

The real videos are a lossless collection whose pixels encode (video, frame): R = 8·frame, G = 10·video, so every
check below is against values computed by hand from the rule, not from the code under test.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from vidbench.metrics.base import Metric

from vidbench.cli import cli
from vidbench.records import metric_result, read_result
from vidbench.registry import METRICS, Entry

SEEN: dict[str, dict] = {}


class _Dist(Metric):
    """Distribution metric recording every video it receives (value: |mean fake - mean real|)."""

    kind = "distribution"
    proto = {"num_frames": 4, "num_real": 5, "num_fake": 5}

    def __init__(self, name, options):
        super().__init__(name, dict(self.proto), options)
        self.reset()

    def reset(self):
        SEEN[self.name] = {"real": [], "fake": [], "options": self.options}

    def update(self, videos, real):
        SEEN[self.name]["real" if real else "fake"] += [np.array(v) for v in videos]
        SEEN[self.name]["options"] = self.options

    def compute(self):
        s = SEEN[self.name]
        value = abs(float(np.mean([v.mean() for v in s["fake"]])) - float(np.mean([v.mean() for v in s["real"]])))
        return metric_result(value=value, protocol=self.protocol, detector=None, weights_hash=None,
                             weights_verified=None, comparable=True, elapsed_s=0.0, n_real=len(s["real"]),
                             n_fake=len(s["fake"]))


class _Sample(Metric):
    kind = "sample"

    def __init__(self, name, options):
        super().__init__(name, {"num_frames": 4, "num_videos": 3}, options)
        self.reset()

    def reset(self):
        SEEN[self.name] = {"fake": []}

    def update(self, videos):
        SEEN[self.name]["fake"] += [np.array(v) for v in videos]

    def compute(self):
        vals = [float(v.mean()) for v in SEEN[self.name]["fake"]]
        return metric_result(value=float(np.mean(vals)), protocol=self.protocol, detector=None, weights_hash=None,
                             weights_verified=None, comparable=True, elapsed_s=0.0, n_fake=len(vals),
                             extra={"per_video": {"mean": vals}})


@pytest.fixture
def metrics(monkeypatch):
    monkeypatch.setitem(METRICS._entries, "t_dist", Entry("t_dist", _Dist, meta={"kind": "distribution"}))
    monkeypatch.setitem(METRICS._entries, "t_sample", Entry("t_sample", _Sample, meta={"kind": "sample"}))
    SEEN.clear()
    return SEEN


def _real_set(root, n_videos=12, n_frames=20, size=16):
    """[N,T,S,S,3] collection: R = 8·frame, G = 10·video, B = 0 (lossless .npy)."""
    v = np.zeros((n_videos, n_frames, size, size, 3), np.uint8)
    for i in range(n_videos):
        for t in range(n_frames):
            v[i, t, ..., 0] = 8 * t
            v[i, t, ..., 1] = 10 * i
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "videos.npy", v)
    return root


def _export(path, n=8, frames=6, size=16, value=None):
    vids = np.stack([np.full((frames, size, size, 3), value if value is not None else 20 * (i + 1), np.uint8)
                     for i in range(n)])
    np.savez(path, video=vids)
    return path


def _eval(tmp_path, *args, ok=True):
    runs = tmp_path / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    r = CliRunner().invoke(cli, ["eval", "--out", str(runs), "--json", *args])
    if ok:
        assert r.exit_code == 0, r.output
        (new,) = set(runs.iterdir()) - before
        return json.loads(r.output), new
    return r


def test_paired_metric_refused_in_unconditional_eval(tmp_path):
    exp = _export(tmp_path / "e.npz")
    r = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", "moving_mnist", "--metrics", "psnr_ssim_rgb",
              "--frames", "4", "--resolution", "16", ok=False)
    assert r.exit_code == 2
    assert "--task predict" in r.output and len(r.output.strip().splitlines()) == 1


def test_fast_flag_reaches_the_metric_options(tmp_path, metrics):
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    common = ("--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist", "--frames", "4",
              "--resolution", "16")
    _eval(tmp_path, *common)
    assert metrics["t_dist"]["options"].fast is False  # exact by default
    _eval(tmp_path, *common, "--fast")
    assert metrics["t_dist"]["options"].fast is True


def test_real_clips_seeded_over_whole_split_with_random_starts(tmp_path, metrics):
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    rec, run = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
                     "--frames", "4", "--resolution", "16", "--seed", "3")
    lines = [json.loads(x) for x in (run / "real_clips.jsonl").read_text().splitlines()]
    assert len(lines) == 5 and [x["index"] for x in lines] == list(range(5))
    vids = [x["video"] for x in lines]
    assert len(set(vids)) == 5  # videos without replacement
    assert vids != [0, 1, 2, 3, 4]  # not the first N in sorted order
    assert all(x["stride"] == 1 and x["frames"] == 4 for x in lines)  # samples: -> consecutive frames
    assert all(0 <= x["start"] <= 20 - 4 for x in lines) and len({x["start"] for x in lines}) > 1
    # the metric saw exactly the listed clips: R = 8·(start + k·stride), G = 10·video
    for x, v in zip(lines, metrics["t_dist"]["real"]):
        assert v.shape == (4, 16, 16, 3)
        assert [int(f[0, 0, 0]) for f in v] == [8 * (x["start"] + k) for k in range(4)]
        assert int(v[0, 0, 0, 1]) == 10 * x["video"]
    rc = rec["real_clips"]
    assert rc["file"] == "real_clips.jsonl" and rc["seed"] == 3 and rc["stride"] == 1 and rc["num_clips"] == 5
    assert "without replacement" in rc["rule"]
    # the rule enters the metric protocol (and so its id), and the metric options carry it for the stats cache
    assert rec["metrics"]["t_dist"]["protocol"]["eval"]["real_clips"]["stride"] == 1
    assert metrics["t_dist"]["options"].real_clips["n"] == 5
    # another seed draws another set
    metrics.clear()
    rec2, run2 = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
                       "--frames", "4", "--resolution", "16", "--seed", "4")
    lines2 = [json.loads(x) for x in (run2 / "real_clips.jsonl").read_text().splitlines()]
    assert [(x["video"], x["start"]) for x in lines2] != [(x["video"], x["start"]) for x in lines]


def test_more_clips_than_videos_cycles_through_permutations(tmp_path, metrics, monkeypatch):
    monkeypatch.setattr(_Dist, "proto", {"num_frames": 4, "num_real": 7, "num_fake": 7})
    real = _real_set(tmp_path / "real", n_videos=3)
    exp = _export(tmp_path / "e.npz", n=7)
    _, run = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
                   "--frames", "4", "--resolution", "16")
    vids = [json.loads(x)["video"] for x in (run / "real_clips.jsonl").read_text().splitlines()]
    assert sorted(vids[:3]) == [0, 1, 2] and sorted(vids[3:6]) == [0, 1, 2] and len(vids) == 7


def test_each_metric_gets_exactly_its_protocol_n(tmp_path, metrics):
    real = _real_set(tmp_path / "real", size=128)
    exp = _export(tmp_path / "e.npz", n=8, size=128)
    args = ["--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist,t_sample",
            "--frames", "4"]
    rec, _ = _eval(tmp_path, *args)
    assert len(metrics["t_dist"]["fake"]) == 5 and len(metrics["t_dist"]["real"]) == 5
    assert len(metrics["t_sample"]["fake"]) == 3  # not the 5 the other metric needed
    assert rec["metrics"]["t_dist"]["comparable"] and rec["metrics"]["t_sample"]["comparable"]
    # a larger --num-videos never gives a metric more than its protocol's N
    metrics.clear()
    rec, _ = _eval(tmp_path, *args, "--num-videos", "8")
    assert len(metrics["t_dist"]["fake"]) == 5 and len(metrics["t_sample"]["fake"]) == 3
    # fewer -> not comparable, with the reason
    metrics.clear()
    rec, _ = _eval(tmp_path, *args, "--num-videos", "2")
    assert len(metrics["t_dist"]["fake"]) == 2 and len(metrics["t_dist"]["real"]) == 2
    m = rec["metrics"]["t_dist"]
    assert not m["comparable"] and "N=2 < protocol N=5 (generated videos)" in m["comparable_reasons"]
    assert not rec["metrics"]["t_sample"]["comparable"]


def test_short_export_is_capped_and_not_comparable(tmp_path, metrics):
    real = _real_set(tmp_path / "real", size=128)
    exp = _export(tmp_path / "e.npz", n=4, size=128)
    rec, _ = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
                   "--frames", "4")
    assert len(metrics["t_dist"]["fake"]) == 4 and len(metrics["t_dist"]["real"]) == 5
    assert any("only 4 exported" in r for r in rec["metrics"]["t_dist"]["comparable_reasons"])


def test_generated_frames_resized_to_the_evaluation_size(tmp_path, metrics):
    real = _real_set(tmp_path / "real", size=16)
    # 32² export whose 2×2 blocks hold 0,10,20,30 -> area average 15 everywhere at 16²
    tile = np.array([[0, 10], [20, 30]], np.uint8)
    frame = np.tile(tile, (16, 16))[..., None].repeat(3, -1)
    vids = np.broadcast_to(frame, (5, 6, 32, 32, 3)).copy()
    np.savez(tmp_path / "big.npz", video=vids)
    rec, _ = _eval(tmp_path, "--model", f"samples:{tmp_path / 'big.npz'}", "--dataset", f"folder:{real}",
                   "--metrics", "t_dist", "--frames", "4", "--resolution", "16")
    fake = metrics["t_dist"]["fake"]
    assert all(v.shape == (4, 16, 16, 3) for v in fake) and all(np.all(v == 15) for v in fake)
    assert rec["metrics"]["t_dist"]["protocol"]["eval"]["fake_resize"] == {
        "size": [16, 16], "method": "cv2.INTER_AREA", "source": "real set size"}
    assert "evaluation size 16² != the paper's 128²" in rec["metrics"]["t_dist"]["comparable_reasons"]
    # a generator smaller than the evaluation size: upsampled, and said so
    metrics.clear()
    real64 = _real_set(tmp_path / "real64", size=64)
    rec, _ = _eval(tmp_path, "--model", f"samples:{tmp_path / 'big.npz'}", "--dataset", f"folder:{real64}",
                   "--metrics", "t_dist", "--frames", "4", "--resolution", "64")
    assert metrics["t_dist"]["fake"][0].shape == (4, 64, 64, 3)
    assert "generated at 32² < evaluation size 64²: upsampled" in rec["metrics"]["t_dist"]["comparable_reasons"]


def test_record_fields_label_task_sampler(tmp_path, metrics):
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    rec, run = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
                     "--frames", "4", "--resolution", "16", "--label", "my row")
    assert rec["schema"] == "vidbench.run_record.v2"
    assert rec["task"] == "unconditional" and rec["label"] == "my row"
    assert rec["sampler"]["model"] == "samples" and rec["sampler"]["stride"] == 1
    assert rec["sampler"]["uint8"] == "as exported"
    assert read_result(run)["real_clips"]["rule"].startswith("videos_without_replacement_random_start")


def test_gt_rows_real_vs_real_on_disjoint_sets(tmp_path, metrics):
    real = _real_set(tmp_path / "real", n_videos=12)
    rec, run = _eval(tmp_path, "--gt", "--dataset", f"folder:{real}", "--metrics", "t_dist,t_sample",
                     "--frames", "4", "--resolution", "16", "--stride", "2")
    lines = [json.loads(x) for x in (run / "real_clips.jsonl").read_text().splitlines()]
    a = [x for x in lines if x["set"] == "A"]
    b = [x for x in lines if x["set"] == "B"]
    assert len(a) == 5 and len(b) == 5  # the same N on both sides
    assert not {x["video"] for x in a} & {x["video"] for x in b}  # disjoint videos
    seen = metrics["t_dist"]
    assert [int(v[0, 0, 0, 1]) for v in seen["real"]] == [10 * x["video"] for x in a]
    assert [int(v[0, 0, 0, 1]) for v in seen["fake"]] == [10 * x["video"] for x in b]
    assert [int(f[0, 0, 0]) for f in seen["real"][0]] == [8 * (a[0]["start"] + 2 * k) for k in range(4)]
    # the sample metric (ACD's GT row) scores the first 3 real clips of set A
    assert [int(v[0, 0, 0, 1]) for v in metrics["t_sample"]["fake"]] == [10 * x["video"] for x in a[:3]]
    assert rec["model"] == "gt" and rec["label"] == "GT" and rec["sampler"] is None
    assert rec["metrics"]["t_dist"]["protocol"]["eval"]["task"] == "gt"


def test_gt_requires_no_model_but_eval_does(tmp_path):
    r = _eval(tmp_path, "--dataset", "moving_mnist", ok=False)
    assert r.exit_code == 2 and "--model is required" in r.output


def test_default_metric_sets_follow_the_paper():
    from vidbench.evaluate import DEFAULT_METRICS

    # paper §4.1: UCF-101 IS (10,000 videos) + FVD; FaceForensics FVD + ACD; Sky FVD, and PSNR/SSIM for prediction
    assert set(DEFAULT_METRICS[("ucf101", "unconditional")]) == {"is10k_c3d", "fvd2048_16f"}
    assert set(DEFAULT_METRICS[("faceforensics", "unconditional")]) == {"fvd2048_16f", "acd256_facenet"}
    assert DEFAULT_METRICS[("sky_timelapse", "unconditional")] == ("fvd2048_16f",)
    assert DEFAULT_METRICS[("sky_timelapse", "predict")] == ("psnr_ssim_rgb",)


def test_samples_npz_streamed_equals_the_batches(tmp_path):
    from vidbench.evaluate import write_npz_streaming

    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 256, (n, 3, 4, 4, 3), dtype=np.uint8) for n in (2, 2, 1)]
    files = []
    for i, p in enumerate(parts):
        np.save(tmp_path / f"b{i}.npy", p)
        files.append(tmp_path / f"b{i}.npy")
    write_npz_streaming(tmp_path / "s.npz", files)
    with np.load(tmp_path / "s.npz") as z:
        np.testing.assert_array_equal(z["video"], np.concatenate(parts))


def test_each_metric_gets_generated_frames_by_its_own_resize_rule(tmp_path, metrics, monkeypatch):
    """A protocol with its own pre_resize (as is10k_c3d) gets frames at that size; the others at the real size."""

    class _Pre(_Sample):
        def __init__(self, name, options):
            Metric.__init__(self, name, {"num_frames": 4, "num_videos": 3, "pre_resize": 8,
                                         "pre_resize_interp": "cv2.INTER_AREA"}, options)
            self.reset()

    monkeypatch.setitem(METRICS._entries, "t_pre", Entry("t_pre", _Pre, meta={"kind": "sample"}))
    real = _real_set(tmp_path / "real", size=16)
    tile = np.array([[0, 10], [20, 30]], np.uint8)  # 2×2 and 4×4 block means are both 15
    vids = np.broadcast_to(np.tile(tile, (16, 16))[..., None].repeat(3, -1), (5, 6, 32, 32, 3)).copy()
    np.savez(tmp_path / "big.npz", video=vids)
    rec, run = _eval(tmp_path, "--model", f"samples:{tmp_path / 'big.npz'}", "--dataset", f"folder:{real}",
                     "--metrics", "t_dist,t_pre", "--frames", "4", "--resolution", "16")
    assert all(v.shape == (4, 16, 16, 3) and np.all(v == 15) for v in metrics["t_dist"]["fake"])
    assert all(v.shape == (4, 8, 8, 3) and np.all(v == 15) for v in metrics["t_pre"]["fake"])
    assert rec["metrics"]["t_pre"]["protocol"]["eval"]["fake_resize"]["source"] == "protocol pre_resize"
    with np.load(run / "samples.npz") as z:  # the run's samples are at the evaluation size
        assert z["video"].shape == (5, 4, 16, 16, 3)


def test_eta_above_one_hour_needs_yes(tmp_path, metrics, monkeypatch):
    import vidbench.evaluate as ev

    class _Clock:  # every perf_counter() call advances 2 h: the timed first batch "took" 2 h
        t = 0.0

        @classmethod
        def perf_counter(cls):
            cls.t += 7200.0
            return cls.t

    monkeypatch.setattr(ev, "time", _Clock)
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    args = ["--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist", "--frames", "4",
            "--resolution", "16"]
    r = _eval(tmp_path, *args, ok=False)
    assert r.exit_code == 2 and "pass --yes" in r.output and not (tmp_path / "runs").exists()
    rec, _ = _eval(tmp_path, *args, "--yes")
    assert rec["metrics"]["t_dist"]["n_fake"] == 5


def test_samples_shorter_than_the_protocol_frames_are_refused(tmp_path, metrics):
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz", frames=3)
    r = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist",
              "--resolution", "16", ok=False)
    assert r.exit_code == 2 and "has 3 frames, the evaluation needs 4" in r.output


def test_no_resume_files_writes_no_batch_files_and_gives_the_same_result(tmp_path, metrics, monkeypatch):
    import vidbench.evaluate as ev

    saved = []
    real_save = ev._save_npy
    monkeypatch.setattr(ev, "_save_npy", lambda p, a: (saved.append(p.name), real_save(p, a)))
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    args = ["--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist", "--frames", "4",
            "--resolution", "16", "--batch-size", "2"]
    rec_a, run_a = _eval(tmp_path, *args)
    assert saved == [f"fake_{b:06d}_0.npy" for b in range(3)]  # 5 videos in batches of 2
    saved.clear()
    rec_b, run_b = _eval(tmp_path / "b", *args, "--no-resume-files", "--no-save-npz")
    assert saved == [] and not (run_b / "samples.npz").exists()
    assert rec_b["metrics"]["t_dist"]["value"] == rec_a["metrics"]["t_dist"]["value"]
    assert len(list((run_b / "samples").glob("*.mp4"))) == 5


def test_predict_needs_a_sampler_with_predict_and_paired_metrics(tmp_path):
    exp = _export(tmp_path / "e.npz")
    r = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", "moving_mnist", "--task", "predict",
              "--resolution", "16", ok=False)
    assert r.exit_code == 2 and "cannot run --task predict" in r.output
    r = _eval(tmp_path, "--model", f"samples:{exp}", "--dataset", "moving_mnist", "--task", "predict",
              "--metrics", "fvd2048_16f", ok=False)
    assert r.exit_code == 2 and "--task predict scores paired metrics" in r.output


def test_samples_npz_only_when_small_or_asked(tmp_path, metrics, monkeypatch):
    import vidbench.evaluate as ev

    monkeypatch.setattr(ev, "NPZ_AUTO_BYTES", 5 * 4 * 16 * 16 * 3 - 1)  # one byte below this run's 5 videos
    real = _real_set(tmp_path / "real")
    exp = _export(tmp_path / "e.npz")
    args = ["--model", f"samples:{exp}", "--dataset", f"folder:{real}", "--metrics", "t_dist", "--frames", "4",
            "--resolution", "16"]
    _, run = _eval(tmp_path, *args)
    assert not (run / "samples.npz").exists() and len(list((run / "samples").glob("*.mp4"))) == 5
    _, run = _eval(tmp_path, *args, "--save-npz")
    with np.load(run / "samples.npz") as z:
        assert z["video"].shape == (5, 4, 16, 16, 3)


def test_gt_caches_both_real_sets(tmp_path, monkeypatch):
    """`eval --gt` with FVD: a second run reads set A's and set B's statistics from the cache (nothing decoded, no
    I3D pass) and gives the same, non-zero value; set B's entry never stands in for set A's (they differ)."""
    from vidbench.metrics.frechet import real_stats_path

    import vidbench.evaluate as ev_mod
    from vidbench.evaluate import EvalConfig, evaluate

    cfg = EvalConfig(model="gt", checkpoint=None, gt=True, metrics=("fvd4_16f",), dataset="moving_mnist",
                     split="test", num_videos=4, num_frames=16, resolution=32, seed=0, batch_size=4,
                     detector="i3d[random-init]")
    first = read_result(evaluate(cfg, tmp_path / "a", yes=True, progress=False))["metrics"]["fvd4_16f[random-init]"]
    assert first["value"] > 0 and not first["extra"]["real_stats_cached"]
    assert "second_real_stats_cached" not in first["extra"]
    files = sorted(p.name for p in real_stats_path({"metric": "x", "protocol_id": "y"}).parent.glob("*.npz"))
    assert len(files) == 2 and sum(f.startswith("fvd_gt_set_b-") for f in files) == 1, files

    def no_decoding(*a, **k):
        raise AssertionError("a cached --gt run must not read real clips")

    monkeypatch.setattr(ev_mod._Evaluation, "real_batches", no_decoding)
    second = read_result(evaluate(cfg, tmp_path / "b", yes=True, progress=False))["metrics"]["fvd4_16f[random-init]"]
    assert second["extra"]["real_stats_cached"] and second["extra"]["second_real_stats_cached"]
    assert second["value"] == pytest.approx(first["value"], rel=1e-12)
