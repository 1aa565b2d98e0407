"""Serves the web application with waitress, a production WSGI server that needs no compiler."""
from __future__ import annotations

import click
from waitress import serve as waitress_serve


def serve(app, host: str | None = None, port: int | None = None) -> None:
    host = host or app.config["WEB_HOST"]
    port = port or app.config["WEB_PORT"]
    click.echo(f"网页地址: http://{host}:{port}/", err=True)
    waitress_serve(app, host=host, port=port, threads=8)
