"""`vidbench list models|metrics|datasets|detectors|weights`."""

from __future__ import annotations

import json

import click

from vidbench.registry import REGISTRIES


@click.command()
@click.argument("kind", type=click.Choice(sorted(REGISTRIES)))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def command(kind, as_json):
    """List registered names with a one-line description.

    \b
    Example:
      vidbench list metrics
    """
    reg = REGISTRIES[kind]
    rows = []
    aliases = reg.aliases()
    for e in reg.entries():
        extra = e.meta.get("summary", "")
        al = [a for a, n in aliases.items() if n == e.name]
        rows.append({"name": e.name, "description": e.description, "aliases": al, "summary": extra})
    patterns = [p for p, _ in reg._resolvers]
    if as_json:
        click.echo(json.dumps({"kind": kind, "entries": rows, "patterns": patterns}, indent=2))
        return
    if not rows:
        click.echo(f"(no {kind} registered)")
    width = max((len(r["name"]) for r in rows), default=10)
    for r in rows:
        line = f"{r['name']:<{width}}  {r['description']}"
        if r["aliases"]:
            line += f"  (aliases: {', '.join(r['aliases'])})"
        click.echo(line)
        if r["summary"]:
            click.echo(f"{'':<{width}}    {r['summary']}")
    for p in patterns:
        click.echo(f"pattern: {p}")
