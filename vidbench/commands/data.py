"""`vidbench data inspect NAME_OR_PATH`: number of videos, frames, resolution, fps and fingerprint of a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vidbench.errors import VidbenchError


@click.group()
def command():
    """Inspect datasets: sizes, frames, resolution, fps, fingerprint.

    \b
    Example:
      vidbench data inspect moving_mnist
      vidbench data inspect ucf101 --data-root /data --split train1
      vidbench data inspect ./my_videos --json
    """


def _resolve_name(name_or_path: str) -> str:
    """A registered name stays; an existing path becomes ``folder:PATH``."""
    from vidbench.registry import DATASETS

    if name_or_path.startswith("folder:"):
        return name_or_path
    if name_or_path in DATASETS:
        return name_or_path
    if Path(name_or_path).expanduser().exists():
        return f"folder:{Path(name_or_path).expanduser()}"
    DATASETS.get(name_or_path)  # raises UnknownNameError with did-you-mean
    return name_or_path


@command.command("inspect")
@click.argument("name_or_path")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the real datasets (default $VIDBENCH_DATA).")
@click.option("--split", default=None, help="Split (default: the dataset's default split).")
@click.option("--num-frames", type=int, default=16, show_default=True, help="Frames per clip.")
@click.option("--size", type=int, default=64, show_default=True, help="Output side in pixels.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Preprocessing field, e.g. --set stride=1 --set resize_filter=bicubic.")
@click.option("--json", "as_json", is_flag=True, help="Print the info record as JSON.")
def inspect_cmd(name_or_path, data_root, split, num_frames, size, seed, overrides, as_json):
    """Print number of videos, frames, resolution, fps and the fingerprint of NAME_OR_PATH.

    NAME_OR_PATH is a registered dataset (`vidbench list datasets`), `folder:PATH`, or a path to any tree of videos.

    \b
    Example:
      vidbench data inspect synthetic_sky --size 128
      vidbench data inspect /work/shared/data/video/action --json
    """
    import warnings

    from vidbench.datasets import build_dataset

    kw = {}
    for item in overrides:
        if "=" not in item:
            raise VidbenchError(f"bad --set {item!r}: use KEY=VALUE")
        k, v = item.split("=", 1)
        kw[k.strip()] = v.strip()
    name = _resolve_name(name_or_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = build_dataset(name, split=split, num_frames=num_frames, size=size, seed=seed, data_root=data_root, **kw)
        info = ds.info()
    info["warnings"] = [str(w.message) for w in caught]
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    res = info["resolution"]
    lines = [
        f"dataset      {info['name']}  (split {info['split']})",
        (f"images       {info['num_videos']}  (found {info['images_found']}; clips of 1 frame)" if "images_found" in info
         else f"videos       {info['num_videos']}" + (f"  (found {info['videos_found']})" if "videos_found" in info else "")),
        f"frames/clip  {info['num_frames']}",
        f"resolution   {res[0]}x{res[1]}",
        f"fps          {info['fps'] if info['fps'] is not None else 'unknown'}"
        + (f"  (clip fps {info['clip_fps']:g})" if info.get("clip_fps") else ""),
        f"fingerprint  {info['fingerprint']}",
    ]
    if "source_frames" in info:
        sf = info["source_frames"]
        lines.append(f"source       frames min {sf['min']} / median {sf['median']:g} / max {sf['max']}; "
                     f"sizes (HxW) {', '.join('x'.join(map(str, r)) if isinstance(r, list) else r for r in info['source_resolutions'])}")
    if "skipped" in info:
        s = info["skipped"]
        lines.append(f"skipped      {s['too_short']} too short (< {s['need_frames']} frames), {s['unreadable']} unreadable"
                     + (f"; e.g. {', '.join(s['examples'][:3])}" if s["examples"] else ""))
    if "expected_videos" in info:
        lines.append(f"complete     {info['complete']} (official count {info['expected_videos']})")
    if info.get("root"):
        lines.append(f"root         {info['root']}")
    pre = ", ".join(f"{k}={v}" for k, v in info["preprocessing"].items())
    lines.append(f"preprocess   {pre}")
    for w in info["warnings"]:
        lines.append(f"warning      {w}")
    click.echo("\n".join(lines))
