"""`vidbench train image|motion|tganv2|dtvnet` — each subcommand lives in vidbench/commands/train_<what>.py."""

import click

from vidbench.cli import LazyGroup

SUBVERBS = {
    "image": ("vidbench.commands.train_image", "Train StyleGAN2 on an image or video-frame dataset."),
    "motion": ("vidbench.commands.train_motion", "Train the MoCoGAN-HD motion generator on a video dataset."),
    "tganv2": ("vidbench.commands.train_tganv2", "Train the TGANv2 baseline."),
    "dtvnet": ("vidbench.commands.train_dtvnet", "Train the DTVNet baseline."),
}


@click.group(cls=LazyGroup, verbs=SUBVERBS)
def command():
    """Train an image generator, a motion generator or a baseline.

    \b
    Example:
      vidbench train image --dataset moving_mnist --set size=32 --out runs/
    """
