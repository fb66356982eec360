"""The real-clip rule (vidbench/datasets/clips.py): prefix-stable draws, without replacement, in-range starts, and
windows read at the drawn start (pixels encode the frame number)."""

import numpy as np

from vidbench.datasets import build_dataset
from vidbench.datasets.clips import RealClipRule, draw_real_clips, read_clip, read_real_clips, write_real_clips


def _folder(tmp_path, n_videos=7, n_frames=(12, 30)):
    rng = np.random.default_rng(0)
    lengths = rng.integers(*n_frames, size=n_videos)
    for i, n in enumerate(lengths):
        v = np.zeros((int(n), 8, 8, 3), np.uint8)
        v[..., 0] = (np.arange(int(n)) * 8)[:, None, None]
        v[..., 1] = 10 * i
        np.save(tmp_path / f"v{i:02d}.npy", v)
    ds = build_dataset(f"folder:{tmp_path}", num_frames=4, size=8, stride=2, length_rule="minimal", progress=False)
    return ds, [int(x) for x in lengths]


def _rule(n, seed=0):
    return RealClipRule(dataset="folder", split="all", num_clips=n, num_frames=4, stride=2, resolution=8, seed=seed)


def test_draws_are_prefix_stable_and_without_replacement(tmp_path):
    ds, lengths = _folder(tmp_path)
    short, long = draw_real_clips(ds, _rule(5)), draw_real_clips(ds, _rule(16))
    assert long[:5] == short  # the first n clips do not depend on how many were drawn (stats cache key relies on it)
    assert sorted(r.video for r in long[:7]) == list(range(7))  # one pass: every video once
    assert sorted(r.video for r in long[7:14]) == list(range(7))  # then a fresh permutation
    for r in long:
        n = lengths[int(r.video_id[1:3])]
        assert 0 <= r.start <= n - (3 * 2 + 1)  # every window of 4 frames at stride 2 that fits
    assert draw_real_clips(ds, _rule(5, seed=1)) != short


def test_read_clip_returns_the_window_at_the_drawn_start(tmp_path):
    ds, _ = _folder(tmp_path)
    for r in draw_real_clips(ds, _rule(6)):
        v = read_clip(ds, r)
        assert [int(f[0, 0, 0]) for f in v] == [8 * (r.start + 2 * k) for k in range(4)]
        assert int(v[0, 0, 0, 1]) == 10 * int(r.video_id[1:3])


def test_real_clips_jsonl_round_trip(tmp_path):
    ds, _ = _folder(tmp_path)
    refs = draw_real_clips(ds, _rule(4))
    write_real_clips(tmp_path / "real_clips.jsonl", refs)
    assert read_real_clips(tmp_path / "real_clips.jsonl") == refs
