"""Registries with decorator registration, lazy population and did-you-mean errors.

Five registries hold everything that can be named on the command line:
MODELS, METRICS, DATASETS, DETECTORS, WEIGHTS. An entry is any Python object (class, factory function, spec) plus a
one-line description. Modules that register entries are imported only when a registry is first queried, so
``import vidbench`` stays cheap and optional dependencies (tensorflow, dlib) are never imported at start-up.

Parametric names (``fvd2048_16f``, ``folder:PATH``, ``samples:PATH``) are served by *resolvers*: functions that map a
name to an :class:`Entry` or return ``None``.

Example::

    from vidbench.registry import METRICS

    @METRICS.register("psnr_ssim_rgb", description="PSNR/SSIM on RGB frames")
    def make_psnr_ssim_rgb(**options): ...

    entry = METRICS.get("psnr_ssim_rgb")      # Entry(name, obj, description, aliases, meta)
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from vidbench.errors import UnknownNameError, VidbenchError


@dataclass(frozen=True)
class Entry:
    name: str
    obj: Any
    description: str = ""
    aliases: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)


Resolver = Callable[[str], "Entry | None"]


class Registry:
    """A named collection of entries of one kind (e.g. "metrics")."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()):
        self.kind = kind
        self._modules = tuple(modules)
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._resolvers: list[tuple[str, Resolver]] = []
        self._loaded = False
        self._loading = False

    # ------------------------------------------------------------------ registration
    def register(self, name: str, *, description: str = "", aliases: tuple[str, ...] | list[str] = (), **meta):
        """Decorator: ``@REG.register("name", description="...")`` registers the decorated object."""

        def deco(obj):
            self.add(name, obj, description=description, aliases=aliases, **meta)
            return obj

        return deco

    def add(self, name: str, obj: Any, *, description: str = "", aliases=(), **meta) -> Entry:
        if not description and getattr(obj, "__doc__", None):
            description = obj.__doc__.strip().splitlines()[0]
        if name in self._entries and self._entries[name].obj is not obj:
            raise VidbenchError(f"{self.kind} registry: name {name!r} is registered twice")
        entry = Entry(name, obj, description, tuple(aliases), dict(meta))
        self._entries[name] = entry
        for a in entry.aliases:
            self._aliases[a] = name
        return entry

    def add_resolver(self, pattern_help: str, fn: Resolver) -> None:
        """Add a resolver for parametric names; ``pattern_help`` is shown in error messages (e.g. "fvd{N}_{T}f")."""
        self._resolvers.append((pattern_help, fn))

    # ------------------------------------------------------------------ lookup
    def _ensure_loaded(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for mod in self._modules:
                try:
                    importlib.import_module(mod)
                except ModuleNotFoundError as e:  # a module not written yet is skipped; broken imports inside are not
                    if e.name != mod:
                        raise
            self._loaded = True
        finally:
            self._loading = False

    def names(self, include_aliases: bool = False) -> list[str]:
        self._ensure_loaded()
        names = sorted(self._entries)
        if include_aliases:
            names += sorted(self._aliases)
        return names

    def entries(self) -> Iterator[Entry]:
        self._ensure_loaded()
        for n in sorted(self._entries):
            yield self._entries[n]

    def aliases(self) -> dict[str, str]:
        self._ensure_loaded()
        return dict(self._aliases)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
            return True
        except UnknownNameError:
            return False

    def get(self, name: str) -> Entry:
        """Return the entry for ``name`` (canonical name, alias, or a name a resolver accepts)."""
        self._ensure_loaded()
        if name in self._entries:
            return self._entries[name]
        if name in self._aliases:
            return self._entries[self._aliases[name]]
        for _, resolver in self._resolvers:
            entry = resolver(name)
            if entry is not None:
                return entry
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        known = self.names(include_aliases=True)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        msg = f"unknown {self.kind[:-1] if self.kind.endswith('s') else self.kind} {name!r}"
        if close:
            msg += f"; did you mean {' or '.join(repr(c) for c in close)}?"
        msg += f" Known: {', '.join(known) if known else '(none)'}"
        if self._resolvers:
            msg += "; patterns: " + ", ".join(p for p, _ in self._resolvers)
        return msg


MODELS = Registry(
    "models",
    (
        "vidbench.models.stylegan2",
        "vidbench.models.biggan",
        "vidbench.models.mocogan_hd",
        "vidbench.baselines.tgan_v2",
        "vidbench.baselines.dtvnet",
        "vidbench.baselines.samples",
    ),
)
METRICS = Registry(
    "metrics",
    (
        "vidbench.metrics.fvd",
        "vidbench.metrics.fid",
        "vidbench.metrics.inception_score",
        "vidbench.metrics.acd",
        "vidbench.metrics.psnr_ssim",
        "vidbench.metrics.motion_diversity",
        "vidbench.metrics.pca_variance",
    ),
)
DATASETS = Registry("datasets", ("vidbench.datasets",))
DETECTORS = Registry(
    "detectors",
    (
        "vidbench.metrics.detectors.i3d",
        "vidbench.metrics.detectors.c3d",
        "vidbench.metrics.detectors.inception_v3",
        "vidbench.metrics.detectors.faces",
        "vidbench.metrics.detectors.vgg",
    ),
)
WEIGHTS = Registry(
    "weights",
    (
        "vidbench.weights",
        "vidbench.metrics.detectors.i3d",
        "vidbench.metrics.detectors.c3d",
        "vidbench.metrics.detectors.inception_v3",
        "vidbench.metrics.detectors.faces",
        "vidbench.metrics.detectors.vgg",
        "vidbench.models.stylegan2",
        "vidbench.models.biggan",
        "vidbench.models.inversion",
        "vidbench.models.mocogan_hd",
    ),
)

REGISTRIES: dict[str, Registry] = {
    "models": MODELS,
    "metrics": METRICS,
    "datasets": DATASETS,
    "detectors": DETECTORS,
    "weights": WEIGHTS,
}
