"""Personalised messages from one edition beside what most newsletter scripts do.

    .venv/bin/python benchmarks/bench_render.py [--recipients 5000] [--naive 30] [--runs 5]

Both paths make the complete message bytes of each recipient of a realistic edition
(20-30 KB of HTML, 14 articles), with signed unsubscribe and preferences links:

  reference  per recipient: Jinja2 renders the digest templates with that recipient's
             links, premailer inlines the CSS, the ``email`` package builds the
             multipart/alternative message and serialises it.
  syndicate  Jinja2 + premailer once (``render_edition``), ``messages.prepare`` once,
             then ``message_bytes`` per recipient; the one-off cost is included,
             spread over the recipients.

Subject and reference alternate over ``--runs`` rounds; the figure is CPU per message,
the median with its spread. Goal: the reference costs >= 500x syndicate per recipient.
No store and no network: articles are built in memory.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from measure import at_least, interleaved, print_rows

from syndicate.articles import Article
from syndicate.core.config import parse_settings
from syndicate.core.render import render
from syndicate.core.tokens import Signer
from syndicate.delivery.messages import edition_content, prepare, recipient_for
from syndicate.digest import render_edition
from syndicate.digest.render import inline_css, template_context
from syndicate.service.context import App

SLOT = datetime(2026, 3, 2, 6, tzinfo=UTC)
ARTICLES = 14

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
            "max_articles": ARTICLES,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--naive", type=int, default=30, help="recipients for the reference")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    settings = parse_settings(CONFIG, base_dir=Path.cwd(), source="bench")
    app = App(settings)
    signer = Signer([b"bench-signing-key-0123456789"])
    items = articles(ARTICLES)
    digest = settings.digest("weekly")

    def recipient(i: int):
        return recipient_for(
            settings,
            signer,
            delivery_id=i,
            subscriber_id=i,
            email=f"reader{i}@example.org",
            name=f"Reader {i}",
            edition_id=1,
            now=SLOT,
        )

    def reference() -> None:
        for i in range(args.naive):
            r = recipient(i)
            context = template_context(settings, digest, items, slot=SLOT, more_count=0)
            context["links"] = {
                **context["links"],
                "unsubscribe": r.unsubscribe_url,
                "preferences": r.preferences_url,
            }
            personal = {
                "@@unsubscribe_url@@": r.unsubscribe_url,
                "@@preferences_url@@": r.preferences_url,
                "@@name@@": r.name,
                "@@email@@": r.email,
            }
            html = render(settings.templates_dir, "digest.html", subject="s", **context)
            text = render(settings.templates_dir, "digest.txt", subject="s", **context)
            for key, value in personal.items():
                html, text = html.replace(key, value), text.replace(key, value)
            html = inline_css(html)
            message = EmailMessage()
            message["From"] = settings.mail.from_
            message["To"] = f"{r.name} <{r.email}>"
            message["Subject"] = "Bench News weekly"
            message["Date"] = format_datetime(SLOT)
            message["Message-ID"] = r.message_id
            message["List-Unsubscribe"] = f"<{r.unsubscribe_url}>"
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            message.as_bytes()

    sizes: list[int] = []

    def ours() -> None:
        rendered = render_edition(app.settings, app.settings.digest("weekly"), items, slot=SLOT)
        content = edition_content(
            settings, row(subject=rendered.subject, html=rendered.html, text=rendered.text)
        )
        prepared = prepare(content, settings)
        total = 0
        for i in range(args.recipients):
            total += len(prepared.message_bytes(recipient(i)))
        sizes[:] = [len(rendered.html.encode()), total // args.recipients]

    runs = interleaved(
        {"reference": reference, "syndicate": ours},
        args.runs,
        units={"reference": args.naive, "syndicate": args.recipients},
    )
    ref, sub = runs["reference"], runs["syndicate"]
    per_ref = ref.cpu_median / ref.units
    per_sub = sub.cpu_median / sub.units
    print(f"edition: {sizes[0]:,} bytes of HTML, {sizes[1]:,} bytes per message")
    print_rows(
        [
            at_least(
                "personalised messages from one edition (speed-up per recipient)",
                per_ref,
                per_sub,
                500,
                measured=f"syndicate, {args.recipients:,} recipients (render + prepare once "
                f"included): {sub.describe()} per message",
                reference=f"Jinja2 + premailer + email package per recipient "
                f"({args.naive} recipients): {ref.describe()} per message",
                reason=f"{per_sub * 1e6:.0f} us of CPU per message",
            )
        ]
    )


if __name__ == "__main__":
    main()
