"""The RFC 8058 one-click unsubscribe round trip, as a mail provider makes it.

It POSTs ``List-Unsubscribe=One-Click`` (no cookies, no redirects followed) to the web
app's unsubscribe URL with a link signed for subscriber 0. Ids start at 1, so the web
app takes the whole path (token check, store update, answer page) and unsubscribes
nobody. A 400 "link not valid" means the web app signs with another key than the one
``check`` sees: its digests' links would fail the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from syndicate.core.tokens import Signer
from syndicate.service.dnsdoctor.findings import Finding

NOBODY = 0  # no subscriber has id 0
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def round_trip(
    base_url: str, signer: Signer, now: datetime, *, timeout: float = 10.0
) -> list[Finding]:
    """POST one-click to ``<base_url>unsubscribe/<token>`` and judge the answer."""
    token = signer.make("unsubscribe", NOBODY, now + timedelta(hours=1))
    url = f"{base_url}unsubscribe/{token}"
    shown = f"{base_url}unsubscribe/…"
    findings = []
    if not base_url.startswith("https://"):
        message = (
            "the unsubscribe URL is not https: Gmail and Yahoo ignore one-click links over http"
        )
        findings.append(Finding("warning", "unsubscribe", shown, message))
    try:
        with requests.Session() as session:
            session.trust_env = False  # a provider reaches the URL directly, not via our proxy
            answer = session.post(url, data=ONE_CLICK, allow_redirects=False, timeout=timeout)
    except requests.RequestException as exc:
        message = (
            f"the web app is not reachable ({_reason(exc)}); one-click round trip skipped: "
            "run it again while `syndicate serve` answers at web.base_url"
        )
        return [*findings, Finding("warning", "unsubscribe", shown, message)]
    return [*findings, _judge(shown, answer)]


def _judge(shown: str, answer: requests.Response) -> Finding:
    status = answer.status_code
    if status in (200, 202):
        message = f"one-click POST answered {status} without a redirect, as RFC 8058 asks"
        return Finding("ok", "unsubscribe", shown, message)
    if 300 <= status < 400:
        where = answer.headers.get("Location", "?")
        message = (
            f"one-click POST answered {status} -> {where}: providers do not follow redirects; "
            "web.base_url must be the URL that answers itself"
        )
        return Finding("error", "unsubscribe", shown, message)
    if status == 400 and "not valid" in answer.text:
        message = (
            "the web app refused a link signed with the key check sees: run check with the "
            "same web.secret_env value (and database) as `syndicate serve`"
        )
        return Finding("error", "unsubscribe", shown, message)
    return Finding("error", "unsubscribe", shown, f"one-click POST answered {status}, not 200")


def _reason(exc: BaseException) -> str:
    """The operating system's words under requests' and urllib3's wrappers ("Connection
    refused"), else the exception's class name."""
    seen: object = exc
    for _ in range(8):
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        if not isinstance(seen, BaseException):
            break
        inner = getattr(seen, "reason", None)
        args = [a for a in seen.args if isinstance(a, BaseException)]
        seen = (
            inner if isinstance(inner, BaseException) else seen.__cause__ or next(iter(args), None)
        )
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return type(exc).__name__
