"""CLI command: ``syndicate new "Title"``."""

from __future__ import annotations

import click

from syndicate.cli.base import Obj, handle_errors, main_group, pass_obj


@main_group.command("new")
@click.argument("title")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for more).")
@click.option("--draft", is_flag=True, help="Mark it a draft: imported but not published.")
@pass_obj
@handle_errors
def new_command(obj: Obj, title: str, tags: tuple[str, ...], draft: bool) -> None:
    """Write a new Markdown article with front matter into the articles folder.

    The file is [paths] articles/<slug>.md, dated now in the site's time zone; edit
    it, then `syndicate import` the folder."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from syndicate.intake.newarticle import new_article

    settings = obj.load()
    published = datetime.now(ZoneInfo(settings.site.timezone)).replace(second=0, microsecond=0)
    path = new_article(
        settings.articles_dir, title, published=published, tags=list(tags), draft=draft
    )
    click.echo(f"wrote {path}")
    click.echo(f"next: edit it, then syndicate import {settings.articles_dir}")
