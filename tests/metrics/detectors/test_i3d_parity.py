"""THE parity test: our PyTorch I3D vs the real TF-Hub i3d-kinetics-400/1 graph (../shared/data), same random weights.

TF side (PROTOCOLS.md recipe, done here independently of the library): parse saved_model.pb as a SavedModel proto,
take the untagged MetaGraph, import_meta_graph into a fresh graph, global_variables_initializer, then load seeded
well-conditioned values with ``variable.load(value, session)``; the variable list is checked against the reference
table ../shared/data/reference/i3d_rgb_variables.tsv. The same values are written as a TF-Hub-style module folder
(TF Saver) and loaded into PyTorch through the user-facing loader (``make_i3d(path)`` → ``load_i3d``). Inputs are real
clips from ../shared/data, resized by TF1 ``resize_bilinear`` on the TF side and by our port on the PyTorch side.
"""

import numpy as np
import pytest
import torch
from vidbench.metrics.detectors.i3d import make_i3d, well_conditioned_variables
from vidbench.metrics.resize import resize_bilinear_tf1

from vidbench.video import read_video

# the TF graph import + variable assignment in the module fixture take ~40 s on a loaded 2-core machine
pytestmark = [pytest.mark.tf, pytest.mark.timeout(300)]
TOL = 1e-4
CLIPS = [
    ("i3d/sample/v_CricketShot_g04_c01_rgb.gif", 0),
    ("video/action/mmaction2_demo_armwrestling_340x256.mp4", 40),
    ("video/general/bigbuckbunny_1280x720.mp4", 60),
]


def _tsv(shared_data):
    rows = {}
    for line in (shared_data / "reference" / "i3d_rgb_variables.tsv").read_text().splitlines():
        if line.startswith("#") or line.startswith("name\t") or not line.strip():
            continue
        name, _dtype, _ckpt, tfhub_shape, *_ = line.split("\t")
        rows[name] = tuple(int(s) for s in tfhub_shape.split("x"))
    return rows


@pytest.fixture(scope="module")
def tf_setup(shared_data, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.protobuf import saved_model_pb2

    module_src = shared_data / "i3d" / "tfhub_i3d_kinetics400_v1"
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((module_src / "saved_model.pb").read_bytes())
    meta = [m for m in sm.meta_graphs if not list(m.meta_info_def.tags)]
    assert len(meta) == 1
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(meta[0], clear_devices=True)
        variables = tf.compat.v1.global_variables()
        init = tf.compat.v1.global_variables_initializer()
    ref_shapes = _tsv(shared_data)
    graph_shapes = {v.op.name: tuple(v.shape.as_list()) for v in variables}
    assert len(ref_shapes) == 230
    assert graph_shapes == ref_shapes  # the graph's variables are exactly the reference table
    values = well_conditioned_variables(ref_shapes, seed=1234)
    sess = tf.compat.v1.Session(graph=graph, config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=1, inter_op_parallelism_threads=1))
    torch.set_num_threads(1)  # shared CI cores: oversubscribed OpenMP threads are far slower
    module = tmp_path_factory.mktemp("tfhub") / "i3d-kinetics-400_1"
    (module / "variables").mkdir(parents=True)
    with graph.as_default():
        sess.run(init)
        for v in variables:
            v.load(values[v.op.name], sess)
        saver.save(sess, str(module / "variables" / "variables"), write_meta_graph=False, write_state=False)
    for f in ("saved_model.pb", "tfhub_module.pb"):
        (module / f).write_bytes((module_src / f).read_bytes())
    inp = graph.get_tensor_by_name("input_frames:0")
    out = graph.get_tensor_by_name("RGB/inception_i3d/Mean:0")
    yield tf, sess, inp, out, module
    sess.close()


def _clips(shared_data):
    return [read_video(shared_data / rel, start=start, num_frames=16) for rel, start in CLIPS]


def test_logits_match_tfhub_graph(tf_setup, shared_data):
    tf, sess, inp, out, module = tf_setup
    clips = _clips(shared_data)
    # TF reference: FVD's preprocessing (TF1 bilinear to 224, then 2x/255-1) and the hub graph
    tf_in = np.stack([
        tf.compat.v1.image.resize_bilinear(c.astype(np.float32), (224, 224), align_corners=False,
                                           half_pixel_centers=False).numpy() for c in clips
    ]) * (2.0 / 255.0) - 1.0
    ref = sess.run(out, {inp: tf_in.astype(np.float32)})  # [3,400]
    # PyTorch: the user-facing loader on the module folder, our resize
    model, resolved = make_i3d(str(module))
    assert resolved.path == module and resolved.verified is False  # random values: not the registered weights
    x = torch.stack([
        resize_bilinear_tf1(torch.from_numpy(c).permute(0, 3, 1, 2).float(), (224, 224)) for c in clips
    ])  # [3,T,3,224,224]
    x = (x * (2.0 / 255.0) - 1.0).permute(0, 2, 1, 3, 4).contiguous()  # [3,3,T,224,224]
    with torch.no_grad():
        got = model(x).numpy()
    assert got.shape == ref.shape == (3, 400)
    diff = np.abs(got - ref).max()
    assert diff < TOL, f"max abs diff {diff}"
    # the check discriminates: logits are O(1) and differ between clips by far more than the tolerance
    assert 0.3 < ref.std() < 100, ref.std()
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(ref[i] - ref[j]).max() > 1000 * TOL
    # a wrong network (e.g. BN eps 1e-5 as in the TATS port, or torch's half-pixel resize) is caught
    model_eps = make_i3d(str(module), config=type(model.config)(bn_eps=1e-5))[0]
    with torch.no_grad():
        assert np.abs(model_eps(x).numpy() - ref).max() > 10 * TOL


def test_pool_features_and_folded_bn_match(tf_setup, shared_data):
    tf, sess, inp, out, module = tf_setup
    clip = _clips(shared_data)[0]  # already 224x224
    x_tf = (clip.astype(np.float32) * (2.0 / 255.0) - 1.0)[None]
    ref = sess.run(out, {inp: x_tf})
    pool_t = sess.graph.get_tensor_by_name("RGB/inception_i3d/Logits/AvgPool3D:0")
    ref_pool = sess.run(pool_t, {inp: x_tf}).mean(axis=(1, 2, 3))  # [1,1024]
    model, _ = make_i3d(str(module))
    x = torch.from_numpy(x_tf).permute(0, 4, 1, 2, 3).contiguous()
    with torch.no_grad():
        logits, pool = model(x, features="both")
        folded = model.fold_bn()(x)
    assert np.abs(pool.numpy() - ref_pool).max() < TOL
    assert np.abs(folded.numpy() - ref).max() < TOL


def test_fvd_tf_backend_matches_torch(tf_setup, shared_data):
    """The optional TF backend (TF-Hub graph + the user's module folder) and the PyTorch path give the same FVD."""
    from vidbench.metrics.base import MetricOptions
    from vidbench.metrics.fvd import FVD, PRESETS

    _tf, _sess, _inp, _out, module = tf_setup
    clips = _clips(shared_data)
    real, fake = clips[:2], [clips[2], clips[0][::-1].copy()]
    vals = {}
    for backend in ("torch", "tf"):
        m = FVD("fvd2048_16f", PRESETS["fvd2048_16f"],
                MetricOptions(detector_weights=str(module), extra={"backend": backend}, progress=False))
        m.update(real, real=True)
        m.update(fake, real=False)
        res = m.compute()
        assert res["protocol"]["backend"] == backend and res["comparable"] is False  # random values, N=2
        vals[backend] = res["value"]
    assert vals["torch"] == pytest.approx(vals["tf"], rel=1e-5)
