"""Delivery speed: personalising, SMTP against a bare smtplib loop, batch HTTP providers.

    .venv/bin/python benchmarks/bench_delivery.py [--recipients 10000] [--http 5000]

Prints a table of three measurements, all in this one run on loopback:

  personalise   messages/s from one prepared edition (messages.py, tokens included),
                beside an email-package build per recipient (EmailMessage + policy
                serialisation, no Jinja/premailer: see bench_render.py for that naive
                path) and the floor (joining pre-serialised bytes).
  smtp          `delivery.drain` of a whole edition (claim, personalise, send, record
                every acceptance in SQLite) to an aiosmtpd sink in another process,
                beside a bare smtplib loop sending the same pre-built messages over
                one reused connection to the same sink. Target: drain >= 0.9x bare.
  http batch    Mailgun-shaped recipients/s to a local HTTP endpoint, 1,000 per call
                against one call per message.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from goals import at_least  # noqa: E402

from syndicate.clock import FixedClock  # noqa: E402
from syndicate.config import Settings, load_settings  # noqa: E402
from syndicate.context import App  # noqa: E402
from syndicate.delivery import drain  # noqa: E402
from syndicate.mailers.base import OutgoingMessage  # noqa: E402
from syndicate.mailers.mailgun import MailgunMailer  # noqa: E402
from syndicate.messages import EditionContent, Recipient, prepare, recipient_for  # noqa: E402
from syndicate.tokens import Signer  # noqa: E402
from tests.support import write_config  # noqa: E402
from tests.test_delivery_fixtures import EDITION_HTML, EDITION_TEXT, queued_edition  # noqa: E402

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
BODY = "<p>" + ("Reporting and analysis from the desk. " * 40) + "</p>\n"
ROWS: list[tuple[str, str, str]] = []


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(func: Callable[[], int]) -> float:
    start = time.perf_counter()
    count = func()
    return rate(count, time.perf_counter() - start)


def settings_in(directory: Path, extra: str = ""):
    return load_settings(write_config(directory, f"sqlite:///{directory / 'bench.db'}", extra))


# -- personalisation -----------------------------------------------------------------------


def bench_content() -> EditionContent:
    """The edition every delivery benchmark sends: about 30 KB of HTML."""
    return EditionContent(
        1,
        "weekly",
        "Bench weekly",
        EDITION_HTML.format(body=BODY * 20),
        EDITION_TEXT.format(body=BODY * 5),
        "Bench <news@news.example.org>",
        None,
        "weekly.news.example.org",
        T0,
    )


def reader(settings: Settings, signer: Signer, number: int) -> Recipient:
    """Reader ``number`` of a benchmark edition, with signed links."""
    return recipient_for(
        settings,
        signer,
        delivery_id=number,
        subscriber_id=number,
        email=f"reader{number}@example.com",
        name=f"Reader {number}",
        edition_id=1,
        now=T0,
    )


def bench_personalise(directory: Path, count: int) -> None:
    settings = settings_in(directory)
    content = bench_content()
    signer = Signer([b"k" * 32])
    prepared = prepare(content, settings)

    def ours() -> int:
        for i in range(count):
            r = reader(settings, signer, i)
            prepared.message_bytes(r)
        return count

    def email_package() -> int:
        n = max(1, count // 20)
        for i in range(n):
            r = reader(settings, signer, i)
            values = prepared.variables(r)
            html, text = content.html, content.text
            for key, value in values.items():
                html = html.replace(f"@@{key}@@", value)
                text = text.replace(f"@@{key}@@", value)
            message = EmailMessage()
            message["From"], message["To"] = content.from_addr, f"Reader {i} <{r.email}>"
            message["Subject"], message["Date"] = content.subject, format_datetime(T0)
            message["Message-ID"] = r.message_id
            message["List-Unsubscribe"] = f"<{r.unsubscribe_url}>"
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            message.as_bytes()
        return n

    sample = prepared.message_bytes(reader(settings, signer, 1))
    head, body = sample[:400], sample[400:]

    def floor() -> int:
        for _ in range(count):
            b"".join((head, b"r@example.com", body))
        return count

    ROWS.append(("personalise", "email package per recipient", f"{timed(email_package):,.0f}/s"))
    ours_rate = timed(ours)
    ROWS.append(
        (
            "personalise",
            "messages.py (prepared once)",
            f"{ours_rate:,.0f}/s {at_least(ours_rate, 20_000, '>= 20,000/s')}",
        )
    )
    ROWS.append(("personalise", "floor: join pre-serialised bytes", f"{timed(floor):,.0f}/s"))


# -- SMTP ----------------------------------------------------------------------------------


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the aiosmtpd sink did not start")


def bench_smtp(directory: Path, count: int) -> None:
    sink, port = start_sink()
    try:
        extra = (
            f"[mail.smtp]\nhost = '127.0.0.1'\nport = {port}\nsecurity = 'none'\n"
            "[delivery]\nbatch_size = 500\n"
        )
        config = write_config(directory, f"sqlite:///{directory / 'smtp.db'}", extra)
        text = config.read_text().replace('provider = "maildir"', 'provider = "smtp"')
        text = text.replace(
            'maildir = "outbox"', 'maildir = "outbox"\nrate_per_second = 1e9\nburst = 1000000'
        )
        config.write_text(text)
        app = App(load_settings(config), clock=FixedClock(T0))
        queued_edition(app.engine, count, now=T0, body=BODY * 20)

        # The same messages, pre-built, for the bare loop.
        from sqlalchemy import select

        from syndicate.db import editions
        from syndicate.messages import edition_content

        with app.engine.connect() as conn:
            row = conn.execute(select(editions)).one()
        prepared = prepare(edition_content(app.settings, row._mapping), app.settings)
        signer = Signer([b"k" * 32])
        built = [prepared.message_bytes(reader(app.settings, signer, i)) for i in range(count)]

        def bare() -> int:
            conn = smtplib.SMTP("127.0.0.1", port)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i, raw in enumerate(built):
                conn.sendmail("news@news.example.org", [f"reader{i}@example.com"], raw)
            conn.quit()
            return count

        def ours() -> int:
            report = drain(app, once=True)
            assert report.sent == count, report
            return count

        bare_rate = timed(bare)
        ours_rate = timed(ours)
        app.close()
        ROWS.append(("smtp", "bare smtplib loop, pre-built messages", f"{bare_rate:,.0f}/s"))
        ROWS.append(
            (
                "smtp",
                "drain (claim+personalise+send+record)",
                f"{ours_rate:,.0f}/s ({ours_rate / bare_rate:.2f}x bare) "
                f"{at_least(ours_rate / bare_rate, 0.9, '>= 0.9x')}",
            )
        )
    finally:
        sink.terminate()
        sink.wait()


# -- batch HTTP providers ------------------------------------------------------------------


def bench_http(directory: Path, count: int) -> None:
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    from syndicate.config import MailgunSettings

    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.expect_request("/v3/mg.example.org/messages", method="POST").respond_with_handler(
        lambda request: Response('{"id": "<x@mg>", "message": "Queued."}')
    )
    server.start()
    try:
        settings = settings_in(directory)
        content = bench_content()
        prepared = prepare(content, settings)
        signer = Signer([b"k" * 32])
        outgoing = [
            OutgoingMessage(
                prepared,
                reader(settings, signer, i),
            )
            for i in range(count)
        ]
        mailer = MailgunMailer(
            MailgunSettings(domain="mg.example.org", base_url=server.url_for("/")), api_key="k"
        )

        def batched() -> int:
            for i in range(0, count, mailer.max_batch):
                results = mailer.send_batch(outgoing[i : i + mailer.max_batch])
                assert all(r.outcome == "sent" for r in results)
            return count

        def single() -> int:
            n = min(count, 500)
            for message in outgoing[:n]:
                mailer.send_batch([message])
            return n

        ROWS.append(("http batch", "mailgun, one call per message", f"{timed(single):,.0f}/s"))
        batched_rate = timed(batched)
        ROWS.append(
            (
                "http batch",
                "mailgun, 1,000 recipients per call",
                f"{batched_rate:,.0f}/s {at_least(batched_rate, 100_000, '>= 100,000/s')}",
            )
        )
        mailer.close()
    finally:
        server.stop()


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--http", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in ("p", "s", "h"):
            (base / name).mkdir()
        bench_personalise(base / "p", args.recipients)
        bench_smtp(base / "s", args.recipients)
        bench_http(base / "h", args.http)
    width = max(len(r[1]) for r in ROWS)
    print(f"{'area':<12} {'what':<{width}}  rate")
    for area, what, value in ROWS:
        print(f"{area:<12} {what:<{width}}  {value}")


if __name__ == "__main__":
    main()
