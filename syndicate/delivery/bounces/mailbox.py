"""Poll ``[mail.bounces]``: a Maildir folder or an IMAP mailbox of bounce reports.

A message is marked handled only after its report was committed (``ingest``): a kill
between the two leaves it unmarked, and the next poll reads it again, which changes
nothing (the event is a replay). Handled means, per ``processed``: ``flag`` (Maildir:
moved to ``cur/`` with the ``S`` flag; IMAP: ``\\Seen``) or ``delete``. Reports that
are forged or name no delivery of ours are never deleted: they are flagged seen and
``\\Flagged`` (Maildir ``F``) for the operator to look at.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from syndicate.core import oserrors
from syndicate.core.config import BounceMailboxSettings, secret
from syndicate.core.errors import SyndicateError
from syndicate.core.parts import Parts
from syndicate.core.tls import client_context
from syndicate.delivery.bounces.ingest import Result, ingest, keys_for
from syndicate.delivery.bounces.parse import MAX_REPORT

KEEP = ("forged", "unmatched")  # never deleted, flagged for the operator


class MailboxError(SyndicateError):
    """The bounce mailbox cannot be read."""


def poll(app: Parts, on_result: Callable[[str, Result], None] | None = None) -> Counter[str]:
    """Handle every new message in the configured mailbox; counts per status."""
    settings = app.settings.mail.bounces
    if settings is None:
        raise MailboxError(
            "mail.bounces is not configured",
            hint="add a [mail.bounces] table, or pipe one message to 'syndicate bounces ingest -'",
        )
    source = _maildir if settings.source == "maildir" else _imap
    counts: Counter[str] = Counter()
    keys = keys_for(app)
    for where, raw, done in source(app, settings):
        result = ingest(app, raw, keys=keys, where=where)
        done(result)  # only now: the report is committed
        counts[result.status] += 1
        if on_result is not None:
            on_result(where, result)
    return counts


Handled = Callable[[Result], None]


# -- Maildir ----------------------------------------------------------------------------


def _maildir(app: Parts, settings: BounceMailboxSettings) -> Iterator[tuple[str, bytes, Handled]]:
    assert settings.maildir is not None  # checked by the config
    root = app.settings.resolve(settings.maildir)
    waiting = []
    for sub in ("new", "cur"):
        try:
            names = sorted(os.listdir(root / sub))
        except OSError as exc:
            raise MailboxError(
                f"mail.bounces.maildir: cannot read {root / sub}: {oserrors.reason(exc)}",
                hint=oserrors.hint(exc, f"mail.bounces.maildir ({root})")
                or "point mail.bounces.maildir at the Maildir your MTA delivers bounces to",
            ) from None
        for name in names:
            if name.startswith(".") or (sub == "cur" and "S" in _flags(name)):
                continue
            waiting.append(root / sub / name)
    for path in waiting[: settings.limit]:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_REPORT)
        except FileNotFoundError:  # another poller took it
            continue
        except OSError as exc:
            raise MailboxError(f"cannot read {path}: {oserrors.reason(exc)}") from None
        yield str(path), raw, _maildir_done(root, path, settings.processed)


def _flags(name: str) -> str:
    return name.partition(":2,")[2]


def _maildir_done(root: Path, path: Path, processed: str) -> Handled:
    def done(result: Result) -> None:
        try:
            if processed == "delete" and result.status not in KEEP:
                path.unlink(missing_ok=True)
                return
            base = path.name.partition(":2,")[0]
            flags = set(_flags(path.name)) | {"S"} | ({"F"} if result.status in KEEP else set())
            os.replace(path, root / "cur" / f"{base}:2,{''.join(sorted(flags))}")
        except FileNotFoundError:
            pass  # another poller handled it too (its report was a replay)
        except OSError as exc:
            raise MailboxError(f"cannot mark {path} handled: {oserrors.reason(exc)}") from None

    return done


# -- IMAP -------------------------------------------------------------------------------

_UIDS = re.compile(rb"\d+")


def _imap(app: Parts, settings: BounceMailboxSettings) -> Iterator[tuple[str, bytes, Handled]]:
    password = secret(settings.password_env, key="mail.bounces.password_env") or ""
    where = f"imap://{settings.host}:{_port(settings)}/{settings.mailbox}"
    ca_file = app.settings.resolve(settings.ca_file) if settings.ca_file else None
    conn = _connect(settings, password, where, ca_file)
    deleted = False
    try:
        _checked(conn.select(_quoted(settings.mailbox)), where, "SELECT")
        _, data = _checked(conn.uid("SEARCH", "UNSEEN"), where, "SEARCH")
        uids = _UIDS.findall(data[0] or b"")[: settings.limit]
        for uid in uids:
            fetch = f"(BODY.PEEK[]<0.{MAX_REPORT}>)"  # a huge message: its start only
            _, data = _checked(conn.uid("FETCH", uid, fetch), where, "FETCH")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:
                continue  # expunged by someone else meanwhile

            def done(result: Result, uid: bytes = uid) -> None:
                nonlocal deleted
                if settings.processed == "delete" and result.status not in KEEP:
                    flags = r"(\Seen \Deleted)"
                    deleted = True
                else:
                    flags = r"(\Seen \Flagged)" if result.status in KEEP else r"(\Seen)"
                # imaplib encodes str arguments and sends bytes as they are; typeshed
                # allows str only.
                answer = conn.uid("STORE", uid, "+FLAGS", flags)  # type: ignore[arg-type]
                _checked(answer, where, "STORE")

            yield f"{where};UID={uid.decode()}", raw, done
        if deleted:
            _checked(conn.expunge(), where, "EXPUNGE")
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"{where}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def _port(settings: BounceMailboxSettings) -> int:
    return settings.port or (993 if settings.security == "ssl" else 143)


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked(answer: tuple[str, list[Any]], where: str, command: str) -> tuple[str, list[Any]]:
    typ, data = answer
    if typ != "OK":
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"{where}: {command} refused: {text[:200]}")
    return typ, data


def _connect(
    settings: BounceMailboxSettings, password: str, where: str, ca_file: Path | None
) -> imaplib.IMAP4:
    tls = client_context(verify=settings.verify_tls, ca_file=ca_file, key="mail.bounces.ca_file")
    host, port = settings.host or "", _port(settings)
    try:
        if settings.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=tls, timeout=settings.timeout
            )
        else:
            conn = imaplib.IMAP4(host, port, timeout=settings.timeout)
            if settings.security == "starttls":
                conn.starttls(ssl_context=tls)
        conn.login(settings.username or "", password)
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            f"{where}: login refused: {exc}",
            hint="check mail.bounces.username and the password in mail.bounces.password_env",
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"cannot connect to {where}: {exc}") from None
    return conn
