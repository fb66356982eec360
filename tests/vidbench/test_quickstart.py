import json

from click.testing import CliRunner

from vidbench.cli import cli
from vidbench.records import read_result
from vidbench.video import read_video


def test_quickstart_smoke_runs_the_whole_pipeline(tmp_path):
    r = CliRunner().invoke(cli, ["quickstart", "--smoke", "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    rec = read_result(s["eval"]["run"])
    fvd = next(k for k in rec["metrics"] if k.startswith("fvd"))
    # without the real I3D weights the FVD is labelled and never comparable
    assert fvd.endswith("[random-init]") and rec["metrics"][fvd]["comparable"] is False
    assert rec["metrics"][fvd]["value"] > 0
    assert rec["model"] == "mocohd" and rec["dataset"]["name"] == "moving_mnist"
    v = read_video(f"{s['eval']['run']}/samples/000000.mp4")
    assert v.shape == (16, 32, 32, 3)
    assert s["pca"]["components_for_85pct"] >= 1
    assert s["timings_s"]["total_s"] < 60
