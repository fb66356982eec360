"""The ``vidbench`` command line (click).

Verbs are implemented in ``vidbench/commands/<verb>.py``, each exposing a click object named ``command``; they are
imported only when invoked, so ``vidbench --help`` stays fast and a verb whose module does not exist yet says which
capability is missing and exits 2 (never fake output).

Exit status: 0 success, 2 bad usage or bad input (one-line error; the traceback only with ``--debug``).
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from vidbench import __version__
from vidbench.errors import VidbenchError

# verb -> (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "list": ("vidbench.commands.listing", "List registered models, metrics, datasets, detectors or weights."),
    "data": ("vidbench.commands.data", "Inspect datasets: sizes, frames, resolution, fps, fingerprint."),
    "quickstart": ("vidbench.commands.quickstart", "Offline end-to-end demo on embedded data."),
    "train": ("vidbench.commands.train", "Train an image generator, a motion generator or a baseline."),
    "pca": ("vidbench.commands.pca", "W-space PCA of an image generator (the V of Eqn. 2)."),
    "generate": ("vidbench.commands.generate", "Sample videos from a trained model."),
    "eval": ("vidbench.commands.evaluate", "Evaluate a model on a dataset with named metric protocols."),
    "score": ("vidbench.commands.score", "Score videos on disk with one metric protocol."),
    "ablate": ("vidbench.commands.ablate", "Run the paper's ablation tables (4, 5)."),
    "table": ("vidbench.commands.table", "Print a paper table from published numbers and your runs."),
    "leaderboard": ("vidbench.commands.leaderboard", "Export leaderboards (csv, latex, md)."),
    "weights": ("vidbench.commands.weights", "List, verify, fetch or locate pretrained weight files."),
    "report": ("vidbench.commands.report", "Write an HTML report of a run folder."),
    "study": ("vidbench.commands.study", "Human 2AFC preference studies: build, serve, analyze."),
}


def _missing_command(verb: str, module: str, help_text: str) -> click.Command:
    @click.command(
        verb,
        help=f"{help_text}\n\nNot available in this build: {module} is not implemented yet.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def cmd():
        raise VidbenchError(f"`vidbench {verb}` is not available yet: missing capability {module}")

    return cmd


class LazyGroup(click.Group):
    def __init__(self, *a, verbs: dict[str, tuple[str, str]], **kw):
        super().__init__(*a, **kw)
        self._verbs = verbs

    def list_commands(self, ctx):
        return sorted(set(self._verbs) | set(self.commands))

    def get_command(self, ctx, name):
        if name in self.commands:
            return self.commands[name]
        if name not in self._verbs:
            return None
        module, help_text = self._verbs[name]
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            return _missing_command(name, module, help_text)
        cmd = mod.command
        cmd.name = name
        return cmd

    def format_commands(self, ctx, formatter):  # short help without importing every verb module
        rows = [(name, self._verbs[name][1]) for name in self.list_commands(ctx) if name in self._verbs]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# OS errors caused by the environment, not by a bug: the CLI names the path and the fix instead of a traceback
_ENV_ERRNOS = {errno.EACCES: "fix the permissions or choose another path", errno.EPERM: "fix the permissions or "
               "choose another path", errno.ENOSPC: "free disk space", errno.EDQUOT: "free disk space (quota)",
               errno.EROFS: "the file system is read-only; choose another path"}


class DebugAwareGroup(LazyGroup):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except VidbenchError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {e}", err=True)
            ctx.exit(2)
        except OSError as e:  # permission denied / disk full / read-only: one line naming the path, as for bad input
            if (ctx.obj and ctx.obj.get("debug")) or e.errno not in _ENV_ERRNOS:
                raise
            fix = _ENV_ERRNOS[e.errno]
            click.echo(f"error: {e.filename or ''}: {e.strerror}; {fix}", err=True)
            ctx.exit(2)


@click.group(cls=DebugAwareGroup, verbs=VERBS)
@click.version_option(__version__, prog_name="vidbench")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.pass_context
def cli(ctx, debug):
    """vidbench: train and fairly evaluate video generators.

    \b
    Example:
      vidbench list metrics
      vidbench quickstart --out runs/
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv=None):
    try:
        return cli.main(args=argv, prog_name="vidbench", standalone_mode=True)
    except VidbenchError as e:  # errors raised while building a lazy command
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
