"""The command-line options shared by `vidbench train tganv2` and `vidbench train dtvnet`.

Both verbs hand their options to :func:`vidbench.commands.train_tganv2.train_baseline`; only the help texts, the preset
names and the default number of final videos differ. Not a verb itself (vidbench/commands/train.py lists the verbs).
"""

from __future__ import annotations

from typing import Callable, Sequence

import click


def baseline_train_options(*, dataset_help: str, presets: Sequence[str], preset_help: str, set_example: str,
                           num_final: int, num_final_help: str) -> Callable:
    """Decorator adding, in this ``--help`` order, ``--dataset --data-root --preset --set --out --resume --num-final
    --no-progress --json`` to a click command; the command receives ``(dataset, data_root, preset, overrides, out,
    resume, num_final, no_progress, as_json)``. ``--preset`` offers ``auto`` followed by ``presets``."""
    options = [
        click.option("--dataset", required=True, help=dataset_help),
        click.option("--data-root", default=None, help="Folder holding the real dataset (or $VIDBENCH_DATA)."),
        click.option("--preset", type=click.Choice(["auto", *presets]), default="auto", show_default=True,
                     help=preset_help),
        click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                     help=f"Config override, repeatable, e.g. {set_example}."),
        click.option("--out", default="runs", show_default=True, help="Parent folder of the run folder."),
        click.option("--resume", default=None, help="Run folder to continue exactly from checkpoints/latest.pt."),
        click.option("--num-final", default=num_final, show_default=True, help=num_final_help),
        click.option("--no-progress", is_flag=True, help="Hide the progress bar."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout."),
    ]

    def decorate(f: Callable) -> Callable:
        for option in reversed(options):  # as if stacked top to bottom above ``f``
            f = option(f)
        return f

    return decorate
