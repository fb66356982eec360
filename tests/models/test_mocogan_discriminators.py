"""D_V / D_I shapes (App. A.2.1, Tab. 6), input layouts, memory bank, EMA and App. A.2.2 augmentations."""

import numpy as np
import pytest
import torch
from vidbench.models.mocogan_hd.augment import affine, augment_paper, augment_released, cutout_mask
from vidbench.models.mocogan_hd.discriminators import (
    ContrastiveImageDiscriminator,
    MemoryBank,
    PatchImageDiscriminator,
    VideoDiscriminator,
    ema_update,
    image_pair_input,
    make_ema,
    time_reverse,
    video_d_input,
)


def _conv_out(n, k=4, s=2, p=2):
    return (n + 2 * p - k) // s + 1


def _expected(t, h):
    """Output size of Tab. 6 (k4, pad 2; strides 2,2,2,1,1) for input T×H×H."""
    for s in (2, 2, 2, 1, 1):
        t, h = _conv_out(t, s=s), _conv_out(h, s=s)
    return t, h


def test_video_d_in_domain_shapes_128_and_64():
    torch.manual_seed(0)
    D = VideoDiscriminator("in", ndf=8)  # widths scale with ndf; shapes do not depend on it
    x = video_d_input(torch.randn(1, 16, 3, 128, 128), "in")
    assert x.shape == (1, 6, 15, 128, 128)  # 6 × (n-1) × 128 × 128 (App. A.2.1)
    outs = D(x)
    assert [tuple(o.shape) for o in outs] == [(1, 1, 5, 19, 19), (1, 1, 5, 11, 11)]
    assert (5, 19) == _expected(15, 128) and (5, 11) == _expected(15, 64)


def test_video_d_paper_widths_and_cross_domain_input():
    D = VideoDiscriminator("cross", ndf=64)
    convs = [m for m in D.scales[0].modules() if isinstance(m, torch.nn.Conv3d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]
    assert [c.stride for c in convs] == [(2, 2, 2)] * 3 + [(1, 1, 1)] * 2
    assert [c.kernel_size for c in convs] == [(4, 4, 4)] * 5
    norms = [type(m).__name__ for m in D.scales[0].modules() if "Norm" in type(m).__name__]
    assert norms == ["InstanceNorm3d"] * 3
    x = video_d_input(torch.randn(2, 16, 3, 64, 64), "cross")
    assert x.shape == (2, 3, 16, 64, 64)
    outs = D(x)
    t1, h1 = _expected(16, 64)
    t2, h2 = _expected(16, 32)
    assert [tuple(o.shape) for o in outs] == [(2, 1, t1, h1, h1), (2, 1, t2, h2, h2)]


def test_video_d_input_pairs_first_frame_with_each_later_frame():
    v = torch.arange(4, dtype=torch.float32).view(1, 4, 1, 1, 1).expand(1, 4, 3, 2, 2)
    x = video_d_input(v, "in")  # [1, 6, 3, 2, 2]
    assert torch.all(x[:, :3] == 0)  # first frame in channels 0..2 for every t
    assert x[0, 3:, :, 0, 0].tolist() == [[1, 2, 3]] * 3  # frame t+1 in channels 3..5
    pair = image_pair_input(v, 2)
    assert pair.shape == (1, 6, 2, 2) and pair[0, 0, 0, 0] == 0 and pair[0, 5, 0, 0] == 2


def test_patch_image_d_shapes():
    outs = PatchImageDiscriminator(ndf=8)(torch.randn(2, 6, 128, 128))
    assert [tuple(o.shape[-2:]) for o in outs] == [(19, 19), (11, 11)]


def test_time_reverse_probabilities():
    x = torch.arange(5.0).view(1, 1, 5)
    assert torch.equal(time_reverse(x, 1.0), x.flip(2))
    assert torch.equal(time_reverse(x, 0.0), x)


def test_memory_bank_ring_buffer():
    bank = MemoryBank(size=5, dim=2)
    bank.enqueue(torch.full((3, 2), 1.0))
    bank.enqueue(torch.full((4, 2), 2.0))  # wraps: slots 3,4,0,1
    assert bank.queue[:, 0].tolist() == [2, 2, 1, 2, 2] and int(bank.ptr) == 2
    bank.enqueue(torch.arange(14.0).view(7, 2))  # more than the bank: keep the newest 5
    assert bank.queue[:, 0].tolist() == [4, 6, 8, 10, 12]


def test_ema_update_formula():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ema = make_ema(a)
    w0 = a.weight.detach().clone()
    with torch.no_grad():
        a.weight.copy_(b.weight)
    ema_update(ema, a, m=0.9)
    np.testing.assert_allclose(ema.weight.detach().numpy(), (0.9 * w0 + 0.1 * b.weight.detach()).numpy(), rtol=1e-6)
    assert not any(p.requires_grad for p in ema.parameters())


class _Trunk(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 10, 3)
        self.linear = torch.nn.Linear(10, 1)

    def features(self, x):
        return torch.relu(self.conv(x)).sum([2, 3])


def test_contrastive_d_heads_on_a_trunk():
    D = ContrastiveImageDiscriminator(_Trunk(), 10, proj_dim=6, head="paper")
    logit, proj = D(torch.randn(4, 3, 8, 8))
    assert logit.shape == (4, 1) and proj.shape == (4, 6)
    feats = D.trunk.features(torch.ones(1, 3, 8, 8))
    np.testing.assert_allclose(D(torch.ones(1, 3, 8, 8))[0].detach().numpy(),
                               D.trunk.linear(feats).detach().numpy(), rtol=1e-6)  # logit = last layer of D_I


def test_biggan_contrastive_d_both_heads():
    from vidbench.models.mocogan_hd.discriminators import build_biggan_image_discriminator

    for head in ("paper", "released"):
        D = build_biggan_image_discriminator(32, ch=4, proj_dim=16, head=head)
        logit, proj = D(torch.randn(3, 3, 32, 32))
        assert logit.shape == (3, 1) and proj.shape == (3, 16)


# ------------------------------------------------------------------------------------------------ augmentations
def test_affine_identity_and_flip():
    x = torch.randn(2, 3, 16, 16)
    ones, zeros = torch.ones(2), torch.zeros(2)
    np.testing.assert_allclose(affine(x, zeros, zeros, zeros, ones).numpy(), x.numpy(), atol=1e-5)
    r180 = affine(x, torch.full((2,), 180.0), zeros, zeros, ones)
    np.testing.assert_allclose(r180.numpy(), x.flip(2).flip(3).numpy(), atol=1e-4)  # 180° = flip both axes


def test_cutout_mask_box():
    m = cutout_mask(8, 8, torch.tensor([1]), torch.tensor([2]), torch.tensor([3]), torch.tensor([2]))
    want = np.ones((8, 8))
    want[1:4, 2:4] = 0
    np.testing.assert_array_equal(m[0, 0].numpy(), want)


@pytest.mark.parametrize("fn", [augment_paper, augment_released])
def test_augmentations_are_differentiable_and_change_images(fn):
    torch.manual_seed(0)
    x = torch.rand(16, 3, 32, 32, requires_grad=True)
    y = fn(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (y - x).abs().flatten(1).max(1).values.min() > 0  # every image changed
    g = torch.Generator().manual_seed(3)
    g2 = torch.Generator().manual_seed(3)
    assert torch.equal(fn(x.detach(), g), fn(x.detach(), g2))  # reproducible with a generator


def test_released_cutout_is_a_square_in_a_border_band():
    from vidbench.models.mocogan_hd.augment import cutout_released

    y = cutout_released(torch.ones(300, 3, 64, 64), torch.Generator().manual_seed(0))
    for img in (y[:, 0] == 0).numpy():
        ys, xs = np.nonzero(img)
        assert len(ys) > 0
        hgt, wid = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert hgt == wid and len(ys) == hgt * wid  # a full square
        assert 7 <= hgt <= 16  # round(64 r - 0.5), r in [0.125, 0.25]
        # inside one of the four quarter bands along the borders
        assert ys.max() < 17 or ys.min() >= 47 or xs.max() < 17 or xs.min() >= 47
