"""Getting posts in: `import` a file, `collect` now."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.errors import OpinionError


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", "source_code", default="import", show_default=True,
              help="source code the posts belong to (created if missing)")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv", "xlsx"]), default="auto")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="column mapping, e.g. --map text=内容 --map id=编号")
@click.option("--batch", default=200, show_default=True)
@click.option("--rejected", "rejected_path", default=None, type=click.Path(dir_okay=False),
              help="where to write rejected rows with reasons (default: instance/imports/FILE.rejected.csv)")
@with_appcontext
def import_cmd(file, source_code, fmt, mapping, batch, rejected_path):
    """Import posts from a JSON Lines, CSV or Excel (.xlsx) file; a second run stores nothing new."""
    # lazy: the importer imports the pipeline, which loads numpy and simhash
    from opinion.ingest.importer import import_file
    try:
        summary = import_file(current_app._get_current_object(), file, source_code=source_code,
                              fmt=fmt, mapping=dict(m.split("=", 1) for m in mapping), batch=batch,
                              rejected_path=rejected_path)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())


@click.command("collect")
@click.argument("source", required=False)
@click.option("--once", is_flag=True, help="collect now, once, and exit")
@with_appcontext
def collect_cmd(source, once):
    """Collect from every enabled source (or one), now."""
    # lazy: collection imports the pipeline, which loads numpy and simhash
    from opinion.ingest.collect import collect_sources
    for line in collect_sources(current_app._get_current_object(), only=source):
        click.echo(line)


COMMANDS = (import_cmd, collect_cmd)
