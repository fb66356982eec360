"""`vidbench pca --image-generator CKPT [--samples M] [--out NPZ]` — W-space PCA file (the V and std of Eqn. 2)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from vidbench.errors import VidbenchError


@click.command()
@click.option("--image-generator", "ckpt", required=True,
              help="StyleGAN2 checkpoint: rosinality .pt (g_ema), a `vidbench train image` checkpoint, or a "
                   "registered weights name such as stylegan2.ffhq256_rosinality.")
@click.option("--samples", type=int, default=1_000_000, show_default=True, help="Number of z codes (paper App. A.1).")
@click.option("--batch-size", type=int, default=4000, show_default=True, help="Codes per batch (official: 4000).")
@click.option("--components", type=int, default=384, show_default=True, help="Components kept (n_pca, App. A.1).")
@click.option("--method", type=click.Choice(["covariance", "incremental"]), default="covariance", show_default=True,
              help="float64 streaming covariance + eigh (exact), or sklearn IncrementalPCA (the official code).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--weights-dir", default=None, help="Folder holding registered weight files.")
@click.option("--out", "out", default=None, help="Output .npz (default: pca_<checkpoint stem>.npz).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def command(ckpt, samples, batch_size, components, method, seed, device, weights_dir, out, as_json):
    """Sample codes through the mapping network and save the top PCA directions of W.

    \b
    Example:
      vidbench pca --image-generator pretrained/ffhq_256.pt --samples 1000000 --out pca_ffhq256.npz
    """

    from vidbench.models.latent_pca import compute_w_pca, save_pca
    from vidbench.models.stylegan2 import load_rosinality_checkpoint
    from vidbench.weights import resolve_weights

    if samples < 2 or batch_size < 1:
        raise VidbenchError("--samples must be >= 2 and --batch-size >= 1")
    resolved = resolve_weights(ckpt, weights_dir=weights_dir)
    G, meta = load_rosinality_checkpoint(resolved.path, device=device)
    out = Path(out) if out else Path(f"pca_{Path(resolved.path).stem}.npz")
    t0 = time.time()
    pca = compute_w_pca(G, samples, batch_size, components, seed=seed, device=device, method=method,
                        progress=not as_json)
    save_pca(out, pca, {"checkpoint": str(resolved.path), "checkpoint_sha256": resolved.sha256,
                        "generator_config": meta["config"]})
    summary = {
        "out": str(out),
        "checkpoint": str(resolved.path),
        "checkpoint_sha256": resolved.sha256,
        "n_samples": pca.n_samples,
        "n_components": pca.n_components,
        "explained_variance_ratio_kept": float(pca.explained_variance_ratio.sum()),
        "top_stdev": [float(s) for s in pca.stdev[:5]],
        "elapsed_s": round(time.time() - t0, 3),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"wrote {out}: {pca.n_components} components from {pca.n_samples} codes, "
                   f"{100 * summary['explained_variance_ratio_kept']:.2f}% of W variance kept")
