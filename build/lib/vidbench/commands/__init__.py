"""One module per CLI verb, each exposing a click object named ``command`` (see vidbench/cli.py)."""
