"""resize_bilinear_tf1 against tf.compat.v1.image.resize_bilinear (the FVD reference resize) and a hand case."""

import numpy as np
import pytest
import torch
from vidbench.metrics.resize import resize_bilinear_tf1


def test_hand_case_no_half_pixel():
    # 1x2 -> 1x4: src = i * 2/4 = 0, .5, 1, 1.5 -> values 0, 5, 10, 10 (edge clamped); torch's half-pixel gives others
    x = torch.tensor([[[[0.0, 10.0]]]])
    out = resize_bilinear_tf1(x, (1, 4))
    np.testing.assert_allclose(out.numpy().ravel(), [0.0, 5.0, 10.0, 10.0])
    torch_hp = torch.nn.functional.interpolate(x, size=(1, 4), mode="bilinear", align_corners=False)
    assert not np.allclose(torch_hp.numpy().ravel(), [0.0, 5.0, 10.0, 10.0])


def test_identity_size_and_uint8_input():
    x = torch.randint(0, 256, (1, 3, 5, 7), dtype=torch.uint8)
    out = resize_bilinear_tf1(x, (5, 7))
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), x.float().numpy())


@pytest.mark.tf
@pytest.mark.parametrize(
    "in_hw,out_hw",
    [((64, 64), (224, 224)), ((128, 128), (224, 224)), ((256, 320), (224, 224)), ((240, 320), (224, 224)),
     ((37, 53), (11, 90)), ((300, 300), (7, 13)), ((176, 144), (224, 224))],
)
def test_matches_tf1_resize_bilinear(in_hw, out_hw):
    # torchvision (-> triton) must be loaded before TensorFlow: torch -> tensorflow -> torchvision segfaults, which
    # would kill a later test of the same process (e.g. FaceNet) under pytest -n 2
    pytest.importorskip("torchvision")
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(sum(in_hw) + sum(out_hw))
    x = (rng.random((2, *in_hw, 3)) * 255).astype(np.float32)  # NHWC, 0..255 like FVD's frames
    ref = tf.compat.v1.image.resize_bilinear(x, out_hw, align_corners=False, half_pixel_centers=False).numpy()
    got = resize_bilinear_tf1(torch.from_numpy(x).permute(0, 3, 1, 2), out_hw).permute(0, 2, 3, 1).numpy()
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-4


def test_eval_resize_rules_and_area_is_box_mean():
    import numpy as np
    from vidbench.metrics.inception_score import PRESETS as IS
    from vidbench.metrics.resize import EvalResize, eval_resize, pre_resize

    from vidbench.registry import METRICS

    # is10k_c3d names its own evaluation size (cv2 cubic to 128); FVD takes the real set's size; paired: never
    assert eval_resize(IS["is10k_c3d"], (64, 64)) == EvalResize((128, 128), "cv2.INTER_CUBIC", "protocol pre_resize")
    fvd = METRICS.get("fvd2048_16f").meta["protocol"]
    assert eval_resize(fvd, 128).size == (128, 128) and eval_resize(fvd, 128).method == "cv2.INTER_AREA"
    assert eval_resize(fvd, None).size is None
    assert eval_resize(METRICS.get("psnr_ssim_rgb").meta["protocol"], (64, 64)).size is None
    rng = np.random.default_rng(0)
    v = rng.integers(0, 256, size=(2, 3, 8, 6, 3), dtype=np.uint8)
    out = pre_resize(v, EvalResize((4, 3), "cv2.INTER_AREA", "t"))
    # 2x2 box mean by hand (cv2 rounds half away from zero on uint8)
    ref = v.reshape(2, 3, 4, 2, 3, 2, 3).astype(np.float64).mean(axis=(3, 5))
    assert out.shape == (2, 3, 4, 3, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(np.float64) - ref).max() <= 0.5 + 1e-9
    assert pre_resize(v, EvalResize((8, 6), "cv2.INTER_AREA", "t")) is v or np.array_equal(
        pre_resize(v, EvalResize((8, 6), "cv2.INTER_AREA", "t")), v)
    assert [x.shape for x in pre_resize(list(v), EvalResize((4, 3), "cv2.INTER_AREA", "t"))] == [(3, 4, 3, 3)] * 2
