"""I3D loaders: fake files built from the reference key lists (../shared/data/reference/i3d_rgb_variables.tsv and
CHECKPOINT_FORMATS.md §1b), never from our own state_dict; plus the architecture facts of the TF graph summary."""

import numpy as np
import pytest
import torch
from vidbench.metrics.detectors.i3d import I3DConfig, InceptionI3d, build_random_i3d, load_i3d, same_pad, weights_format

from vidbench.errors import VidbenchError

# CHECKPOINT_FORMATS.md §1b: TF scope inside a Mixed block -> port unit name
BRANCH = {"Branch_0/Conv3d_0a_1x1": "b0", "Branch_1/Conv3d_0a_1x1": "b1a", "Branch_1/Conv3d_0b_3x3": "b1b",
          "Branch_2/Conv3d_0a_1x1": "b2a", "Branch_2/Conv3d_0b_3x3": "b2b", "Branch_2/Conv3d_0a_3x3": "b2b",
          "Branch_3/Conv3d_0b_1x1": "b3b"}


def _tsv(shared_data):
    rows = []
    for line in (shared_data / "reference" / "i3d_rgb_variables.tsv").read_text().splitlines():
        if line.startswith(("#", "name\t")) or not line.strip():
            continue
        name, _dt, ckpt, hub, *_ = line.split("\t")
        rows.append((name, tuple(int(s) for s in ckpt.split("x")), tuple(int(s) for s in hub.split("x"))))
    return rows


def _values(rows, seed=0, hub=False):
    rng = np.random.default_rng(seed)
    out = {}
    for name, ckpt, hubshape in rows:
        shape = hubshape if hub else ckpt
        if name.endswith("/w"):
            v = rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[:-1]))
        elif name.endswith("moving_variance"):
            v = rng.uniform(0.5, 2.0, size=shape)
        else:
            v = rng.normal(size=shape) * 0.2
        out[name] = v.astype(np.float32)
    return out


def _tats_state_dict(values):
    """The 287-key VideoGPT/TATS layout, written from the documented TF→port name mapping."""
    sd = {}
    for name, v in values.items():
        parts = name.replace("RGB/inception_i3d/", "").split("/")
        if parts[0] == "Logits":
            key = "logits.conv3d." + ("weight" if parts[-1] == "w" else "bias")
        else:
            unit = parts[0] if not parts[0].startswith("Mixed") else f"{parts[0]}.{BRANCH['/'.join(parts[1:3])]}"
            leaf = parts[-1]
            key = {"w": f"{unit}.conv3d.weight", "beta": f"{unit}.bn.bias", "moving_mean": f"{unit}.bn.running_mean",
                   "moving_variance": f"{unit}.bn.running_var"}[leaf]
            if leaf == "beta":
                sd[f"{unit}.bn.weight"] = torch.ones(v.size)  # converter adds gamma = 1
        t = torch.from_numpy(v)
        sd[key] = t.permute(4, 3, 0, 1, 2).contiguous() if v.ndim == 5 else t.reshape(-1)
    return sd


def test_reference_table_has_230_tensors(shared_data):
    rows = _tsv(shared_data)
    assert len(rows) == 230
    assert sum(n.endswith("/w") for n, *_ in rows) == 58


def test_npz_of_tf_variables_and_tats_file_give_same_network(shared_data, tmp_path):
    values = _values(_tsv(shared_data))
    np.savez(tmp_path / "tf.npz", **values)
    sd = _tats_state_dict(values)
    assert len(sd) == 287
    torch.save(sd, tmp_path / "i3d_pretrained_400.pt")
    a = load_i3d(tmp_path / "tf.npz")
    b = load_i3d(tmp_path / "i3d_pretrained_400.pt")
    x = torch.rand(1, 3, 9, 64, 64) * 2 - 1
    with torch.no_grad():
        np.testing.assert_allclose(a(x).numpy(), b(x).numpy(), rtol=0, atol=1e-5)
    # conv kernel layout: TF [kT,kH,kW,in,out] -> [out,in,kT,kH,kW]
    w_tf = values["RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w"]
    assert a.Conv3d_1a_7x7.conv3d.weight[5, 2, 1, 3, 4].item() == pytest.approx(float(w_tf[1, 3, 4, 2, 5]))
    # a BN eps 1e-5 build (the TATS port's) is a different network on the same weights
    c = load_i3d(tmp_path / "i3d_pretrained_400.pt", I3DConfig(bn_eps=1e-5))
    with torch.no_grad():
        assert np.abs(c(x).numpy() - b(x).numpy()).max() > 1e-4


def test_tfhub_shapes_module_prefix_and_errors(shared_data, tmp_path):
    rows = _tsv(shared_data)
    values = _values(rows, hub=True)  # BN vectors [1,1,1,1,C]
    np.savez(tmp_path / "hub.npz", **values)
    assert isinstance(load_i3d(tmp_path / "hub.npz"), InceptionI3d)
    sd = {"module." + k: v for k, v in _tats_state_dict(_values(rows)).items()}
    torch.save(sd, tmp_path / "dp.pt")
    load_i3d(tmp_path / "dp.pt")
    bad = dict(values)
    bad.pop("RGB/inception_i3d/Mixed_4c/Branch_1/Conv3d_0b_3x3/conv_3d/w")
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(VidbenchError, match="1 expected tensors missing"):
        load_i3d(tmp_path / "bad.npz")
    sd2 = _tats_state_dict(_values(rows))
    sd2["logits.conv3d.weight"] = torch.zeros(600, 1024, 1, 1, 1)
    torch.save(sd2, tmp_path / "k600.pt")
    with pytest.raises(VidbenchError, match="logits.conv3d.weight"):
        load_i3d(tmp_path / "k600.pt")


def test_torchscript_detected_and_wrapped(tmp_path):
    class Fake(torch.nn.Module):
        def forward(self, x, rescale: bool = False, resize: bool = False, return_features: bool = False):
            return x.mean(dim=(2, 3, 4)).repeat(1, 134)[:, :400]

    torch.jit.save(torch.jit.script(Fake()), tmp_path / "i3d_torchscript.pt")
    assert weights_format(tmp_path / "i3d_torchscript.pt") == "torchscript"
    m = load_i3d(tmp_path / "i3d_torchscript.pt")
    assert tuple(m(torch.zeros(2, 3, 9, 8, 8)).shape) == (2, 400)


def test_tf_same_padding_facts():
    # Conv3d_1a_7x7 stride 2 on 16x224x224: pad (2,3) on every axis (extra at the end), output 8x112x112
    assert same_pad(16, 7, 2) == (2, 3) and same_pad(224, 7, 2) == (2, 3)
    assert same_pad(112, 3, 2) == (0, 1)  # MaxPool3d_2a_3x3 spatial
    m = build_random_i3d(0)
    with torch.no_grad():
        h = m.trunk(torch.zeros(1, 3, 16, 224, 224))
    assert tuple(h.shape) == (1, 1024, 2, 7, 7)  # T/8, H/32 before AvgPool3D [2,7,7] VALID
    assert sum(p.numel() for p in m.parameters()) == 12_697_264  # CHECKPOINT_FORMATS.md §1b


def test_too_few_frames_is_clear():
    with pytest.raises(ValueError, match="at least 9"):
        build_random_i3d(0)(torch.zeros(1, 3, 8, 32, 32))
