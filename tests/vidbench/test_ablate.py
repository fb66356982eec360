"""`vidbench ablate`: variant configs (paper budget vs App. B), resumable and failure-isolated sweeps, tiny runs."""

import dataclasses
import json
import time

import pytest
from click.testing import CliRunner

from vidbench import ablate
from vidbench.ablate import AblationConfig, Variant, plan, run_ablation


def _variants(p):
    return {v["label"]: v for v in p["variants"]}


def test_paper_budget_table4_matches_appendix_b():
    p = plan(AblationConfig(table="4", budget="paper"))
    v = _variants(p)
    assert list(v) == ["w/o Eqn. 2", "w/o D_I", "w/o D_V", "Full-128", "Full-256"]
    for c in (x["config"] for x in v.values()):
        # App. B: Adam lr 1e-4 for G_M, D_V, D_I; λ = 0.5 in-domain; λ_m = λ_contr = λ_f = 1; recipe "paper"
        assert c["lr"] == 1e-4 and c["w_residual"] == 0.5 and c["recipe"] == "paper" and c["domain"] == "in"
        assert c["mi_weight"] == 1.0 and c["contr_weight"] == 1.0 and c["match_weight"] == 1.0
        # App. A: 384 PCA components, LSTM hidden 384, 16 frames, D at 128²
        assert c["n_pca"] == 384 and c["hidden_dim"] == 384 and c["num_frames"] == 16 and c["frame_size"] == 128
        assert c["batch_size"] == 16
    # each variant differs from the full method only by its switch (§4.3)
    full = v["Full-256"]["config"]
    for label, switch in (("w/o Eqn. 2", {"residual": False}), ("w/o D_I", {"use_image_d": False}),
                          ("w/o D_V", {"use_video_d": False}), ("Full-128", {})):
        diff = {k: val for k, val in v[label]["config"].items() if full[k] != val}
        assert diff == switch, label
    assert full["residual"] and full["use_image_d"] and full["use_video_d"]
    assert v["Full-128"]["image_size"] == 128 and v["Full-256"]["image_size"] == 256
    # §4.1/§4.3: IS on 10,000 and FVD on 2,048 videos (the protocols' own N), all frames at 128², UCF-101 `all`
    ev = {e["metric"]: e for e in p["eval"]}
    assert set(ev) == {"is10k_c3d", "fvd2048_16f"}
    assert all(e["num_videos"] is None and e["resolution"] == 128 and e["split"] == "all" and e["smoke_detector"]
               is None for e in ev.values())
    assert p["dataset"] == "ucf101" and "torchrun" in p["launch"]


def test_paper_budget_table5_matches_appendix_b():
    p = plan(AblationConfig(table="5", budget="paper"))
    v = _variants(p)
    assert list(v) == ["w/o L_contr", "w/o L_m", "Full"]
    for c in (x["config"] for x in v.values()):
        assert c["lr"] == 1e-4 and c["w_residual"] == 0.2 and c["domain"] == "cross"  # λ = 0.2 cross-domain
        assert c["mi_weight"] == 1.0 and c["contr_weight"] == 1.0 and c["match_weight"] == 1.0
        assert c["frame_stride"] == 2  # App. B: every other frame for cross-domain motion
    assert not v["w/o L_contr"]["config"]["use_contrastive"] and v["w/o L_contr"]["config"]["use_mi_loss"]
    assert not v["w/o L_m"]["config"]["use_mi_loss"] and v["w/o L_m"]["config"]["use_contrastive"]
    assert v["Full"]["config"]["use_mi_loss"] and v["Full"]["config"]["use_contrastive"]
    assert (p["image_dataset"], p["dataset"]) == ("ffhq", "voxceleb")
    assert {e["metric"] for e in p["eval"]} == {"acd256_facenet", "motion_div100x50_16f"}


def test_tiny_budget_scales_protocols_under_their_own_names():
    p = plan(AblationConfig(table="4", budget="tiny"))
    names = {e["metric"] for e in p["eval"]}
    b = ablate.BUDGET_SPECS["tiny"]
    assert f"fvd{b.eval_videos}_{b.eval_frames}f" in names
    p5 = plan(AblationConfig(table="5", budget="tiny"))
    assert f"motion_div{b.div_videos}x{b.div_content}_{b.eval_frames}f" in {e["metric"] for e in p5["eval"]}
    assert p5["image_dataset"] != p5["dataset"]  # cross-domain: two embedded datasets


def test_dry_run_cli_prints_json_and_bad_input_exits_2():
    from vidbench.cli import cli

    r = CliRunner().invoke(cli, ["ablate", "--table", "5", "--budget", "paper", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["table"] == "5"
    r = CliRunner().invoke(cli, ["ablate", "--table", "4", "--image-dataset", "ffhq", "--dry-run"])
    assert r.exit_code == 2 and "in-domain" in r.output
    r = CliRunner().invoke(cli, ["ablate", "--table", "4", "--budget", "paper", "--set", "nope=1", "--dry-run"])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["ablate", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_sweep_is_resumable_and_a_failing_variant_does_not_lose_the_others(tmp_path, monkeypatch):
    micro = dataclasses.replace(ablate.BUDGET_SPECS["tiny"], image_iters=2, pca_samples=500, eval_videos=4,
                                div_videos=2, div_content=2,
                                config={**ablate.BUDGET_SPECS["tiny"].config, "total_steps": 1})
    monkeypatch.setitem(ablate.BUDGET_SPECS, "tiny", micro)
    spec = dict(ablate.TABLE_SPECS["5"])
    spec["variants"] = (Variant("broken", {"num_frames": 1}, image="eval"), Variant("Full", {}, image="eval"))
    monkeypatch.setitem(ablate.TABLE_SPECS, "5", spec)
    cfg = AblationConfig(table="5", budget="tiny")
    s1 = run_ablation(cfg, tmp_path, progress=False, quiet=True)
    st = {v["label"]: v for v in s1["variants"]}
    assert st["broken"]["status"] == "failed" and "num_frames" in st["broken"]["error"]
    assert st["Full"]["status"] == "ok" and st["Full"]["eval_dirs"]
    md = open(s1["tables"]["md"]).read()
    assert "| Full |" in md and "broken: failed" in md
    assert f"motion_div2x2_{micro.eval_frames}f" in md  # measured-only block under its own protocol name
    t = time.perf_counter()
    s2 = run_ablation(cfg, tmp_path, progress=False, quiet=True)
    st2 = {v["label"]: v for v in s2["variants"]}
    assert st2["Full"]["status"] == "reused" and st2["Full"]["eval_dirs"] == st["Full"]["eval_dirs"]
    assert st2["broken"]["status"] == "failed"
    assert time.perf_counter() - t < s1["elapsed_s"]


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("table", ["4", "5"])
def test_tiny_budget_runs_end_to_end(tmp_path, table):
    s = run_ablation(AblationConfig(table=table, budget="tiny"), tmp_path, progress=False, quiet=True)
    assert all(v["status"] == "ok" for v in s["variants"]), s["variants"]
    md = open(s["tables"]["md"]).read()
    labels = [v.label for v in ablate.TABLE_SPECS[table]["variants"]]
    block = md.split("Measured only")[1]
    for label in labels:  # every variant has a measured row in the measured-only block
        assert f"| {label} |" in block, label
