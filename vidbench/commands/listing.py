"""`vidbench list models|metrics|datasets|detectors|weights`."""

from __future__ import annotations

import json

import click

from vidbench.registry import REGISTRIES


def _protocol_text(protocol) -> str:
    """Compact ``key=value`` text of a protocol dataclass/dict (what `list metrics` shows under each name)."""
    if protocol is None:
        return ""
    from vidbench.records import protocol_dict

    try:
        d = protocol_dict(protocol)
    except TypeError:
        return ""
    return ", ".join(f"{k}={v}" for k, v in d.items())


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
        extra = e.meta.get("summary", "") or _protocol_text(e.meta.get("protocol"))
        al = [a for a, n in aliases.items() if n == e.name]
        row = {"name": e.name, "description": e.description, "aliases": al, "summary": extra}
        if e.meta.get("protocol") is not None and not isinstance(e.meta.get("protocol"), str):
            try:
                from vidbench.records import protocol_dict

                row["protocol"] = protocol_dict(e.meta["protocol"])
            except TypeError:
                pass
        rows.append(row)
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
