import pytest

from vidbench.errors import UnknownNameError
from vidbench.registry import REGISTRIES, Entry, Registry


def test_register_get_alias_and_did_you_mean():
    reg = Registry("things")

    @reg.register("alpha_metric", description="first", aliases=("alpha",))
    def alpha():
        """doc line"""

    reg.add("beta_metric", object(), description="second")
    assert reg.get("alpha_metric").obj is alpha
    assert reg.get("alpha").name == "alpha_metric"
    assert reg.names() == ["alpha_metric", "beta_metric"]
    with pytest.raises(UnknownNameError) as ei:
        reg.get("alpha_metrc")
    msg = str(ei.value)
    assert "did you mean 'alpha_metric'" in msg
    assert "beta_metric" in msg  # known names listed


def test_description_defaults_to_docstring_and_duplicates_refused():
    reg = Registry("things")

    def f():
        """One line description.

        More text."""

    reg.add("f", f)
    assert reg.get("f").description == "One line description."
    reg.add("f", f)  # same object: idempotent
    with pytest.raises(Exception, match="registered twice"):
        reg.add("f", lambda: None)


def test_resolver_for_parametric_names():
    reg = Registry("metrics")
    reg.add_resolver("fvd{N}_{T}f", lambda n: Entry(n, int(n[3:].split("_")[0])) if n.startswith("fvd") else None)
    assert reg.get("fvd256_16f").obj == 256
    with pytest.raises(UnknownNameError, match=r"patterns: fvd\{N\}_\{T\}f"):
        reg.get("nope")


def test_lazy_import_skips_unwritten_modules_only(tmp_path, monkeypatch):
    pkg = tmp_path / "lazyreg_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text(
        "from vidbench.registry import Registry\nREG = Registry('x')\n"
    )
    (pkg / "broken.py").write_text("import this_module_does_not_exist_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ok = Registry("x", ("lazyreg_pkg.good", "lazyreg_pkg.not_written_yet"))
    assert ok.names() == []
    bad = Registry("x", ("lazyreg_pkg.broken",))
    with pytest.raises(ModuleNotFoundError):
        bad.names()


def test_global_registries_exist():
    assert set(REGISTRIES) == {"models", "metrics", "datasets", "detectors", "weights"}
