"""Paper tables: published numbers and their protocol columns, measured rows, merging, and every output format."""

import csv
import io
import math
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from vidbench.records import metric_result, new_record, new_run_dir, write_config, write_result
from vidbench.tables import (
    TABLES,
    build_table,
    format_number,
    format_std,
    latex_escape,
    leaderboards_dir,
    load_published,
    render,
    table_frame,
)

REPO = Path(__file__).resolve().parents[2]
FACTS = Path(os.environ.get("VIDBENCH_SHARED", REPO.parent / "shared")) / "paper" / "published_results.csv"


def _facts():
    if not FACTS.is_file():
        pytest.fail(f"{FACTS} not found; set VIDBENCH_SHARED to the shared folder")
    with open(FACTS, newline="") as fh:
        return list(csv.DictReader(fh))


def _pub(table, method, metric, dataset=None):
    df = load_published()
    sel = df[(df["table"] == table) & (df["method"] == method) & (df["metric"] == metric)]
    if dataset:
        sel = sel[sel["dataset"] == dataset]
    assert len(sel) == 1, (table, method, metric)
    return sel.iloc[0]


# ------------------------------------------------------------------------------------------------ published numbers
def test_published_csv_has_every_number_of_the_facts_file():
    facts = _facts()
    df = load_published()
    assert len(df) == len(facts)
    for r in facts:
        p = _pub(r["table"], r["method"], r["metric"], r["dataset"])
        assert p["value"] == float(r["value"]) and p["direction"] == r["direction"] and p["dataset"] == r["dataset"]
        if r["std"]:
            assert p["std"] == float(r["std"])
        else:
            assert math.isnan(p["std"])
        assert p["citation"], "every published number needs a citation"


def test_protocol_columns_follow_the_issue_mapping():
    # Table 1, MoCoGAN-HD: is10k_c3d (N 10,000) and fvd2048_16f on UCF-101 split `all` at 128² (generated at 256²)
    p = _pub("1", "MoCoGAN-HD", "IS")
    assert (p["protocol"], p["n"], p["split"], p["resolution"], p["frames"]) == ("is10k_c3d", "10000", "all", "128",
                                                                                 "16")
    assert "256" in p["protocol_note"] and "resized" in p["protocol_note"]
    p = _pub("1", "MoCoGAN-HD", "FVD")
    assert (p["protocol"], p["n"], p["split"], p["resolution"]) == ("fvd2048_16f", "2048", "all", "128")
    # TGANv2's IS: its own estimator, on the train split (split 1)
    p = _pub("1", "TGANv2", "IS")
    assert (p["protocol"], p["split"]) == ("is2048x10_c3d_tganv2", "train1")
    assert "Saito" in p["citation"]
    # the other Table 1 methods are as reported by their papers: no protocol is claimed for them
    for m in ("VGAN", "TGAN", "MoCoGAN", "ProgressiveVGAN", "LDVD-GAN", "DVD-GAN"):
        p = _pub("1", m, "IS")
        assert p["protocol"] == "" and "as reported" in p["citation"]
    # Table 2: FaceForensics fvd2048_16f; ACD over 256 videos with the face network left unnamed
    for m in ("GT", "TGANv2", "MoCoGAN-HD"):
        assert _pub("2", m, "FVD")["protocol"] == "fvd2048_16f"
        a = _pub("2", m, "ACD")
        assert a["n"] == "256" and a["protocol"] == "acd256"
        assert "does not name the face network" in a["protocol_note"]
    # Table 3: Sky Time-lapse test split, 32 frames, video prediction
    for m, metric in (("MoCoGAN-HD", "PSNR"), ("DTVNet", "SSIM"), ("MDGAN", "FVD"), ("UP-B", "PSNR")):
        p = _pub("3", m, metric)
        assert (p["dataset"], p["split"], p["frames"], p["task"]) == ("sky_timelapse", "test", "32", "predict")
    # Table 4: the Table 1 protocols; Table 7: StyleGAN2 FID per dataset
    assert _pub("4", "w/o D_I", "FVD")["protocol"] == "fvd2048_16f" and _pub("4", "w/o D_I", "IS")["n"] == "10000"
    df = load_published()
    t7 = df[df["table"] == "7"]
    assert sorted(t7["dataset"]) == ["afhq_dog", "faceforensics", "sky_timelapse", "ucf101"]
    assert set(t7["method"]) == {"StyleGAN2"} and set(t7["metric"]) == {"FID"}


# numbers as printed in the paper (text of Tables 1-5, 7, 8 and App. D)
PRINTED = {
    "1": ["8.31 ± .09", "11.85 ± .07", "12.42 ± .07", "14.56 ± .05", "22.91 ± .19", "26.60 ± .47", "1209 ± 28",
          "27.38 ± .53", "33.95 ± .25", "700 ± 24"],
    "2": ["9.02", "0.2935", "58.03", "0.4914", "53.26", "0.3300", "73.6"],
    "3": ["25.367", "0.781", "840.95", "13.840", "0.581", "451.14", "21.953", "0.531", "77.77", "22.286", "0.688"],
    "4": ["28.20", "790.87", "33.22", "796.67", "33.84", "867.43", "32.36", "838.09", "33.95", "700.00"],
    "5": ["0.5328", "0.5158", "0.4353", "68.3", "64.4", "0.233 ± .036", "0.126 ± .025"],
    "7": ["45.63", "10.99", "10.80", "7.85"],
    "8": ["77.3"],
}


@pytest.mark.parametrize("table", TABLES)
def test_every_table_prints_all_published_numbers_as_in_the_paper(table):
    md = render(build_table(table), "md")
    for s in PRINTED[table]:
        assert s in md, (table, s)
    n_pub = sum(1 for r in _facts() if r["table"] == table or (table == "5" and r["table"] == "D"))
    assert len(PRINTED[table]) == n_pub  # the list above covers every number of the table
    assert "†" in md


def test_number_formats_hand_cases():
    assert format_number(33.95, 2) == "33.95" and format_std(0.25, 2) == ".25"
    assert format_number(1209, 0) == "1209" and format_std(28, 0) == "28"
    assert format_number(22.286, 3) == "22.286" and format_number(0.33, 4) == "0.3300"
    assert format_std(1.5, 2) == "1.50"
    assert format_number(None, 2) == "—"


def test_best_per_column_is_bold_by_direction_and_reference_rows_are_not():
    md = render(build_table("2"), "md")
    assert "| **53.26** |" in md  # lower FVD is better; GT (9.02) is a reference row
    assert "**9.02**" not in md
    md = render(build_table("3"), "md")
    assert "**22.286**" in md and "**25.367**" not in md  # UP-B is the upper bound, not a method
    md = render(build_table("1"), "md")
    assert "**33.95 ± .25**" in md and "**700 ± 24**" in md


def test_leaderboards_folder_is_the_repo_folder_in_a_checkout():
    assert leaderboards_dir() == REPO / "leaderboards"


# ------------------------------------------------------------------------------------------------ measured rows
def _run(root, *, label, dataset, split, metrics, seed=0, resolution=128, model="mocohd"):
    d = new_run_dir(root, model, dataset)
    write_config(d, {"resolution": resolution})
    rec = new_record(model=model, dataset={"name": dataset, "split": split, "fingerprint": "f" * 16}, seed=seed,
                     metrics=metrics, checkpoint="ck.pt", checkpoint_hash="c" * 64, label=label)
    write_result(d, rec)
    return d


def _m(value, name, n, *, comparable=True, reasons=(), std=None, extra=None):
    return metric_result(value=value, protocol={"name": name}, detector="i3d", weights_hash="w" * 64,
                         weights_verified="sha256", comparable=comparable, elapsed_s=1.0, n_real=n, n_fake=n,
                         comparable_reasons=reasons, std=std, extra=extra)


def _records(root):
    from vidbench.records import find_records

    return find_records(root)


def test_comparable_runs_merge_beside_the_published_row(tmp_path):
    for seed, v in ((0, 600.0), (1, 640.0)):
        _run(tmp_path, label="mocohd-ucf101", dataset="ucf101", split="all", seed=seed,
             metrics={"fvd2048_16f": _m(v, "fvd2048_16f", 2048)})
    res = build_table("1", _records(tmp_path))
    rows = [r[0] for r in res.main_rows]
    assert rows.index("MoCoGAN-HD (Ours) (measured)") == rows.index("MoCoGAN-HD (Ours)†") + 1
    md = render(res, "md")
    # mean 620, sample std of (600, 640) = 28.28 -> "28" at the column's 0 decimals; the best FVD is now bold
    assert "| MoCoGAN-HD (Ours) (measured) | — | **620 ± 28 (n=2)** |" in md
    assert "**700 ± 24**" not in md
    assert not res.extra_rows


def test_non_matching_protocols_go_to_the_measured_only_block_with_reasons(tmp_path):
    _run(tmp_path, label="tiny", dataset="moving_mnist", split="test", resolution=32,
         metrics={"fvd64_16f[random-init]": _m(300.0, "fvd64_16f", 64, comparable=False,
                                               reasons=["random-init detector"])})
    # the paper's protocol name, but at another resolution: still not beside the published number
    _run(tmp_path, label="mocohd-ucf101", dataset="ucf101", split="all", resolution=64,
         metrics={"fvd2048_16f": _m(650.0, "fvd2048_16f", 2048)})
    res = build_table("1", _records(tmp_path))
    assert all(not r[0].endswith("(measured)") for r in res.main_rows)
    md = render(res, "md")
    assert "fvd64_16f[random-init]" in md and "fvd2048_16f" in md
    for reason in ("random-init detector", "dataset moving_mnist != ucf101", "split test != all", "N=64 != 2048",
                   "resolution 32 != 128", "resolution 64 != 128"):
        assert reason in md, reason
    tiny = next(cells for row, _, cells in res.extra_rows if row == "tiny")
    assert tiny["fvd64_16f[random-init]"].value == 300.0


def test_metric_without_value_shows_a_dash_with_its_reason(tmp_path):
    m = _m(None, "acd256_dlib", 8, comparable=False, reasons=["8 videos < protocol N=256"])
    m["warnings"] = ["8 of 8 videos had fewer than 2 frames with a face and no ACD value"]
    _run(tmp_path, label="Full", dataset="synthetic_sky", split="test", resolution=32, metrics={"acd256_dlib": m})
    md = render(build_table("5", _records(tmp_path)), "md")
    line = next(x for x in md.splitlines() if x.startswith("| Full | synthetic_sky"))
    assert "—" in line
    assert "no value: 8 of 8 videos had fewer than 2 frames with a face" in md


def test_secondary_value_fills_its_own_column(tmp_path):
    # psnr_ssim_rgb carries PSNR as value and SSIM in extra.values.ssim (Table 3 has both columns)
    m = _m(23.0, "psnr_ssim_rgb", 100, extra={"values": {"psnr": 23.0, "ssim": 0.7}, "primary": "psnr"})
    _run(tmp_path, label="mocohd-sky_timelapse", dataset="sky_timelapse", split="test", metrics={"psnr_ssim_rgb": m})
    md = render(build_table("3", _records(tmp_path)), "md")
    assert "psnr_ssim_rgb:ssim" in md and "0.700" in md and "23.000" in md


def test_csv_keeps_raw_values_and_provenance(tmp_path):
    _run(tmp_path, label="mocohd-ucf101", dataset="ucf101", split="all",
         metrics={"fvd2048_16f": _m(612.345678, "fvd2048_16f", 2048)})
    rows = list(csv.DictReader(io.StringIO(render(build_table("1", _records(tmp_path)), "csv"))))
    meas = [r for r in rows if r["source"] == "measured"]
    assert len(meas) == 1 and float(meas[0]["value"]) == pytest.approx(612.345678)
    assert meas[0]["protocol"] == "fvd2048_16f" and meas[0]["split"] == "all" and meas[0]["n"] == "2048"
    assert len(meas[0]["protocol_ids"]) == 12 and meas[0]["bold"] == "True"
    pub = [r for r in rows if r["source"] == "published" and r["row"].startswith("TGANv2")]
    assert {r["value"] for r in pub} == {"26.6", "1209"} and all("Saito" in r["citation"] for r in pub)
    assert len(table_frame(build_table("1"))) == 10  # every published cell of Table 1


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._in, self._buf = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in = False
            self.cells.append(self._buf)

    def handle_data(self, data):
        if self._in:
            self._buf += data


def test_html_is_escaped_and_has_the_numbers(tmp_path):
    _run(tmp_path, label="<b>x</b> & y", dataset="ucf101", split="all",
         metrics={"fvd64_16f": _m(1.0, "fvd64_16f", 64, comparable=False, reasons=["N=64 < protocol N=2048"])})
    page = render(build_table("1", _records(tmp_path)), "html")
    assert "<b>x</b> & y" not in page and "&lt;b&gt;x&lt;/b&gt; &amp; y" in page
    p = _Cells()
    p.feed(page)
    assert "33.95 ± .25" in p.cells and "<b>x</b> & y" in p.cells


def test_latex_escape_is_ascii():
    s = latex_escape("w/o D_I† 33.95 ± .25 — 50% & λ")
    assert s.isascii()
    assert r"D\_I$^\dagger$" in s and r"$\pm$" in s and "---" in s and r"50\%" in s and r"\&" in s


def _latex_records(root):
    """Measured rows that exercise every table: labels with underscores, a merged pair, a value without number."""
    _run(root, label="w/o D_I", dataset="moving_mnist", split="test", resolution=32,
         metrics={"fvd32_16f[random-init]": _m(321.5, "fvd32_16f", 32, comparable=False,
                                               reasons=["random-init detector", "N=32 < protocol N=2048"])})
    for seed, v in ((0, 600.0), (1, 640.0)):
        _run(root, label="mocohd-ucf101", dataset="ucf101", split="all", seed=seed,
             metrics={"fvd2048_16f": _m(v, "fvd2048_16f", 2048)})
    m = _m(None, "acd256_dlib", 8, comparable=False, reasons=["no faces in 50% of frames & more"])
    _run(root, label="w/o L_contr", dataset="synthetic_sky", split="test", resolution=32,
         metrics={"acd256_dlib": m, "motion_div8x4_16f": _m(0.1, "motion_div8x4_16f", 32, comparable=False,
                                                             reasons=["K=8 < 100"], std=0.01)})
    return _records(root)


@pytest.mark.latex
@pytest.mark.timeout(300)
@pytest.mark.parametrize("table", TABLES)
def test_latex_output_compiles_with_pdflatex(tmp_path, table):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed (CI installs TeX Live; a skipped latex test fails CI)")
    tex = render(build_table(table, _latex_records(tmp_path / "runs")), "latex")
    assert tex.isascii() and r"\toprule" in tex and r"$^\dagger$" in tex
    if table in ("1", "4"):
        assert r"w/o D\_I" in tex and r"\textbf{" in tex and "---" in tex and r"$\pm$" in tex
    (tmp_path / "t.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
                                    "\\input{table}\n\\end{document}\n")
    (tmp_path / "table.tex").write_text(tex)
    out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_table_formats_and_errors(tmp_path):
    from vidbench.cli import cli

    r = CliRunner().invoke(cli, ["table", "--paper", "3", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].startswith("table,block,row,column,protocol")
    out = tmp_path / "t1.md"
    r = CliRunner().invoke(cli, ["table", "--paper", "1", "--out", str(out)])
    assert r.exit_code == 0 and "33.95 ± .25" in out.read_text()
    r = CliRunner().invoke(cli, ["table", "--paper", "6"])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["table", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_metric_that_could_not_run_shows_a_dash_with_the_reason(tmp_path):
    _run(tmp_path, label="w/o D_I", dataset="moving_mnist", split="test", resolution=32,
         metrics={"fvd32_16f": _m(700.0, "fvd32_16f", 32)})
    res = build_table("4", _records(tmp_path), not_measured=[("w/o D_I", "is10k_c3d", "not measured: C3D missing")])
    md = render(res, "md")
    line = next(x for x in md.splitlines() if x.startswith("| w/o D_I | moving_mnist"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2].startswith("700.000") and cells[3].startswith("—")  # columns: fvd32_16f, is10k_c3d
    key = cells[3].split("[")[1].rstrip("]")
    assert f"[{key}] not measured: C3D missing" in md
