"""The recipe switch: paper vs released values (MOCOGAN_HD_FACTS.md §13), order-independent overrides, JSON."""

import pytest
from vidbench.models.mocogan_hd.config import MoCoGANHDConfig, resolve_config

from vidbench.config import ConfigError, apply_overrides, config_from_json, config_to_json


def test_paper_defaults_follow_appendix_b():
    r = resolve_config(MoCoGANHDConfig())
    assert (r.recipe, r.domain, r.w_residual) == ("paper", "in", 0.5)  # App. B: λ = 0.5 in-domain
    assert resolve_config(MoCoGANHDConfig(domain="cross")).w_residual == 0.2  # 0.2 cross-domain
    assert (r.mi_weight, r.contr_weight, r.match_weight) == (1.0, 1.0, 1.0)  # λm = λcontr = λf = 1
    assert (r.lr, r.tau, r.bank_size, r.moco_m, r.proj_dim) == (1e-4, 0.07, 4096, 0.999, 256)
    assert (r.hidden_dim, r.n_pca, r.latent_dim, r.num_frames, r.frame_size) == (384, 384, 512, 16, 128)
    assert (r.gan_loss, r.gp_weight, r.g_steps_per_d, r.time_reverse_p) == ("gan", 0.0, 1, 0.0)
    assert (r.residual_mode, r.mi_input, r.image_d, r.use_contrastive) == ("paper", "h", "biggan", True)


def test_released_recipe_sets_all_code_values_together():
    r = resolve_config(MoCoGANHDConfig(recipe="released"))
    assert r.w_residual == 0.2 and r.residual_mode == "released" and r.mi_input == "hc"
    assert (r.gan_loss, r.gp_weight, r.g_steps_per_d, r.time_reverse_p) == ("ralsgan", 10.0, 5, 0.5)
    assert (r.image_d, r.image_gan_loss, r.use_contrastive) == ("patch", "ralsgan", False)
    assert r.g_betas == (0.5, 0.999) and r.dv_betas == (0.5, 0.999) and r.frame_stride == 2
    c = resolve_config(MoCoGANHDConfig(recipe="released", domain="cross"))
    assert (c.image_d, c.image_gan_loss, c.contr_weight, c.match_weight) == ("biggan", "hinge", 2.0, 1.0)
    assert (c.di_betas, c.di_eps, c.bank_mode, c.augment, c.contr_self_logit) == (
        (0.0, 0.999), 1e-6, "released", "released", "zero")


@pytest.mark.parametrize("order", [["w_residual=0.3", "recipe=released"], ["recipe=released", "w_residual=0.3"]])
def test_explicit_override_wins_in_any_order(order):
    r = resolve_config(apply_overrides(MoCoGANHDConfig(), order))
    assert r.w_residual == 0.3 and r.g_steps_per_d == 5


def test_bad_keys_and_values_and_json_round_trip():
    with pytest.raises(ConfigError, match="unknown config key"):
        apply_overrides(MoCoGANHDConfig(), ["lamda=1"])
    with pytest.raises(ConfigError):
        apply_overrides(MoCoGANHDConfig(), ["recipe=official"])
    with pytest.raises(ConfigError, match="hidden_dim"):
        apply_overrides(MoCoGANHDConfig(), ["hidden_dim=256"])  # paper h_t·V needs 384 = n_pca
    cfg = apply_overrides(MoCoGANHDConfig(), ["g_betas=0.5,0.9", "use_mi_loss=false", "domain=cross"])
    assert cfg.g_betas == (0.5, 0.9) and cfg.use_mi_loss is False
    assert config_from_json(MoCoGANHDConfig, config_to_json(cfg)) == cfg
