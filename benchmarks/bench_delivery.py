"""SMTP delivery beside a bare smtplib loop to the same sink.

    .venv/bin/python benchmarks/bench_delivery.py [--recipients 10000] [--runs 3] [--postgres]

  reference  a bare smtplib loop over one reused connection sending the same messages,
             pre-built (so it pays for no personalising and records nothing).
  syndicate  ``delivery.drain`` of the whole edition (claim, personalise with signed
             links, send, record every acceptance in SQLite, or with --postgres in a
             fresh database per run on the server SYNDICATE_TEST_DATABASE_URL names)
             over its own connection.

The sink is aiosmtpd in another process (its CPU is not counted). The two alternate over
``--runs`` rounds, each on a freshly queued store. Goals: client CPU per message
<= 1.5x the bare loop's, and wall-clock throughput >= 0.95x. Delivery settings as
shipped except ``batch_size = 500`` (shipped: 100) and no rate limit.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_outbox import fresh_pg_database  # noqa: E402
from measure import Row, interleaved, print_rows  # noqa: E402
from sqlalchemy import select  # noqa: E402

from syndicate.core.clock import FixedClock  # noqa: E402
from syndicate.core.config import load_settings  # noqa: E402
from syndicate.core.db import editions  # noqa: E402
from syndicate.core.tokens import Signer  # noqa: E402
from syndicate.delivery.drain import drain  # noqa: E402
from syndicate.delivery.messages import edition_content, prepare, recipient_for  # noqa: E402
from syndicate.service.context import App  # noqa: E402
from tests.support import write_config  # noqa: E402
from tests.support.deliveries import queued_edition  # noqa: E402

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
# About 25 KB of HTML per edition, as a real digest.
BODY = "<p>" + ("Reporting and analysis from the desk. " * 40) + "</p>\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the aiosmtpd sink did not start")


def smtp_app(directory: Path, port: int, count: int, postgres: str | None = None) -> App:
    """A fresh store with one edition queued for ``count`` readers, sending over SMTP;
    ``postgres``: the server on which to create a fresh database for it."""
    directory.mkdir(parents=True)
    url = fresh_pg_database(postgres) if postgres else f"sqlite:///{directory / 'smtp.db'}"
    extra = (
        f"[mail.smtp]\nhost = '127.0.0.1'\nport = {port}\nsecurity = 'none'\n"
        "[delivery]\nbatch_size = 500\n"
    )
    config = write_config(directory, url, extra)
    text = config.read_text().replace('provider = "maildir"', 'provider = "smtp"')
    text = text.replace(
        'maildir = "outbox"', 'maildir = "outbox"\nrate_per_second = 1e9\nburst = 1000000'
    )
    config.write_text(text)
    app = App(load_settings(config), clock=FixedClock(T0))
    queued_edition(app.engine, count, now=T0, body=BODY * 10)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="the store on SYNDICATE_TEST_DATABASE_URL's server"
    )
    args = parser.parse_args()
    count = args.recipients
    postgres = os.environ["SYNDICATE_TEST_DATABASE_URL"] if args.postgres else None
    store = "PostgreSQL" if postgres else "SQLite"
    sink, port = start_sink()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            apps: list[App] = [smtp_app(base / "store-0", port, count, postgres)]
            with apps[0].engine.connect() as conn:
                row = conn.execute(select(editions)).one()
            settings = apps[0].settings
            prepared = prepare(edition_content(settings, row._mapping), settings)
            signer = Signer([b"k" * 32])
            built = [
                prepared.message_bytes(
                    recipient_for(
                        settings,
                        signer,
                        delivery_id=i,
                        subscriber_id=i,
                        email=f"reader{i}@example.com",
                        name=f"Reader {i}",
                        edition_id=1,
                        now=T0,
                    )
                )
                for i in range(count)
            ]
            size = sum(map(len, built)) // count

            def bare() -> None:
                conn = smtplib.SMTP("127.0.0.1", port)
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i, raw in enumerate(built):
                    conn.sendmail("news@news.example.org", [f"reader{i}@example.com"], raw)
                conn.quit()

            def ours() -> None:
                last = apps[-1]
                report = drain(
                    last.engine, last.settings, clock=last.clock, mailer=last.mailer, once=True
                )
                assert report.sent == count, report

            drained = [False]

            def fresh(name: str) -> None:
                """A freshly queued store before each drain (the first one is ready)."""
                if name != "syndicate":
                    return
                if drained[0]:
                    apps[-1].close()
                    apps.append(smtp_app(base / f"store-{len(apps)}", port, count, postgres))
                drained[0] = True

            runs = interleaved(
                {"bare": bare, "syndicate": ours},
                args.runs,
                units={"bare": count, "syndicate": count},
                before=fresh,
            )
            apps[-1].close()
    finally:
        sink.terminate()
        sink.wait()
    ref, sub = runs["bare"], runs["syndicate"]
    cpu_ratio = sub.cpu_median / ref.cpu_median
    rate_ratio = ref.wall_median / sub.wall_median
    print(f"{count:,} recipients, {size:,} bytes per message")
    print_rows(
        [
            Row(
                f"SMTP delivery, {count:,} recipients, {store} store: client CPU per message",
                f"drain (claim, personalise, send, record): {sub.describe()} per message; "
                f"throughput {rate_ratio:.2f}x the bare loop's (goal >= 0.95x)",
                f"bare smtplib loop, same pre-built messages, same sink: {ref.describe()} per message",
                cpu_ratio,
                "<= 1.5x (and throughput >= 0.95x)",
                cpu_ratio <= 1.5 and rate_ratio >= 0.95,
                f"{(sub.cpu_median - ref.cpu_median) / count * 1e6:.0f} us of CPU per "
                "message beyond the bare loop (personalising, claiming, recording)",
            )
        ]
    )


if __name__ == "__main__":
    main()
