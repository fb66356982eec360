"""Load the authors' released MoCoGAN-HD models into ``mocohd`` (recipe ``released``), and our own checkpoints.

A released model is three files (snap-research/MoCoGAN-HD README, ``../shared/MOCOGAN_HD_FACTS.md`` §5-6):

* ``modelR_epoch_N.pth`` — the ``RNNModule`` state dict saved from DistributedDataParallel, so every key carries a
  ``module.`` prefix. Keys and shapes (z_dim 512, h_dim 384, n_pca 384) are listed in :data:`RELEASED_RNN_KEYS`.
* the rosinality-format StyleGAN2 ``.pt`` (``g_ema``), loaded by ``vidbench.models.stylegan2``;
* ``pca_comp.npy`` [512, 512] (rows = PCA directions) and ``pca_stdev.npy`` [512] (sqrt of explained variance);
  the RNN uses the first ``n_pca`` rows. They are not inside ``modelR`` (the released module keeps them as plain
  tensors, not buffers).

Loading is explicit: every expected key is remapped by name (``module.`` stripped, ``enc_cell``/``cell``/``w``/``b``/
``fc1``/``fc2`` kept), shapes are checked against the expected table, unknown or missing keys are errors, and files are
read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import torch
from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config
from vidbench.models.mocogan_hd.motion_generator import MotionGenerator, build_motion_generator
from vidbench.models.mocogan_hd.sampling import MoCoGANHD, MoCoGANHDSampler

from vidbench.errors import VidbenchError


def released_rnn_keys(z_dim: int = 512, h_dim: int = 384, n_pca: int = 384) -> dict[str, tuple[int, ...]]:
    """The keys of a released ``modelR_epoch_N.pth`` (with the DDP ``module.`` prefix) and their shapes."""
    keys: dict[str, tuple[int, ...]] = {}
    for cell in ("enc_cell", "cell"):
        keys[f"module.{cell}.weight_ih"] = (4 * h_dim, z_dim)
        keys[f"module.{cell}.weight_hh"] = (4 * h_dim, h_dim)
        keys[f"module.{cell}.bias_ih"] = (4 * h_dim,)
        keys[f"module.{cell}.bias_hh"] = (4 * h_dim,)
    keys["module.w"] = (h_dim, n_pca)
    keys["module.b"] = (n_pca,)
    keys["module.fc1.weight"] = (z_dim, 2 * h_dim)
    keys["module.fc1.bias"] = (z_dim,)
    keys["module.fc2.weight"] = (z_dim, z_dim)
    keys["module.fc2.bias"] = (z_dim,)
    return keys


RELEASED_RNN_KEYS = released_rnn_keys()

# released key (without "module.") -> our MotionGenerator key
_KEY_MAP = {
    **{f"{c}.{p}": f"{c}.{p}" for c in ("enc_cell", "cell") for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
    "w": "w",
    "b": "b",
    "fc1.weight": "fc1.weight",
    "fc1.bias": "fc1.bias",
    "fc2.weight": "fc2.weight",
    "fc2.bias": "fc2.bias",
}


def _load(path: Path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise VidbenchError(f"{path}: no such file") from None
    except Exception as e:
        raise VidbenchError(f"{path}: cannot read with torch.load(weights_only=True): {type(e).__name__}: "
                            f"{str(e).splitlines()[0] if str(e) else ''}") from None


def remap_released_rnn(sd: dict, source: str = "modelR") -> tuple[dict[str, torch.Tensor], dict]:
    """Released ``RNNModule`` state dict -> our :class:`MotionGenerator` keys; returns (state, dims).

    dims = {latent_dim, hidden_dim, n_pca} read from the shapes, then every shape is checked against
    :func:`released_rnn_keys` for those dims.
    """
    if not isinstance(sd, dict):
        raise VidbenchError(f"{source}: expected a state dict, got {type(sd).__name__}")
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    stripped = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}
    for need in ("enc_cell.weight_ih", "w"):
        if need not in stripped:
            raise VidbenchError(f"{source}: missing key 'module.{need}' — not a MoCoGAN-HD modelR_epoch_N.pth "
                                f"(keys: {sorted(sd)[:6]})")
    h4, z_dim = stripped["enc_cell.weight_ih"].shape
    h_dim, n_pca = stripped["w"].shape
    if h4 != 4 * h_dim:
        raise VidbenchError(f"{source}: enc_cell.weight_ih rows {h4} != 4 × h_dim {h_dim}")
    expected = {k[len("module."):]: s for k, s in released_rnn_keys(z_dim, h_dim, n_pca).items()}
    missing = sorted(set(expected) - set(stripped))
    unknown = sorted(set(stripped) - set(expected))
    if missing or unknown:
        raise VidbenchError(f"{source}: key mismatch: missing {['module.' + k for k in missing]}, "
                            f"unexpected {['module.' + k for k in unknown]}")
    out = {}
    for k, shape in expected.items():
        v = stripped[k]
        if tuple(v.shape) != shape:
            raise VidbenchError(f"{source}: 'module.{k}' has shape {list(v.shape)}, expected {list(shape)}")
        out[_KEY_MAP[k]] = v.float()
    return out, {"latent_dim": int(z_dim), "hidden_dim": int(h_dim), "n_pca": int(n_pca)}


def load_pca_npy(folder_or_comp: str | os.PathLike, n_pca: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``pca_comp.npy`` [512, 512] + ``pca_stdev.npy`` [512] (a folder holding both, or the comp file's path)."""
    p = Path(folder_or_comp)
    comp_path = p if p.is_file() else p / "pca_comp.npy"
    std_path = comp_path.with_name("pca_stdev.npy")
    for f in (comp_path, std_path):
        if not f.exists():
            raise VidbenchError(f"{f}: not found; the released model needs pca_comp.npy and pca_stdev.npy "
                                "(MoCoGAN-HD pca_stats/<dataset>/, or compute them with `vidbench pca`)")
    comp = np.load(comp_path, allow_pickle=False)
    std = np.load(std_path, allow_pickle=False)
    if comp.ndim != 2 or std.ndim != 1 or comp.shape[0] != std.shape[0]:
        raise VidbenchError(f"{comp_path}: PCA shapes {comp.shape} / {std.shape} are not [K, D] / [K]")
    if n_pca is not None:
        if comp.shape[0] < n_pca:
            raise VidbenchError(f"{comp_path}: {comp.shape[0]} components, the model needs {n_pca}")
        comp, std = comp[:n_pca], std[:n_pca]
    return torch.from_numpy(np.ascontiguousarray(comp)).float(), torch.from_numpy(np.ascontiguousarray(std)).float()


def load_pca_file(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """PCA of W for training: our ``.npz`` (vidbench.models.latent_pca) or a folder with the released ``.npy`` files.

    Returns (components [K, D], std [K], meta).
    """
    p = Path(path)
    if p.is_dir() or p.suffix == ".npy":
        comp, std = load_pca_npy(p)
        return comp, std, {"path": str(p), "format": "released-npy"}
    if not p.exists():
        raise VidbenchError(f"{p}: PCA file not found (make one with `vidbench pca --image-generator CKPT`)")
    try:  # the PCA module's own loader (vidbench.models.latent_pca, .npz written by `vidbench pca`)
        from vidbench.models.latent_pca import load_pca
    except ImportError:  # pragma: no cover
        load_pca = None
    if load_pca is not None:
        try:
            w = load_pca(p)
        except VidbenchError:
            raise
        except Exception as e:  # noqa: BLE001 - a truncated/corrupt npz (BadZipFile, EOFError, ValueError, ...)
            raise VidbenchError(f"{p}: cannot read the PCA file ({type(e).__name__}: {e}); recompute it with "
                                "`vidbench pca --image-generator CKPT`") from None
        return (torch.from_numpy(np.asarray(w.components)).float(), torch.from_numpy(np.asarray(w.stdev)).float(),
                {"path": str(p), "format": "npz", "n_samples": int(w.n_samples)})
    with np.load(p, allow_pickle=False) as z:
        keys = set(z.files)
        ck = next((k for k in ("components", "V", "pca_comp", "comp") if k in keys), None)
        sk = next((k for k in ("std", "stdev", "pca_stdev", "sigma") if k in keys), None)
        if ck is None or sk is None:
            raise VidbenchError(f"{p}: no PCA components/std arrays (keys: {sorted(keys)})")
        comp, std = z[ck], z[sk]
    return torch.from_numpy(comp).float(), torch.from_numpy(std).float(), {"path": str(p), "format": "npz"}


def _find_modelr(path: Path, epoch: int | None) -> Path:
    if path.is_file():
        return path
    cands = sorted(path.glob("modelR_epoch_*.pth"))
    if not cands:
        raise VidbenchError(f"{path}: no modelR_epoch_N.pth (the released MoCoGAN-HD motion generator)")
    def num(p: Path) -> int:
        m = re.search(r"modelR_epoch_(\d+)\.pth$", p.name)
        return int(m.group(1)) if m else -1
    if epoch is not None:
        for c in cands:
            if num(c) == epoch:
                return c
        raise VidbenchError(f"{path}: no modelR_epoch_{epoch}.pth (found {[c.name for c in cands]})")
    return max(cands, key=num)


def _find_image_generator(folder: Path) -> Path:
    cands = [p for p in sorted(folder.glob("*.pt")) if not p.name.startswith("modelR")]
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise VidbenchError(f"{folder}: no StyleGAN2 .pt next to modelR_epoch_N.pth; pass --image-generator CKPT")
    raise VidbenchError(f"{folder}: several .pt files {[c.name for c in cands]}; pass --image-generator CKPT")


def _find_pca(folder: Path) -> Path:
    hits = sorted(folder.rglob("pca_comp.npy"))
    if not hits:
        raise VidbenchError(f"{folder}: no pca_comp.npy/pca_stdev.npy (MoCoGAN-HD pca_stats/<dataset>/); pass pca=DIR")
    if len(hits) > 1:
        raise VidbenchError(f"{folder}: several pca_comp.npy {[str(h) for h in hits]}; pass pca=DIR")
    return hits[0].parent


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_released(checkpoint: str | os.PathLike, *, image_generator: str | os.PathLike | None = None,
                  pca: str | os.PathLike | None = None, epoch: int | None = None, w_residual: float = 0.2,
                  device: str | torch.device = "cpu") -> tuple[MoCoGANHD, dict]:
    """The authors' model as a :class:`MoCoGANHD` with recipe ``released``.

    checkpoint: ``modelR_epoch_N.pth`` or the folder holding it (highest N unless ``epoch``); image_generator: the
    rosinality ``.pt`` (default: the single other ``.pt`` in that folder); pca: folder of ``pca_comp.npy`` /
    ``pca_stdev.npy`` (default: searched below the folder). ``w_residual``: λ (released default 0.2).
    """
    from vidbench.models.stylegan2 import load_rosinality_checkpoint

    ck = Path(checkpoint)
    folder = ck if ck.is_dir() else ck.parent
    modelr = _find_modelr(ck, epoch)
    state, dims = remap_released_rnn(_load(modelr), str(modelr))
    g_path = Path(image_generator) if image_generator is not None else _find_image_generator(folder)
    G, g_meta = load_rosinality_checkpoint(g_path, device=device)
    if G.style_dim != dims["latent_dim"]:
        raise VidbenchError(f"{g_path}: style_dim {G.style_dim} != motion generator latent size {dims['latent_dim']}")
    basis, std = load_pca_npy(Path(pca) if pca is not None else _find_pca(folder), dims["n_pca"])
    if basis.shape[1] != dims["latent_dim"]:
        raise VidbenchError(f"PCA components have width {basis.shape[1]}, the model needs {dims['latent_dim']}")
    cfg = resolve_config(MoCoGANHDConfig(recipe="released", w_residual=w_residual, **dims))
    gm = build_motion_generator(cfg, basis, std)
    try:
        missing, unexpected = gm.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shapes that pass the key table but not the module (e.g. a hand-edited file)
        raise VidbenchError(f"{modelr}: weights do not fit the released motion generator "
                            f"({str(e).strip().splitlines()[-1].strip()[:200]})") from None
    missing = [k for k in missing if k not in ("pca_basis", "pca_std")]
    if missing or unexpected:  # pragma: no cover - guarded by remap_released_rnn
        raise VidbenchError(f"{modelr}: could not load {missing} / {unexpected}")
    model = MoCoGANHD(G, gm, recipe="released", config=cfg).to(device).eval()
    meta = {"format": "released", "modelR": str(modelr), "modelR_sha256": sha256_of(modelr),
            "image_generator": str(g_path), "image_generator_config": g_meta.get("config"), "config": cfg}
    return model, meta


def load_trained(checkpoint: str | os.PathLike, *, image_generator: str | os.PathLike | None = None,
                 device: str | torch.device = "cpu") -> tuple[MoCoGANHD, dict]:
    """Our trainer's checkpoint (a ``.pt`` or a run folder with ``checkpoints/latest.pt``) as a :class:`MoCoGANHD`."""
    from vidbench.models.mocogan_hd.trainer import CKPT_FORMAT
    from vidbench.models.stylegan2 import load_rosinality_checkpoint

    from vidbench.config import config_from_dict

    p = Path(checkpoint)
    if p.is_dir():
        p = p / "checkpoints" / "latest.pt"
    sd = _load(p)
    if not isinstance(sd, dict) or sd.get("format") != CKPT_FORMAT:
        raise VidbenchError(f"{p}: not a vidbench MoCoGAN-HD checkpoint")
    try:
        cfg = config_from_dict(MoCoGANHDConfig, sd["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise VidbenchError(f"{p}: checkpoint has no valid MoCoGAN-HD config ({e})") from None
    meta = sd.get("meta") or {}
    g_path = image_generator or (meta.get("image_generator") or {}).get("path")
    if not g_path:
        raise VidbenchError(f"{p}: the checkpoint does not name its image generator; pass --image-generator CKPT")
    if not Path(g_path).exists():
        raise VidbenchError(f"{g_path}: image generator recorded in {p} not found; pass --image-generator CKPT")
    G, _ = load_rosinality_checkpoint(g_path, device=device)
    try:
        gm: MotionGenerator = build_motion_generator(cfg)
        gm.load_state_dict(sd["motion_generator"])
    except (KeyError, ValueError, RuntimeError) as e:  # tampered shapes, a config that does not match the weights
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        detail = "; ".join(ln.strip() for ln in str(e).splitlines()[1:3] if ln.strip())
        raise VidbenchError(f"{p}: the motion generator weights do not match the checkpoint's config "
                            f"({first[:120]}{': ' + detail[:200] if detail else ''}); the file is damaged or was "
                            "edited") from None
    model = MoCoGANHD(G, gm, recipe=cfg.recipe, config=cfg).to(device).eval()
    return model, {"format": "vidbench", "checkpoint": str(p), "checkpoint_sha256": sha256_of(p), "step": sd["step"],
                   "image_generator": str(g_path), "config": cfg}


def load_model(checkpoint: str | os.PathLike, *, image_generator=None, device="cpu", **kw) -> tuple[MoCoGANHD, dict]:
    """Dispatch: released (``modelR_epoch_N.pth`` / its folder) or ours (trainer ``.pt`` / run folder)."""
    p = Path(checkpoint)
    if not p.exists():
        raise VidbenchError(f"{p}: checkpoint not found")
    released = (p.is_file() and p.name.startswith("modelR")) or (p.is_dir() and any(p.glob("modelR_epoch_*.pth")))
    if released:
        return load_released(p, image_generator=image_generator, device=device, **kw)
    return load_trained(p, image_generator=image_generator, device=device)


def load_sampler(checkpoint: str | os.PathLike | None, *, device: str = "cpu", image_generator=None,
                 noise_mode: str = "video", interpolate: int = 0, **kw) -> MoCoGANHDSampler:
    """MODELS["mocohd"] loader for ``vidbench eval`` (vidbench/sampler.py protocol)."""
    if checkpoint is None:
        raise VidbenchError("mocohd needs --checkpoint (a run folder, a trainer .pt, or the released modelR folder)")
    model, meta = load_model(checkpoint, image_generator=image_generator, device=device, **kw)
    h = meta.get("modelR_sha256") or meta.get("checkpoint_sha256")
    info = {k: v for k, v in meta.items() if k != "config"}
    return MoCoGANHDSampler(model, checkpoint_hash=h, recipe=model.recipe, info=info, noise_mode=noise_mode,
                            interpolate=interpolate)


__all__ = [
    "RELEASED_RNN_KEYS",
    "load_model",
    "load_pca_file",
    "load_pca_npy",
    "load_released",
    "load_sampler",
    "load_trained",
    "released_rnn_keys",
    "remap_released_rnn",
]
