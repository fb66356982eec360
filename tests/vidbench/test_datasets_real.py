"""Real dataset layouts on small fake trees written at test time (UCF-101, Sky, FaceForensics, VoxCeleb, TLVDB,
image sets, folder:PATH), preprocessing, fingerprints, errors and `vidbench data inspect`.

Frame ``k`` of every generated video is a flat grey of value ``GREY0 + GREY_STEP*k``: the frame indices of a
clip are read back from pixel values alone (independent of the loader's own bookkeeping).
"""

from __future__ import annotations

import json
import shutil
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from vidbench.datasets import build_dataset
from vidbench.errors import VidbenchError
from vidbench.video import read_video, write_video

GREY0, GREY_STEP = 10, 5


def grey_frames(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    v = (GREY0 + GREY_STEP * np.arange(n)).clip(0, 255).astype(np.uint8)
    return np.broadcast_to(v[:, None, None, None], (n, h, w, 3)).copy()


def frame_index(video: np.ndarray) -> np.ndarray:
    """Recover the source frame index of each frame of a clip from its mean grey level."""
    return np.round((video.reshape(len(video), -1).mean(1) - GREY0) / GREY_STEP).astype(int)


def write_avi(path: Path, frames: np.ndarray, fps: int = 25) -> Path:
    """MPEG-4 Part 2 in AVI, as the UCF-101 release (written with PyAV for the fake tree)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="avi") as c:
        s = c.add_stream("mpeg4", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        s.bit_rate = 4_000_000
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.fixture
def ucf_root(tmp_path):
    """UCF-101 layout: 3 classes, 2 groups each, official list formats (incl. the HandStandPushups spelling)."""
    root = tmp_path / "data"
    classes = ["ApplyEyeMakeup", "Basketball", "HandstandPushups"]
    files = {}
    for ci, c in enumerate(classes):
        for g in (1, 8):
            stem = "HandStandPushups" if c == "HandstandPushups" else c
            name = f"v_{stem}_g{g:02d}_c01.avi"
            n = 20 if (c == "Basketball" and g == 8) else 40  # one too-short video (official rule: > 32 frames)
            write_avi(root / "UCF-101" / c / name, grey_frames(n))
            files[(c, g)] = f"{c}/{name}"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    # train: group 8 with labels (1-based); test: group 1 without labels; list spells HandstandPushups/v_HandStand...
    (lists / "trainlist01.txt").write_text(
        "".join(f"{files[(c, 8)].replace('HandstandPushups/', 'HandstandPushups/')} {i + 1}\r\n"
                for i, c in enumerate(classes)))
    (lists / "testlist01.txt").write_text(
        "".join(f"{files[(c, 1)].lower() if c == 'Basketball' else files[(c, 1)]}\n" for c in classes))
    return root


def build_quiet(*a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_dataset(*a, **kw)


# ------------------------------------------------------------------------------------------------------ UCF-101
def test_ucf101_splits_labels_and_skips(ucf_root):
    with pytest.warns(UserWarning, match="skipped 1 of 6"):
        ds = build_dataset("ucf101", split="all", num_frames=16, size=32, data_root=ucf_root)
    assert len(ds) == 5  # 6 found, the 20-frame video has <= 32 frames
    info = ds.info()
    assert info["skipped"]["too_short"] == 1 and info["skipped"]["need_frames"] == 33
    assert "Basketball/v_Basketball_g08_c01.avi" in info["skipped"]["examples"]
    assert info["videos_found"] == 6 and info["expected_videos"] == 13320 and info["complete"] is False
    assert info["num_classes"] == 3 and info["fps"] == pytest.approx(25.0)
    labels = {c.id: c.label for c in ds}
    assert labels["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"] == 0
    assert labels["HandstandPushups/v_HandStandPushups_g08_c01.avi"] == 2

    tr = build_quiet("ucf101", split="train1", num_frames=16, size=32, data_root=ucf_root)
    te = build_dataset("ucf101", split="test1", num_frames=16, size=32, data_root=ucf_root)
    assert sorted(c.id for c in te) == sorted(["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
                                               "Basketball/v_Basketball_g01_c01.avi",
                                               "HandstandPushups/v_HandStandPushups_g01_c01.avi"])
    assert len(tr) == 2 and tr.info()["skipped"]["too_short"] == 1
    assert not {c.id for c in tr} & {c.id for c in te}
    with pytest.raises(VidbenchError, match="trainlist02.txt"):
        build_dataset("ucf101", split="train2", data_root=ucf_root)
    with pytest.raises(VidbenchError, match="unknown split"):
        build_dataset("ucf101", split="train4", data_root=ucf_root)


def test_ucf101_official_clip_sampling(ucf_root):
    """Frames start, start+2, ..., start+30 with start in [0, len-1-32] (inclusive), seeded per item."""
    ds = build_quiet("ucf101", split="all", num_frames=16, size=32, data_root=ucf_root, seed=0)
    starts = set()
    for seed in range(12):
        ds = build_quiet("ucf101", split="all", num_frames=16, size=32, data_root=ucf_root, seed=seed)
        idx = frame_index(ds[0].video)
        assert (np.diff(idx) == 2).all(), idx
        assert 0 <= idx[0] <= 40 - 1 - 32
        starts.add(int(idx[0]))
        again = build_quiet("ucf101", split="all", num_frames=16, size=32, data_root=ucf_root, seed=seed)
        np.testing.assert_array_equal(again[0].video, ds[0].video)
    assert len(starts) >= 4  # the start is random across seeds
    first = build_quiet("ucf101", split="all", num_frames=16, size=32, data_root=ucf_root, sampling="first")
    assert frame_index(first[1].video)[0] == 0
    ds.set_epoch(1)
    e1 = [frame_index(ds[i].video)[0] for i in range(len(ds))]
    ds.set_epoch(0)
    e0 = [frame_index(ds[i].video)[0] for i in range(len(ds))]
    assert e0 != e1  # a new epoch draws new starts


def test_missing_root_names_layout(tmp_path, monkeypatch):
    with pytest.raises(VidbenchError, match=r"VIDBENCH_DATA.*UCF-101/<ClassName>/v_"):
        build_dataset("ucf101")
    with pytest.raises(VidbenchError, match=r"no dataset found under .*ucfTrainTestlist"):
        build_dataset("ucf101", data_root=tmp_path)
    with pytest.raises(VidbenchError, match="sky_train"):
        build_dataset("sky_timelapse", data_root=tmp_path)
    with pytest.raises(VidbenchError, match="afhq/"):
        build_dataset("afhq_dog", data_root=tmp_path)
    with pytest.raises(VidbenchError, match="not a folder"):
        build_dataset("faceforensics", data_root=tmp_path / "nope")


def test_env_data_root_and_subfolder(ucf_root, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_DATA", str(ucf_root))
    assert len(build_quiet("ucf101", size=32)) == 5
    # --data-root one level up, dataset in a ucf101/ sub-folder
    up = tmp_path / "up"
    up.mkdir()
    shutil.copytree(ucf_root, up / "ucf101")
    monkeypatch.delenv("VIDBENCH_DATA")
    assert len(build_quiet("ucf101", size=32, data_root=up)) == 5


def test_fingerprint_tracks_preprocessing_not_location(ucf_root, tmp_path):
    fp = build_quiet("ucf101", size=32, data_root=ucf_root).fingerprint()
    assert build_quiet("ucf101", size=32, data_root=ucf_root).fingerprint() == fp
    variants = {
        build_quiet("ucf101", size=32, data_root=ucf_root, resize_filter="bicubic").fingerprint(),
        build_quiet("ucf101", size=32, data_root=ucf_root, stride=1).fingerprint(),
        build_quiet("ucf101", size=32, data_root=ucf_root, hflip=True).fingerprint(),
        build_quiet("ucf101", size=64, data_root=ucf_root).fingerprint(),
        build_quiet("ucf101", size=32, data_root=ucf_root, sampling="first").fingerprint(),
        build_quiet("ucf101", size=32, data_root=ucf_root, seed=1).fingerprint(),
        build_quiet("ucf101", split="test1", size=32, data_root=ucf_root).fingerprint(),
    }
    assert fp not in variants and len(variants) == 7
    moved = tmp_path / "moved"
    shutil.copytree(ucf_root, moved)
    assert build_quiet("ucf101", size=32, data_root=moved).fingerprint() == fp
    # a changed file changes it
    write_avi(moved / "UCF-101" / "Basketball" / "v_Basketball_g01_c01.avi", grey_frames(41))
    assert build_quiet("ucf101", size=32, data_root=moved).fingerprint() != fp


def test_probe_cache_reused(ucf_root, monkeypatch):
    build_quiet("ucf101", size=32, data_root=ucf_root)
    import vidbench.datasets.folder as folder

    def boom(path):
        raise AssertionError("probed again")

    monkeypatch.setattr(folder, "count_frames", boom)
    assert len(build_quiet("ucf101", size=32, data_root=ucf_root)) == 5


def test_probe_cache_file_names_are_flat(shared_data):
    import os

    from vidbench.cache import cache_root

    build_dataset(f"folder:{shared_data / 'video' / 'action'}")
    files = list((cache_root() / "datasets").iterdir())
    assert len(files) == 1 and files[0].is_file() and files[0].name.startswith("index-folder_")
    assert os.path.dirname(files[0]) == str(cache_root() / "datasets")


# ------------------------------------------------------------------------------------------------ preprocessing
def test_center_crop_and_resize(tmp_path):
    """320×240 frames with red/blue 40-px side bands: the centred 240×240 crop (UCF-101, paper §4.1) removes them."""
    f = np.zeros((24, 240, 320, 3), np.uint8)
    f[..., 1] = 200
    f[:, :, :40] = [255, 0, 0]
    f[:, :, 280:] = [0, 0, 255]
    write_video(tmp_path / "v" / "a.mp4", f, fps=25)
    ds = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=8, size=64)
    v = ds[0].video.astype(int)
    assert v.shape == (8, 64, 64, 3)
    assert v[..., 0].max() < 40 and v[..., 2].max() < 40 and v[..., 1].min() > 170
    wide = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=8, size=64, crop="none")[0].video.astype(int)
    assert wide[:, :, :4, 0].mean() > 200 and wide[:, :, -4:, 2].mean() > 200
    # native size, no resize: exactly the decoded frames' centre columns 40..279
    native = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=8, size=240)[0].video
    np.testing.assert_array_equal(native, read_video(tmp_path / "v" / "a.mp4")[:8, :, 40:280])


def test_resize_filter_changes_pixels(tmp_path):
    rng = np.random.default_rng(0)
    write_video(tmp_path / "v" / "n.mp4", rng.integers(0, 255, (10, 96, 96, 3), dtype=np.uint8), fps=10)
    a = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=4, size=40, resize_filter="lanczos")
    b = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=4, size=40, resize_filter="nearest")
    assert a.fingerprint() != b.fingerprint()
    assert not np.array_equal(a[0].video, b[0].video)
    # nearest from 96 to 40 picks source pixels: every output value exists in the decoded frame
    src = read_video(tmp_path / "v" / "n.mp4")[0]
    out = b[0].video[0]
    src_px = {tuple(p) for p in src.reshape(-1, 3)}
    assert all(tuple(p) in src_px for p in out.reshape(-1, 3)[:200])


def test_hflip_is_seeded_mirror(tmp_path):
    f = np.zeros((12, 32, 32, 3), np.uint8)
    f[:, :, :16] = 255  # left half white
    write_video(tmp_path / "v" / "a", f)  # frame folder
    for i in range(5):
        write_video(tmp_path / "v" / f"b{i}", f)
    plain = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=4, size=32)
    flips = []
    for i in range(len(plain)):
        a = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=4, size=32, hflip=True, seed=3)[i].video
        flipped = np.array_equal(a, plain[i].video[:, :, ::-1])
        assert flipped or np.array_equal(a, plain[i].video)
        flips.append(flipped)
    assert any(flips) and not all(flips)


def test_too_short_everywhere_is_an_error(tmp_path):
    write_video(tmp_path / "v" / "a.mp4", grey_frames(6), fps=10)
    with pytest.raises(VidbenchError, match="too short"), pytest.warns(UserWarning, match="skipped 1 of 1"):
        build_dataset(f"folder:{tmp_path / 'v'}", num_frames=16)
    ds = build_dataset(f"folder:{tmp_path / 'v'}", num_frames=3, stride=2)  # needs (3-1)*2+1 = 5 frames
    np.testing.assert_array_equal(frame_index(ds[0].video), [0, 2, 4])


# ------------------------------------------------------------------------------------------------ other layouts
def test_sky_timelapse_nested_frame_folders(tmp_path):
    root = tmp_path / "sky_timelapse"
    for split, vids in (("sky_train", ("v1", "v2")), ("sky_test", ("v9",))):
        for v in vids:
            for c in range(2):
                d = root / split / v / f"{v}_{c}"
                d.mkdir(parents=True)
                for k, fr in enumerate(grey_frames(36, 40, 60)):
                    Image.fromarray(fr).save(d / f"{v}_{c}_frames_{k + 1:08d}.jpg", quality=95)
    tr = build_dataset("sky_timelapse", split="train", num_frames=16, size=32, data_root=tmp_path)
    te = build_dataset("sky_timelapse", split="test", num_frames=16, size=32, data_root=tmp_path)
    assert len(tr) == 4 and len(te) == 2 and tr.split == "train"
    assert te[0].id == "sky_test/v9/v9_0"
    assert len(build_dataset("sky_timelapse", split="all", size=32, data_root=tmp_path)) == 6
    assert build_dataset("sky_timelapse", data_root=tmp_path, size=32).split == "train"  # default split
    idx = frame_index(tr[1].video)
    assert (np.diff(idx) == 2).all() and 0 <= idx[0] <= 36 - 1 - 32
    assert tr.info()["fps"] is None  # frame folders carry no frame rate


def test_faceforensics_videos_and_frame_folders(tmp_path):
    base = tmp_path / "FaceForensics"
    write_video(base / "train" / "000.mp4", grey_frames(40), fps=25)
    write_video(base / "train" / "001", grey_frames(40))  # frame folder
    write_video(base / "test" / "900.mp4", grey_frames(40), fps=25)
    tr = build_dataset("faceforensics", split="train", size=32, data_root=tmp_path)
    assert sorted(c.id for c in tr) == ["train/000.mp4", "train/001"]
    assert len(build_dataset("faceforensics", split="test", size=32, data_root=tmp_path)) == 1
    assert len(build_dataset("faceforensics", split="all", size=32, data_root=tmp_path)) == 3
    for c in tr:
        assert (np.diff(frame_index(c.video)) == 2).all()


def test_voxceleb_and_tlvdb(tmp_path):
    vox = tmp_path / "voxceleb"
    write_video(vox / "dev" / "mp4" / "id00012" / "abc" / "00001.mp4", grey_frames(34), fps=25)
    write_video(vox / "dev" / "mp4" / "id00015" / "xyz" / "00001.mp4", grey_frames(34), fps=25)
    write_video(vox / "test" / "mp4" / "id00017" / "qqq" / "00002.mp4", grey_frames(34), fps=25)
    dev = build_dataset("voxceleb", split="dev", size=32, data_root=tmp_path)
    assert [c.id for c in dev] == ["dev/mp4/id00012/abc/00001.mp4", "dev/mp4/id00015/xyz/00001.mp4"]
    assert len(build_dataset("voxceleb", split="train", size=32, data_root=tmp_path)) == 2
    assert len(build_dataset("voxceleb", split="test", size=32, data_root=tmp_path)) == 1
    assert len(build_dataset("voxceleb", split="all", size=32, data_root=tmp_path)) == 3
    # a plain tree without dev/test is split 'all'
    plain = tmp_path / "plain"
    write_video(plain / "voxceleb2" / "id1" / "a.mp4", grey_frames(34), fps=25)
    assert len(build_dataset("voxceleb", size=32, data_root=plain)) == 1
    with pytest.raises(VidbenchError, match="only split 'all'"):
        build_dataset("voxceleb", split="test", data_root=plain)

    tl = tmp_path / "tl" / "TLVDB"
    write_video(tl / "train" / "a.mp4", grey_frames(40), fps=25)
    write_video(tl / "test" / "b", grey_frames(40))
    assert [c.id for c in build_dataset("tlvdb", split="test", size=32, data_root=tmp_path / "tl")] == ["test/b"]


def test_folder_on_shared_clips(shared_data):
    ds = build_dataset(f"folder:{shared_data / 'video' / 'action'}", num_frames=16, size=64)
    assert len(ds) == 2
    ids = [c.id for c in ds]
    assert ids == ["mmaction2_demo_armwrestling_340x256.mp4", "mmaction2_test_pool_320x240.avi"]
    info = ds.info()
    assert sorted(map(tuple, info["source_resolutions"])) == [(240, 320), (256, 340)]  # MANIFEST.md
    assert info["source_frames"]["min"] == 164 and info["source_frames"]["max"] == 280  # MANIFEST.md (ffprobe)
    clip = ds[1].video
    assert clip.shape == (16, 64, 64, 3) and clip.dtype == np.uint8


def test_image_sets(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("val", 2)):
        for i in range(n):
            d = tmp_path / "afhq" / split / "dog"
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(d / f"flickr_dog_{i:06d}.png")
        (tmp_path / "afhq" / split / "cat").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(tmp_path / "afhq" / split / "cat" / "c.png")
    ds = build_dataset("afhq_dog", size=32, data_root=tmp_path)
    assert len(ds) == 3 and ds[0].video.shape == (1, 32, 32, 3) and ds.info()["num_frames"] == 1
    assert len(build_dataset("afhq_dog", split="test", size=32, data_root=tmp_path)) == 2  # test -> val
    # no resize when size matches the crop: the centred 48×48 of the 64×48 image
    src = np.asarray(Image.open(tmp_path / "afhq" / "train" / "dog" / "flickr_dog_000000.png"))
    np.testing.assert_array_equal(build_dataset("afhq_dog", size=48, data_root=tmp_path)[0].video[0], src[:, 8:56])

    ff = tmp_path / "ffhq" / "images1024x1024" / "00000"
    ff.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(ff / f"{i:05d}.png")
    f = build_dataset("ffhq", size=16, data_root=tmp_path)
    assert len(f) == 4 and f[3].id == "images1024x1024/00000/00003.png"
    assert f.info()["expected_images"] == 70000
    (tmp_path / "lsun_church").mkdir()
    (tmp_path / "lsun_church" / "data.mdb").write_bytes(b"\0")
    with pytest.raises(VidbenchError, match="LMDB"):
        build_dataset("lsun_church", data_root=tmp_path)


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_data_inspect(shared_data, tmp_path, ucf_root):
    from vidbench.cli import cli

    r = CliRunner().invoke(cli, ["data", "inspect", "moving_mnist", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["num_videos"] == 10000 and info["num_frames"] == 16 and info["resolution"] == [64, 64]
    assert info["fingerprint"] == build_dataset("moving_mnist").fingerprint()

    r = CliRunner().invoke(cli, ["data", "inspect", "synthetic_sky", "--size", "128", "--split", "test"])
    assert r.exit_code == 0 and "128x128" in r.output and "200" in r.output

    r = CliRunner().invoke(cli, ["data", "inspect", str(shared_data / "video" / "action")])
    assert r.exit_code == 0, r.output
    assert "videos       2" in r.output and "fingerprint" in r.output and "25" in r.output

    r = CliRunner().invoke(cli, ["data", "inspect", "ucf101", "--data-root", str(ucf_root), "--split", "test1",
                                 "--set", "stride=1", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["num_videos"] == 3 and info["preprocessing"]["stride"] == 1

    r = CliRunner().invoke(cli, ["data", "inspect", "ucf101"])
    assert r.exit_code == 2 and "UCF-101/<ClassName>" in r.output
    r = CliRunner().invoke(cli, ["data", "inspect", "moving_mnist", "--set", "bogus=1"])
    assert r.exit_code == 2 and "valid keys" in r.output


def test_tensor_scaling_and_collate():
    from vidbench.datasets import collate_clips, video_to_tensor

    ds = build_dataset("moving_mnist", num_frames=4, size=64)
    v = ds[0].video
    x = video_to_tensor(v)
    assert tuple(x.shape) == (4, 3, 64, 64)
    np.testing.assert_allclose(x.numpy(), v.transpose(0, 3, 1, 2) / 255.0 * 2 - 1, atol=1e-6)
    batch, ids = collate_clips([ds[0], ds[1]])
    assert batch.shape == (2, 4, 64, 64, 3) and ids == ["train/000000", "train/000001"]


def test_folder_with_npz_collection(tmp_path):
    from vidbench.video import write_videos_npz

    vids = np.stack([grey_frames(20, 16, 16)] * 3)
    vids[1] = 255 - vids[1]
    write_videos_npz(tmp_path / "run" / "samples.npz", vids)
    ds = build_dataset(f"folder:{tmp_path / 'run'}", num_frames=16, size=16)
    assert [c.id for c in ds] == ["samples.npz#0", "samples.npz#1", "samples.npz#2"]
    np.testing.assert_array_equal(ds[1].video, vids[1, :16])
    assert ds.info()["source_frames"]["max"] == 20


def test_image_set_does_not_swallow_the_data_root(tmp_path):
    write_video(tmp_path / "other" / "clip", grey_frames(3))  # another dataset's frames under the root
    with pytest.raises(VidbenchError, match="Expected layout"):
        build_dataset("animefaces", data_root=tmp_path)
    (tmp_path / "animefaces").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "animefaces" / "1.png")
    assert len(build_dataset("animefaces", data_root=tmp_path, size=8)) == 1


def test_ucf101_extracted_frame_folders(tmp_path):
    """UCF-101 with frames extracted to one folder per video (the MoCoGAN-HD loader's input) also resolves the
    official lists (v_X.avi -> folder v_X)."""
    root = tmp_path / "UCF101"
    write_video(root / "UCF-101" / "Archery" / "v_Archery_g01_c01", grey_frames(40, 24, 32))
    write_video(root / "UCF-101" / "Archery" / "v_Archery_g02_c01", grey_frames(40, 24, 32))
    (root / "ucfTrainTestlist").mkdir()
    (root / "ucfTrainTestlist" / "classInd.txt").write_text("1 Archery\n")
    (root / "ucfTrainTestlist" / "testlist01.txt").write_text("Archery/v_Archery_g02_c01.avi\n")
    assert [c.id for c in build_dataset("ucf101", data_root=tmp_path, size=24)] == [
        "Archery/v_Archery_g01_c01", "Archery/v_Archery_g02_c01"]
    te = build_dataset("ucf101", split="test1", data_root=tmp_path, size=24, sampling="first")
    assert len(te) == 1 and te[0].label == 0
    np.testing.assert_array_equal(frame_index(te[0].video), np.arange(0, 32, 2))


def test_bad_preprocessing_value_is_rejected(shared_data):
    from vidbench.config import ConfigError

    with pytest.raises(ConfigError, match="lanczos"):
        build_dataset(f"folder:{shared_data / 'video' / 'action'}", resize_filter="cubic")
    with pytest.raises(ConfigError, match="valid keys"):
        build_dataset(f"folder:{shared_data / 'video' / 'action'}", strides=2)
