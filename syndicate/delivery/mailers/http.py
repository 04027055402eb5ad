"""What the three HTTP mail APIs share: one POST, and what its answer means.

The rules (STANDARDS.md "Provider APIs") live here once:

- 2xx: accepted.
- 429 and 503: not processed; retry later, honouring ``Retry-After`` (seconds or an
  HTTP date) or SendGrid's ``X-RateLimit-Reset`` (epoch seconds).
- 408 and a connection that failed before the request went out: not processed; retry.
- 401 and 403: the key or account is refused, not the recipient: temporary, so the
  rows wait (and the circuit breaker pauses) until the operator fixes the config.
- other 4xx: refused for good, with the provider's words.
- other 5xx, a read timeout or a connection lost after sending: the mail may have
  gone. Retried under the same Message-ID and counted apart ("uncertain").

POSTs are never retried by the HTTP library itself (urllib3 does not retry POST).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from syndicate.core.httpdates import parse_retry_after
from syndicate.delivery.mailers.base import SendResult

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "syndicate-mailer"


def retry_after_of(response: requests.Response, *, now: float | None = None) -> float | None:
    """The wait the provider asked for, from Retry-After or X-RateLimit-Reset."""
    wait = parse_retry_after(response.headers.get("Retry-After"), now=now)
    if wait is None:
        reset = response.headers.get("X-RateLimit-Reset", "").strip()
        if reset.isdigit():
            current = time.time() if now is None else now
            wait = max(0.0, int(reset) - current)
    return wait


def provider_words(response: requests.Response, limit: int = 300) -> str:
    """The provider's own explanation, short: JSON message fields or the body text."""
    text = response.text or ""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "Message", "error", "errors"):
            if key in data:
                value = data[key]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                break
    text = " ".join(text.split())[:limit]
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"


def classify(response: requests.Response, *, now: float | None = None) -> SendResult | None:
    """None when accepted; else the result every message of the call gets."""
    code = response.status_code
    if 200 <= code < 300:
        return None
    words = provider_words(response)
    if code in (429, 503, 408):
        return SendResult("temporary", error=words, retry_after=retry_after_of(response, now=now))
    if code in (401, 403):
        # The account or key is refused, not the recipient: wait for the operator to fix
        # the config (the circuit breaker pauses sending) instead of failing every row.
        return SendResult("temporary", error=f"authentication refused: {words}")
    if 400 <= code < 500:
        return SendResult("permanent", error=words)
    return SendResult("uncertain", error=words, retry_after=retry_after_of(response, now=now))


@dataclass
class Answer:
    """A POST's response, or the result it stands for when there is none."""

    response: requests.Response | None
    failure: SendResult | None


class ApiClient:
    """One ``requests`` session per mailer (keep-alive), with the error mapping above."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.timeout = timeout

    def post(self, path: str, **kwargs: Any) -> Answer:
        url = f"{self.base_url}{path}"
        try:
            response = self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as exc:
            return Answer(None, SendResult("temporary", error=f"connect timeout: {exc}"))
        except requests.ConnectionError as exc:
            if _before_sending(exc):
                return Answer(None, SendResult("temporary", error=f"cannot connect: {exc}"))
            return Answer(None, SendResult("uncertain", error=f"connection lost: {exc}"))
        except requests.Timeout as exc:
            return Answer(None, SendResult("uncertain", error=f"no answer in time: {exc}"))
        except requests.RequestException as exc:
            return Answer(None, SendResult("temporary", error=f"request failed: {exc}"))
        return Answer(response, classify(response))

    def get_json(self, path: str, params: dict[str, Any]) -> Any:
        """A lookup's JSON answer, or None when the provider cannot tell us now (any
        error, refusal or unreadable body): the caller then treats the row as unknown."""
        try:
            response = self.session.get(
                f"{self.base_url}{path}", params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            log.warning("lookup %s failed: %s", path, exc)
            return None
        if response.status_code != 200:
            log.warning("lookup %s answered %s", path, provider_words(response))
            return None
        try:
            return response.json()
        except ValueError:
            log.warning("lookup %s answered an unreadable body", path)
            return None

    def close(self) -> None:
        self.session.close()


def _before_sending(exc: requests.ConnectionError) -> bool:
    """Whether the connection failed before any byte of the request left."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | NameResolutionError)


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def isolate_rejections(
    batch: Sequence[T],
    send: Callable[[Sequence[T]], list[SendResult]],
    *,
    max_calls: int = 64,
) -> list[SendResult]:
    """Send ``batch``; when a multi-recipient call is refused as a whole (HTTP 400 for
    one bad address), split it in halves until the bad recipients stand alone, so one
    typo does not fail a thousand readers. Bounded by ``max_calls``.
    """
    calls = 0
    pending: list[Sequence[T]] = [batch]
    out: dict[int, SendResult] = {}
    index_of = {id(item): i for i, item in enumerate(batch)}
    while pending:
        part = pending.pop(0)
        calls += 1
        got = send(part)
        # Only a 400 (bad request: one bad address) is worth splitting; a 401 or 403
        # refuses every half the same way.
        refused = all(
            r.outcome == "permanent" and (r.error or "").startswith("HTTP 400") for r in got
        )
        if refused and len(part) > 1 and calls + 2 <= max_calls:
            half = len(part) // 2
            pending[:0] = [part[:half], part[half:]]
            continue
        if refused and len(part) == 1 and refuses_the_address(got[0].error or ""):
            got = [dataclasses.replace(got[0], bounce="hard")]  # the address alone is bad
        for item, result in zip(part, got, strict=True):
            out[index_of[id(item)]] = result
    return [out[i] for i in range(len(batch))]


_BAD = r"(invalid|not a valid|not valid|inactive|does not exist|unknown|no such)"
_WHO = r"(address|recipient|mailbox|e-?mail)"
_ABOUT_ADDRESS = re.compile(rf"{_BAD}\b.*\b{_WHO}|{_WHO}\b.*\b{_BAD}", re.IGNORECASE)


def refuses_the_address(words: str) -> bool:
    """Whether a provider's refusal of a single recipient says the address is bad."""
    return _ABOUT_ADDRESS.search(words) is not None
