"""`seed-demo`: the demo district, its people and a stream of posts, for trying the system out."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("seed-demo")
@click.option("--posts", default=900, show_default=True, help="how many demo posts to generate")
@click.option("--days", default=21, show_default=True, help="spread over the last N days")
@with_appcontext
def seed_demo_cmd(posts, days):
    """Load the district, demo users and a realistic stream of posts (idempotent)."""
    # lazy: seeding imports the pipeline, which loads numpy and simhash
    from opinion.demo.seed import seed_demo
    seed_demo(current_app._get_current_object(), n_posts=posts, days=days, echo=click.echo)


COMMANDS = (seed_demo_cmd,)
