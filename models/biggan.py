"""BigGAN (Brock et al. 2019) generator and SN-ResNet discriminator, ajbrock/BigGAN-PyTorch architecture and key names.

* :class:`BigGANGenerator` — class-conditional ResNet generator with shared class embedding, hierarchical z
  (``hier``), conditional BatchNorm (``ccbn``), optional self-attention, spectral norm on every conv/linear
  (ajbrock's own SN: raw ``weight`` + buffers ``u0`` [1,out] and ``sv0`` [1]). Used for BigGAN-as-image-generator
  experiments with z-space motion (MoCoGAN-HD paper App. A.1).
* :class:`BigGANDiscriminator` — the SN-ResNet BigGAN discriminator. MoCoGAN-HD's cross-domain image discriminator
  D_I and its contrastive feature extractor (paper App. A.2.2) reuse it **without self-attention**, with D_wide=True,
  ReLU and a sum-pooled trunk; ``features(x) -> [B, C]`` exposes that trunk (optionally followed by an SN-Linear
  projection + ReLU, as the released D_img's ``proj0``), ``forward(x) -> [B,1]``.
* :func:`load_biggan_checkpoint` / :func:`load_biggan_discriminator` read ``G.pth``/``G_ema.pth``/``D.pth`` state
  dicts (CHECKPOINT_FORMATS.md §5a) with explicit key mapping and shape checks; :func:`remap_torch_spectral_norm`
  converts ``torch.nn.utils.spectral_norm`` key names (``weight_orig``/``weight_u``/``weight_v``) to ours.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.errors import VidbenchError
from vidbench.registry import MODELS
from vidbench.weights import WeightSpec, load_state_dict_checked, register_weights


# ---------------------------------------------------------------------------------------------- spectral norm
class SN:
    """Mixin: spectral normalisation by power iteration with persistent ``u0`` [1,out] / ``sv0`` [1] buffers.

    One singular value, one iteration per forward (ajbrock num_G_SVs = num_G_SV_itrs = 1); ``u0`` and ``sv0`` are
    updated only in training mode; the weight is divided by the current estimate of sigma.
    """

    def _init_sn(self, num_outputs: int, eps: float):
        self.sn_eps = eps
        self.register_buffer("u0", torch.randn(1, num_outputs))
        self.register_buffer("sv0", torch.ones(1))

    def W_(self) -> torch.Tensor:
        W = self.weight.view(self.weight.size(0), -1)  # [out, in*k*k]
        with torch.no_grad():
            v = F.normalize(self.u0 @ W, eps=self.sn_eps)  # [1,in*k*k]
            u = F.normalize(v @ W.t(), eps=self.sn_eps)  # [1,out]
            if self.training:
                self.u0.copy_(u)
        sv = torch.squeeze((v @ W.t()) @ u.t())
        if self.training:
            with torch.no_grad():
                self.sv0.copy_(sv.detach().view(1))
        return self.weight / sv


class SNConv2d(nn.Conv2d, SN):
    def __init__(self, in_ch, out_ch, kernel_size=3, padding=1, bias=True, eps=1e-6):
        nn.Conv2d.__init__(self, in_ch, out_ch, kernel_size, padding=padding, bias=bias)
        self._init_sn(out_ch, eps)

    def forward(self, x):
        return F.conv2d(x, self.W_(), self.bias, self.stride, self.padding)


class SNLinear(nn.Linear, SN):
    def __init__(self, in_f, out_f, bias=True, eps=1e-6):
        nn.Linear.__init__(self, in_f, out_f, bias=bias)
        self._init_sn(out_f, eps)

    def forward(self, x):
        return F.linear(x, self.W_(), self.bias)


class SNEmbedding(nn.Embedding, SN):
    def __init__(self, num_embeddings, dim, eps=1e-6):
        nn.Embedding.__init__(self, num_embeddings, dim)
        self._init_sn(num_embeddings, eps)

    def forward(self, y):
        return F.embedding(y, self.W_())


# ---------------------------------------------------------------------------------------------- building blocks
class CCBN(nn.Module):
    """Class-conditional BatchNorm: gain = 1 + SNLinear(y), bias = SNLinear(y); running stats stored_mean/var."""

    def __init__(self, channels: int, cond_dim: int, eps: float = 1e-5, sn_eps: float = 1e-6, momentum: float = 0.1):
        super().__init__()
        self.gain = SNLinear(cond_dim, channels, bias=False, eps=sn_eps)
        self.bias = SNLinear(cond_dim, channels, bias=False, eps=sn_eps)
        self.eps, self.momentum = eps, momentum
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))

    def forward(self, x, y):  # x [B,C,H,W], y [B,cond_dim]
        gain = (1 + self.gain(y)).view(y.size(0), -1, 1, 1)
        bias = self.bias(y).view(y.size(0), -1, 1, 1)
        out = F.batch_norm(x, self.stored_mean, self.stored_var, None, None, self.training, self.momentum, self.eps)
        return out * gain + bias


class BN(nn.Module):
    """Unconditional BatchNorm with ajbrock's parameter names (gain, bias, stored_mean, stored_var)."""

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps, self.momentum = eps, momentum
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, self.stored_mean, self.stored_var, self.gain, self.bias, self.training, self.momentum,
                            self.eps)


class Attention(nn.Module):
    """SAGAN self-attention with theta/phi (C/8), g (C/2), o; phi and g max-pooled 2x; gamma starts at 0."""

    def __init__(self, ch: int, sn_eps: float = 1e-6):
        super().__init__()
        self.ch = ch
        self.theta = SNConv2d(ch, ch // 8, 1, padding=0, bias=False, eps=sn_eps)
        self.phi = SNConv2d(ch, ch // 8, 1, padding=0, bias=False, eps=sn_eps)
        self.g = SNConv2d(ch, ch // 2, 1, padding=0, bias=False, eps=sn_eps)
        self.o = SNConv2d(ch // 2, ch, 1, padding=0, bias=False, eps=sn_eps)
        self.gamma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x, y=None):
        b, c, h, w = x.shape
        theta = self.theta(x).view(b, c // 8, h * w)  # [B,C/8,HW]
        phi = F.max_pool2d(self.phi(x), 2).view(b, c // 8, h * w // 4)  # [B,C/8,HW/4]
        g = F.max_pool2d(self.g(x), 2).view(b, c // 2, h * w // 4)  # [B,C/2,HW/4]
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)  # [B,HW,HW/4]
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(b, c // 2, h, w))
        return x + self.gamma * o


class GBlock(nn.Module):
    def __init__(self, in_ch, out_ch, cond_dim, upsample=True, bn_eps=1e-5, sn_eps=1e-6):
        super().__init__()
        self.bn1 = CCBN(in_ch, cond_dim, bn_eps, sn_eps)
        self.conv1 = SNConv2d(in_ch, out_ch, eps=sn_eps)
        self.bn2 = CCBN(out_ch, cond_dim, bn_eps, sn_eps)
        self.conv2 = SNConv2d(out_ch, out_ch, eps=sn_eps)
        self.upsample = upsample
        self.learnable_sc = in_ch != out_ch or upsample
        if self.learnable_sc:
            self.conv_sc = SNConv2d(in_ch, out_ch, 1, padding=0, eps=sn_eps)

    def forward(self, x, y):
        h = F.relu(self.bn1(x, y))
        if self.upsample:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        if self.learnable_sc:
            x = self.conv_sc(x)
        return h + x


class DBlock(nn.Module):
    def __init__(self, in_ch, out_ch, wide=True, preactivation=False, downsample=True, sn_eps=1e-6):
        super().__init__()
        hidden = out_ch if wide else in_ch
        self.conv1 = SNConv2d(in_ch, hidden, eps=sn_eps)
        self.conv2 = SNConv2d(hidden, out_ch, eps=sn_eps)
        self.preactivation, self.downsample = preactivation, downsample
        self.learnable_sc = in_ch != out_ch or downsample
        if self.learnable_sc:
            self.conv_sc = SNConv2d(in_ch, out_ch, 1, padding=0, eps=sn_eps)

    def shortcut(self, x):
        if self.preactivation:
            if self.learnable_sc:
                x = self.conv_sc(x)
            if self.downsample:
                x = F.avg_pool2d(x, 2)
        else:
            if self.downsample:
                x = F.avg_pool2d(x, 2)
            if self.learnable_sc:
                x = self.conv_sc(x)
        return x

    def forward(self, x):
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self.shortcut(x)


# ---------------------------------------------------------------------------------------------- architectures
_G_ARCH = {  # resolution -> (in multipliers, out multipliers)
    32: ([4, 4, 4], [4, 4, 4]),
    64: ([16, 16, 8, 4], [16, 8, 4, 2]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
    512: ([16, 16, 8, 8, 4, 2, 1], [16, 8, 8, 4, 2, 1, 1]),
}
_D_ARCH = {  # resolution -> (out multipliers, downsample flags); in = [3] + out[:-1]
    32: ([4, 4, 4, 4], [True, True, False, False]),
    64: ([1, 2, 4, 8, 16], [True, True, True, True, False]),
    128: ([1, 2, 4, 8, 16, 16], [True] * 5 + [False]),
    256: ([1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False]),
    512: ([1, 1, 2, 4, 8, 8, 16, 16], [True] * 7 + [False]),
}


def _attn_set(spec: str) -> set[int]:
    return {int(s) for s in str(spec).split("_") if s.strip() and s.strip() != "0"}


@dataclass(frozen=True)
class BigGANConfig:
    """BigGAN generator (defaults: the I128 config of BigGAN-PyTorch's launch_BigGAN_bs256x8.sh; App. A.1)."""

    resolution: int = 128
    ch: int = 96  # G_ch
    dim_z: int = 120  # total z size (hier splits it into len(blocks)+1 chunks of 20)
    shared_dim: int = 128  # shared class embedding
    hier: bool = True
    n_classes: int = 1000
    attention: str = "64"  # resolutions with self-attention, "_"-separated ("" = none)
    bottom_width: int = 4
    bn_eps: float = 1e-5
    sn_eps: float = 1e-6

    @property
    def size(self) -> int:
        return self.resolution

    def validate(self):
        if self.resolution not in _G_ARCH:
            raise VidbenchError(f"BigGAN resolution must be one of {sorted(_G_ARCH)}, got {self.resolution}")


def tiny_config(resolution: int = 32) -> BigGANConfig:
    """A small BigGAN generator for CPU tests (attention at 16 to exercise it)."""
    return BigGANConfig(resolution=resolution, ch=8, dim_z=20, shared_dim=16, n_classes=10, attention="16")


class BigGANGenerator(nn.Module):
    """BigGAN generator: G(z [B,dim_z], y [B] class ids) -> tanh image [B,3,R,R] in [-1,1]."""

    def __init__(self, cfg: BigGANConfig | None = None):
        super().__init__()
        cfg = cfg or BigGANConfig()
        cfg.validate()
        self.cfg = cfg
        ins, outs = _G_ARCH[cfg.resolution]
        ins, outs = [cfg.ch * m for m in ins], [cfg.ch * m for m in outs]
        n_blocks = len(ins)
        self.num_slots = n_blocks + 1 if cfg.hier else 1
        self.z_chunk = cfg.dim_z // self.num_slots if cfg.hier else 0
        self.dim_z = self.z_chunk * self.num_slots if cfg.hier else cfg.dim_z
        self.style_dim = self.dim_z  # for code that treats any image generator alike
        cond_dim = cfg.shared_dim + self.z_chunk
        self.shared = nn.Embedding(cfg.n_classes, cfg.shared_dim)
        self.linear = SNLinear(self.dim_z // self.num_slots, ins[0] * cfg.bottom_width**2, eps=cfg.sn_eps)
        attn = _attn_set(cfg.attention)
        res = cfg.bottom_width
        self.blocks = nn.ModuleList()
        for i in range(n_blocks):
            res *= 2
            layer = nn.ModuleList([GBlock(ins[i], outs[i], cond_dim, True, cfg.bn_eps, cfg.sn_eps)])
            if res in attn:
                layer.append(Attention(outs[i], cfg.sn_eps))
            self.blocks.append(layer)
        self.output_layer = nn.Sequential(BN(outs[-1], cfg.bn_eps), nn.ReLU(), SNConv2d(outs[-1], 3, eps=cfg.sn_eps))
        self._ortho_init()

    def _ortho_init(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                nn.init.orthogonal_(m.weight)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z [B,dim_z]; y: class indices [B] (long) or precomputed shared embeddings [B,shared_dim]."""
        e = self.shared(y) if y.dtype in (torch.int64, torch.int32) else y  # [B,shared_dim]
        if self.cfg.hier:
            zs = torch.split(z, self.z_chunk, 1)
            z0, ys = zs[0], [torch.cat([e, c], 1) for c in zs[1:]]
        else:
            z0, ys = z, [e] * len(self.blocks)
        h = self.linear(z0).view(z.size(0), -1, self.cfg.bottom_width, self.cfg.bottom_width)
        for i, layer in enumerate(self.blocks):
            for blk in layer:
                h = blk(h, ys[i])
        return torch.tanh(self.output_layer(h))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, y: torch.Tensor | None = None,
               truncation: float | None = None) -> torch.Tensor:
        """n images from z ~ N(0,I) (optionally truncated normal at ``truncation``) and random or given classes."""
        dev = self.linear.weight.device
        z = torch.randn(n, self.dim_z, generator=generator)
        if truncation is not None:  # resample |z| > truncation (truncation trick)
            while (bad := z.abs() > truncation).any():
                z[bad] = torch.randn(int(bad.sum()), generator=generator)
        if y is None:
            y = torch.randint(0, self.cfg.n_classes, (n,), generator=generator)
        return self(z.to(dev), y.to(dev))


@dataclass(frozen=True)
class BigGANDiscriminatorConfig:
    resolution: int = 128  # MoCoGAN-HD D_I: video_frame_size 128 (App. A.2.2)
    ch: int = 96  # D_ch
    wide: bool = True
    attention: str = ""  # MoCoGAN-HD: no self-attention; BigGAN I128: "64"
    n_classes: int = 0  # >0: projection discriminator (embed)
    proj_dim: int | None = None  # MoCoGAN-HD's proj0: SN-Linear(16ch -> 256) + ReLU before the logit
    sn_eps: float = 1e-6


class BigGANDiscriminator(nn.Module):
    """SN-ResNet BigGAN discriminator. ``features(x) -> [B, feature_dim]``, ``forward(x[, y]) -> [B,1]``.

    ``BigGANDiscriminator(128, 96)`` is MoCoGAN-HD's D_I trunk (no attention, wide, ReLU, sum pooling).
    """

    def __init__(self, resolution: int = 128, ch: int = 96, *, wide: bool = True, attention: str = "",
                 n_classes: int = 0, proj_dim: int | None = None, sn_eps: float = 1e-6):
        super().__init__()
        if resolution not in _D_ARCH:
            raise VidbenchError(f"BigGAN discriminator resolution must be one of {sorted(_D_ARCH)}, got {resolution}")
        self.cfg = BigGANDiscriminatorConfig(resolution, ch, wide, attention, n_classes, proj_dim, sn_eps)
        outs, downs = _D_ARCH[resolution]
        outs = [ch * m for m in outs]
        ins = [3] + outs[:-1]
        attn = _attn_set(attention)
        res = resolution
        self.blocks = nn.ModuleList()
        for i in range(len(outs)):
            layer = nn.ModuleList([DBlock(ins[i], outs[i], wide, preactivation=i > 0, downsample=downs[i], sn_eps=sn_eps)])
            res = res // 2 if downs[i] else res
            if res in attn:
                layer.append(Attention(outs[i], sn_eps))
            self.blocks.append(layer)
        self.trunk_dim = outs[-1]
        if proj_dim:
            self.proj0 = SNLinear(outs[-1], proj_dim, eps=sn_eps)
        self.feature_dim = proj_dim or outs[-1]
        self.linear = SNLinear(self.feature_dim, 1, eps=sn_eps)
        if n_classes:
            self.embed = SNEmbedding(n_classes, self.feature_dim, eps=sn_eps)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                nn.init.orthogonal_(m.weight)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """x [B,3,R,R] in [-1,1] -> ReLU, sum over H,W -> [B, 16ch]."""
        h = x
        for layer in self.blocks:
            for blk in layer:
                h = blk(h)
        return F.relu(h).sum([2, 3])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features [B, feature_dim] (trunk, then ReLU(proj0(.)) when proj_dim is set)."""
        h = self.trunk(x)
        if self.cfg.proj_dim:
            h = F.relu(self.proj0(h))
        return h

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        out = self.linear(h)  # [B,1]
        if y is not None and self.cfg.n_classes:
            out = out + (self.embed(y) * h).sum(1, keepdim=True)
        return out


# ---------------------------------------------------------------------------------------------- loaders
def _load_state_dict(path_or_dict) -> tuple[dict, str]:
    if isinstance(path_or_dict, dict):
        return path_or_dict, "dict"
    p = Path(path_or_dict)
    if not p.exists():
        raise VidbenchError(f"{p}: BigGAN checkpoint not found")
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:
        raise VidbenchError(f"{p}: cannot read with torch.load(weights_only=True): {type(e).__name__}") from None
    if not isinstance(sd, dict):
        raise VidbenchError(f"{p}: expected a state dict, got {type(sd).__name__}")
    return sd, str(p)


def remap_torch_spectral_norm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert ``torch.nn.utils.spectral_norm`` names (``X.weight_orig``, ``X.weight_u`` [out], ``X.weight_v``) to
    ajbrock names (``X.weight``, ``X.u0`` [1,out], ``X.sv0`` [1]); other keys pass through unchanged."""
    out = {}
    for k, v in sd.items():
        if k.endswith(".weight_orig"):
            base = k[: -len(".weight_orig")]
            out[f"{base}.weight"] = v
            if f"{base}.weight_u" in sd:
                out[f"{base}.u0"] = sd[f"{base}.weight_u"].view(1, -1)
            out[f"{base}.sv0"] = torch.ones(1)
        elif k.endswith((".weight_u", ".weight_v")):
            continue
        else:
            out[k] = v
    return out


def _check_and_load(model: nn.Module, sd: dict, what: str) -> None:
    ref = model.state_dict()
    missing = [k for k in ref if k not in sd]
    unexpected = [k for k in sd if k not in ref]
    if missing or unexpected:
        raise VidbenchError(
            f"{what}: keys do not match the BigGAN-PyTorch layout for {model.cfg}: missing {missing[:5]} "
            f"({len(missing)}), unexpected {unexpected[:5]} ({len(unexpected)})"
        )
    load_state_dict_checked(model, sd, what)


def infer_generator_config(sd: dict[str, torch.Tensor], **overrides) -> BigGANConfig:
    """Infer resolution, ch, dim_z, shared_dim, hier, n_classes and attention from G.pth shapes."""
    for k in ("shared.weight", "linear.weight", "output_layer.2.weight"):
        if k not in sd:
            raise VidbenchError(f"not a BigGAN-PyTorch generator state dict: key {k!r} missing")
    n_blocks = len({int(m.group(1)) for k in sd if (m := re.match(r"blocks\.(\d+)\.0\.", k))})
    bw = 4
    resolution = bw * 2**n_blocks
    ch = sd["output_layer.2.weight"].shape[1]
    n_classes, shared_dim = sd["shared.weight"].shape
    cond_dim = sd["blocks.0.0.bn1.gain.weight"].shape[1]
    z_chunk = cond_dim - shared_dim
    hier = z_chunk > 0
    dim_z = z_chunk * (n_blocks + 1) if hier else sd["linear.weight"].shape[1]
    attn = []
    for i in range(n_blocks):
        if f"blocks.{i}.1.gamma" in sd:
            attn.append(str(bw * 2 ** (i + 1)))
    kw = dict(resolution=resolution, ch=int(ch), dim_z=int(dim_z), shared_dim=int(shared_dim), hier=hier,
              n_classes=int(n_classes), attention="_".join(attn))
    return replace(BigGANConfig(**kw), **overrides)


def load_biggan_checkpoint(path_or_dict, **overrides) -> tuple[BigGANGenerator, dict]:
    """Load a BigGAN-PyTorch ``G.pth``/``G_ema.pth`` -> (generator in eval mode, meta)."""
    sd, source = _load_state_dict(path_or_dict)
    if any(k.endswith(".weight_orig") for k in sd):
        sd = remap_torch_spectral_norm(sd)
    cfg = infer_generator_config(sd, **overrides)
    G = BigGANGenerator(cfg)
    _check_and_load(G, sd, source)
    return G.eval(), {"config": asdict(cfg), "source": source, "keys": len(sd)}


def load_biggan_discriminator(path_or_dict, *, attention: str | None = None, proj_dim: int | None = None,
                              wide: bool = True) -> BigGANDiscriminator:
    """Load a BigGAN-PyTorch ``D.pth`` (or a torch-spectral_norm D) into :class:`BigGANDiscriminator`."""
    sd, source = _load_state_dict(path_or_dict)
    if any(k.endswith(".weight_orig") for k in sd):
        sd = remap_torch_spectral_norm(sd)
    if "blocks.0.0.conv1.weight" not in sd or "linear.weight" not in sd:
        raise VidbenchError(f"{source}: not a BigGAN discriminator state dict (blocks.0.0.conv1.weight/linear.weight)")
    ch = sd["blocks.0.0.conv1.weight"].shape[0]
    n_blocks = len({int(m.group(1)) for k in sd if (m := re.match(r"blocks\.(\d+)\.0\.", k))})
    resolution = {len(v[0]): r for r, v in _D_ARCH.items()}.get(n_blocks)
    if resolution is None:
        raise VidbenchError(f"{source}: {n_blocks} discriminator blocks match no BigGAN resolution")
    if attention is None:
        attn, res = [], resolution
        for i, down in enumerate(_D_ARCH[resolution][1]):
            res = res // 2 if down else res
            if f"blocks.{i}.1.gamma" in sd:
                attn.append(str(res))
        attention = "_".join(attn)
    n_classes = sd["embed.weight"].shape[0] if "embed.weight" in sd else 0
    if proj_dim is None and "proj0.weight" in sd:
        proj_dim = sd["proj0.weight"].shape[0]
    D = BigGANDiscriminator(resolution, int(ch), wide=wide, attention=attention, n_classes=int(n_classes),
                            proj_dim=proj_dim)
    _check_and_load(D, sd, source)
    return D


def build_biggan(cfg: BigGANConfig | None = None, **kw) -> BigGANGenerator:
    """BigGAN generator (BigGAN-PyTorch layout); ``build_biggan(tiny_config())`` for CPU tests."""
    return BigGANGenerator(cfg or BigGANConfig(**kw))


MODELS.add(
    "biggan",
    build_biggan,
    description="BigGAN image generator (BigGAN-PyTorch layout; App. A.1 z-space experiments)",
    kind="image_generator",
    config=BigGANConfig,
    tiny_config=tiny_config,
    loader=load_biggan_checkpoint,
    output_range=(-1.0, 1.0),  # tanh
)

register_weights(
    WeightSpec(
        "biggan.i128_bigganpytorch",
        "G_ema.pth",
        None,
        None,
        license="MIT",
        description="BigGAN-PyTorch ImageNet 128² G_ema (launch_BigGAN_bs256x8.sh config)",
        source="Google Drive link in ajbrock/BigGAN-PyTorch README ('pretrained models'); no published hash",
    )
)

__all__ = [
    "BigGANConfig",
    "BigGANGenerator",
    "BigGANDiscriminator",
    "tiny_config",
    "load_biggan_checkpoint",
    "load_biggan_discriminator",
    "remap_torch_spectral_norm",
]
