"""Errors that the CLI turns into one clear line and exit status 2 (no traceback unless --debug)."""


class VidbenchError(Exception):
    """Bad usage or bad input. The message names the problem and the fix."""


class UnknownNameError(VidbenchError, KeyError):
    """A registry lookup failed; the message lists the known names and a did-you-mean."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class MissingCapabilityError(VidbenchError):
    """A CLI verb or option whose implementation does not exist yet (never produces fake output)."""


class WeightsMissingError(VidbenchError):
    """A pretrained weight file is not available locally; the message names the file and where to get it."""


class VideoReadError(VidbenchError):
    """A video/array file cannot be decoded or has the wrong dtype/shape/range; the message names the file."""


class UnreadablePathError(VideoReadError):
    """A file or folder exists but cannot be read (permission denied, I/O error): never reported as "no videos"."""
