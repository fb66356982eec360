"""On-disk layouts of the real datasets: where each one's files are and how splits are formed.

The data root is ``data_root`` (CLI ``--data-root``) or ``$VIDBENCH_DATA``. Each dataset is looked for in the root
itself and in the sub-folders named in its ``LAYOUTS`` entry, so both ``--data-root /data`` (holding ``UCF-101/``)
and ``--data-root /data/ucf101`` work. When nothing matches, the error prints the expected layout.
"""

from __future__ import annotations

import os
from pathlib import Path

from vidbench.datasets.folder import Item
from vidbench.errors import UnreadablePathError, VidbenchError, VideoReadError
from vidbench.video import ARRAY_EXTS, IMAGE_EXTS, VIDEO_EXTS, _natural_key, is_frame_folder, list_videos

LAYOUTS: dict[str, str] = {
    "ucf101": (
        "<root>/UCF-101/<ClassName>/v_<ClassName>_gXX_cYY.avi (101 class folders, 13,320 .avi) and, for the "
        "train1..3/test1..3 splits, <root>/ucfTrainTestlist/{classInd.txt, trainlist01..03.txt, testlist01..03.txt} "
        "(the official UCF101TrainTestSplits-RecognitionTask release); <root> may also contain ucf101/ or UCF101/ "
        "holding these"
    ),
    "faceforensics": (
        "<root>/faceforensics/{train,test}/<video>.mp4 or <root>/faceforensics/{train,test}/<video>/<frames>.png|jpg "
        "(one folder of frames per video, as the MoCoGAN-HD loader; FaceForensics/ also accepted)"
    ),
    "sky_timelapse": (
        "<root>/sky_timelapse/sky_train/<video_id>/<clip_id>/*.jpg and .../sky_test/... (the official Sky Time-lapse "
        "release: nested folders, each leaf folder of frames is one clip; sky/ and sky_timelapse/sky_timelapse/ "
        "also accepted)"
    ),
    "voxceleb": (
        "<root>/voxceleb/{dev,test}/mp4/<speaker_id>/<youtube_id>/<nnnnn>.mp4 (VoxCeleb2 release; a tree of videos "
        "or frame folders without dev/test folders is split 'all'; voxceleb2/ and VoxCeleb/ also accepted)"
    ),
    "tlvdb": (
        "<root>/tlvdb/{train,test}/<video files or frame folders> (Time-Lapse Video DataBase as used by DTVNet; "
        "TLVDB/ also accepted)"
    ),
    "ffhq": "<root>/ffhq/**/*.png (images1024x1024/00000/00000.png ... or any image tree; 70,000 images)",
    "afhq_dog": "<root>/afhq/{train,val}/dog/*.jpg (AFHQ v1/v2 release; 4,739 train + 500 val dogs)",
    "lsun_church": (
        "<root>/lsun_church/**/*.{webp,jpg,png} (LSUN church_outdoor exported to images, e.g. with the LSUN "
        "tools' `export`; the raw LMDB is not read)"
    ),
    "animefaces": "<root>/animefaces/**/*.{png,jpg} (any tree of anime face images)",
    "folder": "any tree of video files (" + ", ".join(VIDEO_EXTS) + "), frame folders or npz/npy arrays",
}

UCF101_SPLITS = ("all", "train1", "train2", "train3", "test1", "test2", "test3")
# official UCF101TrainTestSplits-RecognitionTask counts (list lengths)
UCF101_EXPECTED = {"all": 13320, "train1": 9537, "test1": 3783, "train2": 9586, "test2": 3734, "train3": 9624,
                   "test3": 3696}


def data_root_from(data_root: str | os.PathLike | None, dataset: str) -> Path:
    root = data_root or os.environ.get("VIDBENCH_DATA")
    if not root:
        raise VidbenchError(
            f"{dataset}: no data root given; pass --data-root DIR (data_root=...) or set VIDBENCH_DATA. "
            f"Expected layout: {LAYOUTS[dataset]}"
        )
    p = Path(root).expanduser()
    if not p.is_dir():
        raise VidbenchError(f"{dataset}: data root {p} is not a folder. Expected layout: {LAYOUTS[dataset]}")
    return p


def find_dataset_dir(root: Path, dataset: str, subdirs: tuple[str, ...], marker) -> Path:
    """The first of ``root``, ``root/<subdir>`` ... for which ``marker(path)`` is true; else a layout error."""
    tried = [root / s for s in subdirs] + [root]  # a named sub-folder wins over the root itself
    for cand in tried:
        if cand.is_dir() and marker(cand):
            return cand
    raise VidbenchError(
        f"{dataset}: no dataset found under {root} (looked in {', '.join(str(t) for t in tried)}). "
        f"Expected layout: {LAYOUTS[dataset]}"
    )


def _items_from_tree(root: Path, base: Path | None = None, label_of=None) -> list[Item]:
    """Every video file / frame folder under ``root`` (vidbench.video.list_videos), ids relative to ``base``."""
    base = base or root
    try:
        paths = list_videos(root)
    except UnreadablePathError:  # permission / I/O errors are named, never turned into an empty listing
        raise
    except VideoReadError:  # "no videos found": the caller reports the expected layout
        return []
    out = []
    for p in paths:
        rel = p.relative_to(base).as_posix() if p != base else p.name
        out.append(Item(p, rel, label_of(p) if label_of else None))
    return out


def _check_split(dataset: str, split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise VidbenchError(f"{dataset}: unknown split {split!r}; choose one of {', '.join(allowed)}")


# ------------------------------------------------------------------------------------------------------ UCF-101
def read_class_index(path: Path) -> list[str]:
    """classInd.txt ("1 ApplyEyeMakeup" per line) -> class names in label order (label = number - 1)."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            num, name = line.split()
            rows.append((int(num), name))
    rows.sort()
    if [r[0] for r in rows] != list(range(1, len(rows) + 1)):
        raise VidbenchError(f"{path}: class numbers must run 1..N")
    return [r[1] for r in rows]


def ucf101_items(data_root, split: str) -> tuple[Path, list[Item], list[str]]:
    _check_split("ucf101", split, UCF101_SPLITS)
    root = find_dataset_dir(data_root_from(data_root, "ucf101"), "ucf101", ("ucf101", "UCF101", "UCF-101"),
                            lambda p: (p / "UCF-101").is_dir())
    vids = root / "UCF-101"
    lists = root / "ucfTrainTestlist"
    class_dirs = sorted((d.name for d in vids.iterdir() if d.is_dir()), key=str.lower)
    classes = read_class_index(lists / "classInd.txt") if (lists / "classInd.txt").exists() else class_dirs
    label_of = {c.lower(): i for i, c in enumerate(classes)}
    if split == "all":
        items = []
        for d in class_dirs:
            for f in sorted((vids / d).iterdir(), key=lambda p: _natural_key(p.name)):
                if (f.is_file() and f.suffix.lower() in VIDEO_EXTS) or is_frame_folder(f):
                    items.append(Item(f, f"{d}/{f.name}", label_of.get(d.lower())))
        return root, items, classes
    kind, num = split[:-1], split[-1]
    list_file = lists / f"{kind}list0{num}.txt"
    if not list_file.exists():
        raise VidbenchError(f"ucf101: split {split!r} needs {list_file}. Expected layout: {LAYOUTS['ucf101']}")
    # index every video case-insensitively: the official lists spell some names differently from the folders
    # (e.g. HandstandPushups/v_HandStandPushups_...)
    by_lower = {}
    for d in class_dirs:
        for f in (vids / d).iterdir():
            by_lower[f"{d}/{f.name}".lower()] = f"{d}/{f.name}"
    items, missing = [], []
    for line in list_file.read_text().splitlines():
        if not line.strip():
            continue
        rel = line.split()[0].replace("\\", "/")
        # the .avi, or a folder of its extracted frames named without the extension
        real = by_lower.get(rel.lower()) or by_lower.get(rel.lower().rsplit(".", 1)[0])
        if real is None:
            missing.append(rel)
            continue
        cls = real.split("/")[0]
        items.append(Item(vids / real, real, label_of.get(cls.lower())))
    if missing:
        raise VidbenchError(
            f"ucf101[{split}]: {len(missing)} of {len(missing) + len(items)} videos listed in {list_file.name} are "
            f"missing under {vids} (e.g. {', '.join(missing[:3])}); the split would not be the official one"
        )
    return root, items, classes


# ------------------------------------------------------------------------------------------------ split folders
def split_folder_items(dataset: str, data_root, split: str | None, subdirs: tuple[str, ...], split_dirs: dict[str, str],
                       allow_all_tree: bool = True) -> tuple[Path, list[Item], str]:
    """Datasets stored as ``<dataset>/<split_dir>/<tree of videos>``; ``all`` = every split folder (or the whole
    tree when there are no split folders and ``allow_all_tree``)."""
    root = data_root_from(data_root, dataset)

    def marker(p: Path) -> bool:
        return any((p / d).is_dir() for d in split_dirs.values())

    try:
        base = find_dataset_dir(root, dataset, subdirs, marker)
    except VidbenchError:
        if not allow_all_tree:
            raise
        base = None
    if base is None:  # no split folders: a plain tree is split 'all'
        base = next((root / s for s in subdirs if (root / s).is_dir()), root)
        if split not in (None, "all"):
            raise VidbenchError(f"{dataset}: no split folders ({', '.join(sorted(set(split_dirs.values())))}) under "
                                f"{base}; only split 'all' is available. Expected layout: {LAYOUTS[dataset]}")
        items = _items_from_tree(base)
        if not items:
            raise VidbenchError(f"{dataset}: no videos under {base}. Expected layout: {LAYOUTS[dataset]}")
        return base, items, "all"
    split = split or "train"
    allowed = tuple(split_dirs) + ("all",)
    _check_split(dataset, split, allowed)
    names = list(dict.fromkeys(split_dirs.values())) if split == "all" else [split_dirs[split]]
    items = []
    for n in names:
        if (base / n).is_dir():
            items += _items_from_tree(base / n, base)
    if not items:
        raise VidbenchError(f"{dataset}[{split}]: no videos under {base / names[0]}. Expected layout: "
                            f"{LAYOUTS[dataset]}")
    return base, items, split


def faceforensics_items(data_root, split: str):
    return split_folder_items("faceforensics", data_root, split, ("faceforensics", "FaceForensics", "ffs"),
                              {"train": "train", "test": "test"})


def sky_items(data_root, split: str):
    return split_folder_items("sky_timelapse", data_root, split,
                              ("sky_timelapse", "sky", "sky_timelapse/sky_timelapse", "SkyTimelapse"),
                              {"train": "sky_train", "test": "sky_test"}, allow_all_tree=False)


def voxceleb_items(data_root, split: str):
    return split_folder_items("voxceleb", data_root, split, ("voxceleb", "voxceleb2", "VoxCeleb", "VoxCeleb2"),
                              {"dev": "dev", "train": "dev", "test": "test"})


def tlvdb_items(data_root, split: str):
    return split_folder_items("tlvdb", data_root, split, ("tlvdb", "TLVDB"), {"train": "train", "test": "test"})


def folder_items(path: str, split: str | None) -> tuple[Path, list[Item]]:
    """``folder:PATH``: every video under PATH, or under PATH/<split> when that sub-folder exists."""
    p = Path(path).expanduser()
    if not p.exists():
        raise VidbenchError(f"folder:{path}: no such folder. Expected: {LAYOUTS['folder']}")
    base = p
    if split and split != "all":
        if not (p / split).is_dir():
            raise VidbenchError(f"folder:{path}: no sub-folder {split!r} for split {split!r}; use split 'all' or "
                                f"one of {sorted(d.name for d in p.iterdir() if d.is_dir()) if p.is_dir() else []}")
        base = p / split
    try:
        paths = list_videos(base)
    except Exception as e:
        raise VidbenchError(f"folder:{path}: {e}. Expected: {LAYOUTS['folder']}") from None
    items = []
    for q in paths:
        rel = q.name if q == base else q.relative_to(base).as_posix()
        if q.is_file() and q.suffix.lower() in ARRAY_EXTS:
            from vidbench.datasets.folder import load_array_cached

            arr = load_array_cached(q)
            if arr.ndim == 5:  # a collection [N, T, H, W, C], e.g. a run's samples.npz: one item per video
                items += [Item(q, f"{rel}#{i}", None, i) for i in range(arr.shape[0])]
                continue
        items.append(Item(q, rel, None))
    return (base if base.is_dir() else base.parent), items


# ------------------------------------------------------------------------------------------------ image sets
def image_files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort(key=_natural_key)
        for f in filenames:
            if Path(f).suffix.lower() in IMAGE_EXTS and not f.startswith("."):
                out.append(Path(dirpath) / f)
    out.sort(key=lambda p: _natural_key(p.relative_to(root).as_posix()))
    return out


def image_items(dataset: str, data_root, split: str) -> tuple[Path, list[Item], str]:
    root = data_root_from(data_root, dataset)
    if dataset == "afhq_dog":
        split = {"test": "val"}.get(split, split)
        _check_split(dataset, split, ("train", "val", "all"))
        base = find_dataset_dir(root, dataset, ("afhq", "AFHQ", "afhq_v2"),
                                lambda p: (p / "train" / "dog").is_dir() or (p / "val" / "dog").is_dir())
        dirs = ["train", "val"] if split == "all" else [split]
        files = [f for d in dirs if (base / d / "dog").is_dir() for f in image_files(base / d / "dog")]
    else:
        _check_split(dataset, split, ("train", "all"))
        subdirs = {"ffhq": ("ffhq", "FFHQ"), "lsun_church": ("lsun_church", "church_outdoor_train", "lsun/church"),
                   "animefaces": ("animefaces", "anime_faces", "anime")}[dataset]
        lmdb = [c for c in (root, *(root / s for s in subdirs)) if (c / "data.mdb").exists()]
        if lmdb:
            raise VidbenchError(f"{dataset}: {lmdb[0]} is an LMDB database, which vidbench does not read; export it to "
                                f"image files first. Expected layout: {LAYOUTS[dataset]}")
        def has_images(p: Path) -> bool:
            if p == root and p.name.lower() not in {s.lower() for s in subdirs}:
                # the data root itself counts only when it directly holds images (not another dataset's tree)
                return any(f.suffix.lower() in IMAGE_EXTS for f in p.iterdir() if f.is_file())
            return any(f.suffix.lower() in IMAGE_EXTS for f in p.rglob("*") if f.is_file())

        base = find_dataset_dir(root, dataset, subdirs, has_images)
        files = image_files(base)
    items = [Item(f, f.relative_to(base).as_posix(), None) for f in files]
    return base, items, split

