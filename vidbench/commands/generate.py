"""`vidbench generate` — sample videos from a trained model: unconditional (any length, interpolation), MoCoGAN-HD
content/motion swaps (paper Fig. 5/6), cross-domain (``--image-generator`` from another dataset) and video prediction
(``--predict``: invert the first frame, Eqn. 8, then run G_M from ẑ₁; §4.1 Tab. 3, with the UP-B numbers)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import numpy as np

from vidbench.errors import MissingCapabilityError, VidbenchError


def _write_outputs(run_dir: Path, videos: np.ndarray, fps: float, grid_cols: int | None = None) -> dict:
    from PIL import Image

    from vidbench.models.mocogan_hd.sampling import grid_image, grid_video
    from vidbench.video import write_video, write_videos_npz

    paths = []
    for i, v in enumerate(videos):
        paths.append(str(write_video(run_dir / "samples" / f"{i:06d}.mp4", v, fps=fps)))
    write_videos_npz(run_dir / "samples.npz", videos)
    gv = grid_video(videos[:64], cols=grid_cols)
    write_video(run_dir / "grid.gif", gv, fps=fps)
    Image.fromarray(grid_image(videos[:16])).save(run_dir / "grid.png")
    return {"samples": paths, "npz": str(run_dir / "samples.npz"), "grid_gif": str(run_dir / "grid.gif"),
            "grid_png": str(run_dir / "grid.png")}


def _read_first_frame(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 [H,W,3] first frame and, for a video, all frames [T,H,W,3]."""
    p = Path(path)
    if not p.exists():
        raise VidbenchError(f"{p}: --predict input not found")
    if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
        from PIL import Image

        return np.asarray(Image.open(p).convert("RGB")), None
    from vidbench.video import read_video

    v = read_video(p)
    return v[0], v


def _psnr_ssim(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    return (float(peak_signal_noise_ratio(a, b, data_range=255)),
            float(structural_similarity(a, b, data_range=255, channel_axis=-1)))


def _invert(G, frame: np.ndarray, seed: int, device, iterations: int, lambda_vgg: float, noise_mode: str,
            progress: bool = True):
    """ẑ₁ (a W code) for one uint8 frame with vidbench.models.inversion (Eqn. 8); returns (w [1,D], x, G(ẑ₁), info)."""
    import torch

    try:
        from vidbench.models.inversion import InversionConfig, invert
    except ImportError as e:  # pragma: no cover
        raise MissingCapabilityError(f"--predict needs vidbench.models.inversion (Eqn. 8): {e}") from None
    x = torch.from_numpy(np.array(frame, dtype=np.uint8, copy=True)).float().div(127.5).sub(1).permute(2, 0, 1)[None].to(device)
    if x.shape[-1] != G.size or x.shape[-2] != G.size:  # centre-crop to a square, resize to the generator size
        h, w = x.shape[-2:]
        s = min(h, w)
        x = x[..., (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        x = torch.nn.functional.interpolate(x, size=(G.size, G.size), mode="bilinear", antialias=True,
                                            align_corners=False)
    cfg = InversionConfig(iterations=iterations, lambda_vgg=lambda_vgg, space="w", seed=seed,
                          noise_mode="none" if noise_mode == "none" else "const")
    res = invert(G, x, cfg, progress=progress)
    return res.w.reshape(1, -1), x, res.image, res.info


@click.command()
@click.option("--model", "model", default="mocohd", show_default=True, help="Registered video model (vidbench list models).")
@click.option("--checkpoint", required=True, help="Run folder, trainer .pt, or the released MoCoGAN-HD folder.")
@click.option("--num", type=click.IntRange(min=1), default=16, show_default=True, help="Number of videos.")
@click.option("--frames", type=click.IntRange(min=1), default=16, show_default=True, help="Motion codes per video (G_M unroll length).")
@click.option("--interpolate", type=click.IntRange(min=0), default=0, show_default=True,
              help="Codes inserted between consecutive latents (1: 16 -> 31 frames, §4.4).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", default="runs", show_default=True, help="Parent folder of the output run folder.")
@click.option("--swap", type=click.Choice(["content", "motion"]), default=None,
              help="content: one z1, different motion codes (Fig. 5); motion: one motion code, different z1 (Fig. 6).")
@click.option("--predict", "predict", default=None,
              help="Image or video: invert its first frame (Eqn. 8) and predict the rest from ẑ1 (§4.1, Tab. 3).")
@click.option("--image-generator", "image_generator", default=None,
              help="Render with this StyleGAN2 instead of the checkpoint's (cross-domain; same W size).")
@click.option("--no-noise", "no_noise", is_flag=True, help="Disable StyleGAN2 noise inputs (App. D).")
@click.option("--fps", type=float, default=10.0, show_default=True)
@click.option("--invert-iterations", type=int, default=20_000, show_default=True,
              help="--predict: Eqn. 8 iterations (App. B: 20,000).")
@click.option("--lambda-vgg", type=float, default=1.0, show_default=True,
              help="--predict: VGG perceptual weight of Eqn. 8 (App. B: 1; 0 works without the VGG16 file).")
@click.option("--device", default=None, help="cpu or cuda (default: cuda when available).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record on stdout.")
def command(model, checkpoint, num, frames, interpolate, seed, out, swap, predict, image_generator, no_noise, fps,
            invert_iterations, lambda_vgg, device, as_json):
    """Sample videos and write samples/*.mp4, samples.npz, grid.gif and grid.png into a new run folder.

    \b
    Example:
      vidbench generate --model mocohd --checkpoint runs/mocohd-moving_mnist-... --num 8 --frames 32 --interpolate 1
      vidbench generate --checkpoint pretrained/ucf101 --swap content --num 4
    """
    import torch

    from vidbench.records import new_record, new_run_dir, write_config, write_result
    from vidbench.registry import MODELS

    if num < 1 or frames < 1 or interpolate < 0:
        raise VidbenchError("--num and --frames must be >= 1 and --interpolate >= 0")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    entry = MODELS.get(model)
    t0 = time.time()
    metrics: dict = {}
    extra: dict = {"frames": frames, "interpolate": interpolate, "swap": swap, "predict": predict,
                   "no_noise": no_noise, "image_generator": image_generator}
    noise_mode = "none" if no_noise else "video"
    if entry.name != "mocohd":
        if swap or predict or image_generator:
            raise VidbenchError(f"--swap/--predict/--image-generator are MoCoGAN-HD features; {model} supports plain sampling")
        sampler = entry.obj(checkpoint, device=device)
        videos = np.concatenate(list(sampler.sample(num, num_frames=frames, seed=seed, batch_size=min(num, 16))))[:num]
        recipe, ck_hash = getattr(sampler, "recipe", None), getattr(sampler, "checkpoint_hash", None)
    else:
        from vidbench.models.mocogan_hd.released import load_model
        from vidbench.models.mocogan_hd.sampling import content_motion_swap, predict_video, to_uint8_video

        mh, meta = load_model(checkpoint, image_generator=image_generator, device=device)
        recipe = mh.recipe
        ck_hash = meta.get("modelR_sha256") or meta.get("checkpoint_sha256")
        if predict:
            first, real = _read_first_frame(predict)
            pred_noise = "none" if no_noise else "const"  # the inversion holds the stored noise maps fixed
            z1_hat, x1, rec, inv_info = _invert(mh.image_generator, first, seed, device, invert_iterations,
                                                lambda_vgg, pred_noise, progress=not as_json)
            extra["inversion"] = inv_info
            rec_u8 = to_uint8_video(rec[:, None])[0, 0]  # G_I(ẑ1)
            x1_u8 = to_uint8_video(x1[:, None])[0, 0]
            p, s = _psnr_ssim(rec_u8, x1_u8)
            metrics["upb_psnr"] = p  # UP-B of Tab. 3: PSNR/SSIM between x1 and G_I(ẑ1)
            metrics["upb_ssim"] = s
            v = predict_video(mh, z1_hat.expand(num, -1), frames, interpolate=interpolate, seed=seed,
                              noise_mode=pred_noise)
            videos = to_uint8_video(v)
            if real is not None and len(real) >= 2:  # PSNR/SSIM of the prediction vs the real clip (same frames)
                import torch.nn.functional as F

                n_t = min(len(real), videos.shape[1])
                r = torch.from_numpy(real[:n_t]).permute(0, 3, 1, 2).float()
                r = F.interpolate(r, size=videos.shape[2:4], mode="bilinear", antialias=True, align_corners=False)
                r = r.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
                ps = [np.mean([_psnr_ssim(videos[i, t], r[t])[0] for t in range(n_t)]) for i in range(len(videos))]
                ss = [np.mean([_psnr_ssim(videos[i, t], r[t])[1] for t in range(n_t)]) for i in range(len(videos))]
                metrics["pred_psnr"] = float(np.mean(ps))
                metrics["pred_ssim"] = float(np.mean(ss))
        elif swap:
            videos = to_uint8_video(content_motion_swap(mh, swap, num, frames, seed=seed, interpolate=interpolate,
                                                        noise_mode=noise_mode))
        else:
            chunks = []
            for i, s in enumerate(range(0, num, 16)):
                b = min(16, num - s)
                chunks.append(to_uint8_video(mh.sample(b, frames, seed=seed * 1_000_003 + i, interpolate=interpolate,
                                                       noise_mode=noise_mode)))
            videos = np.concatenate(chunks)
    run_dir = new_run_dir(out, model, "generate")
    write_config(run_dir, {"model": model, "checkpoint": str(checkpoint), "num": num, "seed": seed, "fps": fps,
                           "recipe": recipe, **extra})
    files = _write_outputs(run_dir, videos, fps, grid_cols=num if swap else None)
    from vidbench.records import metric_result

    rec_metrics = {}
    for name, value in metrics.items():
        rec_metrics[name] = metric_result(
            value=value, protocol={"name": name, "frames": frames, "interpolate": interpolate,
                                   "definition": "skimage PSNR/SSIM, data_range 255, RGB"},
            detector=None, weights_hash=None, weights_verified=None, comparable=False, elapsed_s=time.time() - t0,
            warnings=["video-prediction numbers on one input; Tab. 3 averages over the Sky test set"], n_fake=num)
    record = new_record(model=model, dataset=None, seed=seed, metrics=rec_metrics, checkpoint=str(checkpoint),
                        checkpoint_hash=ck_hash, recipe=recipe, command="generate")
    write_result(run_dir, record)
    if as_json:
        click.echo(json.dumps({**record, "run_dir": str(run_dir), "files": files}, indent=2, default=str))
    else:
        click.echo(f"{len(videos)} videos [{videos.shape[1]} frames, {videos.shape[2]}x{videos.shape[3]}] -> {run_dir}")
        for name, value in metrics.items():
            click.echo(f"{name} = {value:.4f}")
