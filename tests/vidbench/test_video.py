import numpy as np
import pytest

from vidbench.errors import VidbenchError, VideoReadError
from vidbench.video import iter_videos, probe_video, read_video, select_frames, to_uint8, write_video

CLIPS = {
    "video/action/mmaction2_test_pool_320x240.avi": (164, 240, 320, 25.0),
    "video/action/mmaction2_demo_armwrestling_340x256.mp4": (280, 256, 340, 28.0),
    "video/quality/carphone_pristine_176x144.mp4": (120, 144, 176, 30000 / 1001),
    "i3d/sample/v_CricketShot_g04_c01_rgb.gif": (79, 224, 224, 25.0),
}


@pytest.mark.parametrize("rel", sorted(CLIPS))
def test_real_clips_frame_counts_sizes(shared_data, rel):
    info = probe_video(shared_data / rel)
    t, h, w, fps = CLIPS[rel]
    assert (info.num_frames, info.height, info.width) == (t, h, w)
    assert info.fps == pytest.approx(fps, rel=1e-3)


def test_frame_selection_rules(shared_data):
    full = read_video(shared_data / "video/quality/carphone_pristine_176x144.mp4")
    sel = read_video(shared_data / "video/quality/carphone_pristine_176x144.mp4", start=3, stride=2, num_frames=16)
    np.testing.assert_array_equal(sel, full[3:35:2])
    with pytest.raises(VideoReadError, match="needs 100 frames"):
        read_video(shared_data / "video/quality/carphone_pristine_176x144.mp4", stride=2, num_frames=100)
    # 30 -> 15 fps keeps every other frame
    x = np.arange(30, dtype=np.uint8)[:, None, None, None].repeat(3, -1)
    np.testing.assert_array_equal(select_frames(x, src_fps=30, fps=15)[:, 0, 0, 0], np.arange(0, 30, 2))


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def test_mp4_round_trip_psnr(shared_data, tmp_path):
    v = read_video(shared_data / "video/quality/carphone_pristine_176x144.mp4", num_frames=20)
    out = write_video(tmp_path / "rt.mp4", v, fps=25)
    back = read_video(out)
    assert back.shape == v.shape
    assert _psnr(v, back) > 35.0  # H.264 crf 15 on natural video


def test_lossless_formats_round_trip(tmp_path, rng):
    v = rng.integers(0, 256, size=(5, 17, 13, 3), dtype=np.uint8)
    for name in ("a.npz", "frames_dir"):
        np.testing.assert_array_equal(read_video(write_video(tmp_path / name, v, fps=10)), v)
    g = read_video(write_video(tmp_path / "a.gif", np.repeat(v[:, :, :, :1], 3, -1) // 64 * 64, fps=10))
    assert g.shape == v.shape


def test_odd_size_mp4_is_padded_not_refused(tmp_path):
    v = np.full((4, 15, 21, 3), 128, np.uint8)
    back = read_video(write_video(tmp_path / "odd.mp4", v, fps=8))
    assert back.shape[0] == 4 and back.shape[1] >= 15 and back.shape[2] >= 21


def test_collections(tmp_path, rng):
    batch = rng.integers(0, 256, size=(3, 4, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "s.npz", video=batch)
    write_video(tmp_path / "sub" / "b.npz", batch[0], fps=5)
    items = list(iter_videos(tmp_path))
    assert [i for i, _ in items] == ["s.npz#0", "s.npz#1", "s.npz#2", "sub/b.npz"]
    np.testing.assert_array_equal(items[1][1], batch[1])


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"not a video at all", "cannot decode")])
def test_corrupt_files_name_the_file(tmp_path, content, match):
    p = tmp_path / "bad.mp4"
    p.write_bytes(content)
    with pytest.raises(VideoReadError, match=match) as ei:
        read_video(p)
    assert "bad.mp4" in str(ei.value)


def test_bad_inputs(tmp_path):
    with pytest.raises(VideoReadError, match="unsupported file type"):
        (tmp_path / "x.txt").write_text("hi")
        read_video(tmp_path / "x.txt")
    with pytest.raises(VideoReadError, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    np.save(tmp_path / "f.npy", np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(VideoReadError, match="to_uint8"):
        read_video(tmp_path / "f.npy")
    np.save(tmp_path / "s.npy", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(VideoReadError, match=r"\[T,H,W,3\]"):
        read_video(tmp_path / "s.npy")
    with pytest.raises(VidbenchError, match="cannot write"):
        write_video(tmp_path / "x.avi", np.zeros((1, 4, 4, 3), np.uint8))


def test_to_uint8_conventions():
    x = np.array([-1.0, -0.5, 0.0, 0.999, 1.0, 2.0])
    np.testing.assert_array_equal(to_uint8(x), [0, 64, 128, 255, 255, 255])  # round((x+1)*127.5)
    np.testing.assert_array_equal(to_uint8(x, mode="truncate"), [0, 63, 127, 254, 255, 255])
    np.testing.assert_array_equal(to_uint8(x, mode="styleganv"), [0, 64, 128, 255, 255, 255])
