"""Render once vs render per recipient: why an edition is inlined exactly once.

    .venv/bin/python benchmarks/bench_render.py [--recipients 5000] [--naive 40]

Prints messages per second on one core for
  naive     Jinja + premailer + message build for every recipient
  once      Jinja + premailer once, then messages.py personalises each copy
            (signed unsubscribe/preferences tokens included)
  floor     joining three precomputed byte strings per recipient (no tokens, no
            encoding): an upper bound no personalised path can reach
No store and no network: articles are built in memory.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from goals import at_least

from syndicate.articles import Article
from syndicate.config import parse_settings
from syndicate.context import App
from syndicate.digest import render_edition
from syndicate.digest.render import inline_css, template_context
from syndicate.messages import edition_content, prepare, recipient_for
from syndicate.render import render
from syndicate.tokens import Signer

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)

CONFIG = {
    "site": {"title": "Bench News", "url": "https://news.example.org/", "timezone": "Europe/Kyiv"},
    "mail": {"from": "Bench News <news@news.example.org>"},
    "feeds": [{"name": "all", "path": "all"}],
    "digests": [
        {
            "name": "weekly",
            "title": "Bench News weekly",
            "feed": "all",
            "schedule": "0 8 * * MON",
            "max_articles": 10,
        }
    ],
    "web": {"base_url": "https://news.example.org/"},
}


def articles(count: int) -> list[Article]:
    return [
        Article(
            id=i,
            uid=f"urn:uuid:{i}",
            slug=f"story-{i}",
            title=f"Story number {i}: the council votes on tram line {i}",
            summary="A summary of about two hundred characters that says what happened, "
            "who decided it, and what changes for readers next week. " * 2,
            content_html="<p>x</p>",
            content_text="x",
            published_at=SLOT - timedelta(hours=i + 1),
            updated_at=SLOT - timedelta(hours=i + 1),
            author_name="City Desk",
            image_url=f"https://news.example.org/media/{i}.jpg" if i % 3 == 0 else None,
        )
        for i in range(count)
    ]


def row(**values: object) -> dict[str, object]:
    """An ``editions`` row as messages.edition_content reads it."""
    return {"id": 1, "digest": "weekly", "created_at": SLOT, **values}


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--naive", type=int, default=40, help="recipients for the naive path")
    args = parser.parse_args()

    settings = parse_settings(CONFIG, base_dir=Path.cwd(), source="bench")
    app = App(settings)
    signer = Signer([b"bench-signing-key-0123456789"])
    items = articles(10)
    digest = settings.digest("weekly")
    now = SLOT

    def recipient(i: int, edition_id: int | None = 1):
        return recipient_for(
            settings,
            signer,
            delivery_id=i,
            subscriber_id=i,
            email=f"reader{i}@example.org",
            name=f"Reader {i}",
            edition_id=edition_id,
            now=now,
        )

    # naive: the whole pipeline per recipient
    start = time.perf_counter()
    for i in range(args.naive):
        r = recipient(i)
        context = template_context(settings, digest, items, slot=SLOT, more_count=0)
        context["links"] = {
            **context["links"],
            "unsubscribe": r.unsubscribe_url,
            "preferences": r.preferences_url,
        }
        html = inline_css(
            render(settings.templates_dir, "digest.html", subject="s", **context).replace(
                "@@unsubscribe_url@@", r.unsubscribe_url
            )
        )
        text = render(settings.templates_dir, "digest.txt", subject="s", **context)
        content = edition_content(settings, row(subject="s", html=html, text=text))
        prepare(content, settings).message_bytes(r)
    naive = time.perf_counter() - start

    # once: render + inline once, personalise many
    start = time.perf_counter()
    rendered = render_edition(app, "weekly", items, slot=SLOT)
    content = edition_content(
        settings, row(subject=rendered.subject, html=rendered.html, text=rendered.text)
    )
    prepared = prepare(content, settings)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    total = 0
    for i in range(args.recipients):
        total += len(prepared.message_bytes(recipient(i)))
    once = time.perf_counter() - start

    # floor: pre-serialised bytes joined per recipient, tokens precomputed
    recipients = [recipient(i) for i in range(args.recipients)]
    head, tail = b"To: x\r\n", prepared.message_bytes(recipients[0])
    start = time.perf_counter()
    for r in recipients:
        b"".join((head, r.email.encode(), tail))
    floor = time.perf_counter() - start

    print(
        f"edition: {len(rendered.html.encode()):,} bytes of HTML, {total // args.recipients:,} "
        f"bytes per message; render+inline once took {setup * 1000:.1f} ms"
    )
    print(f"{'path':<8}{'recipients':>12}{'msgs/s':>12}")
    print(f"{'naive':<8}{args.naive:>12,}{rate(args.naive, naive)}")
    once_rate = args.recipients / once
    goal = at_least(once_rate, 20_000, ">= 20,000/s")
    print(f"{'once':<8}{args.recipients:>12,}{rate(args.recipients, once)}  {goal}")
    print(f"{'floor':<8}{args.recipients:>12,}{rate(args.recipients, floor)}")
    print(f"speed-up of rendering once: {(args.recipients / once) / (args.naive / naive):,.0f}x")


if __name__ == "__main__":
    main()
