"""Data package: the paper's published numbers (published.csv) and one table spec per paper table (table<N>.yaml).

The top-level ``leaderboards/`` folder installs as ``vidbench.leaderboards`` (pyproject package-dir); read it through
:func:`vidbench.tables.leaderboards_dir`.
"""
