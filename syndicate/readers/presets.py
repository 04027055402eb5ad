"""Subscriber exports of other tools, read as rows syndicate understands.

Each preset knows one tool's CSV: how to recognise its header, which column holds the
address and the name, and what its status values mean here. Statuses that mean the
person said no or the address is dead (unsubscribed, cleaned, bounced, blocklisted,
complained) come in suppressed, never active; not-yet-confirmed people come in
pending (and are not mailed); a status a preset does not know rejects the row rather
than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from syndicate.core.errors import SyndicateError

ACTIVE, PENDING = "active", "pending"
UNSUBSCRIBED, BOUNCED, COMPLAINED = "unsubscribed", "bounced", "complained"


@dataclass(frozen=True)
class Row:
    """One person as syndicate sees them; ``source_status`` is the tool's own word."""

    email: str
    name: str
    status: str
    source_status: str
    timezone: str | None = None
    digests: str = ""


Reader = Callable[[Mapping[str, str]], Row]


@dataclass(frozen=True)
class Preset:
    name: str
    required: frozenset[str]  # lower-cased header names that identify the tool
    known: frozenset[str]  # every column the tool writes (others are reported)
    read: Reader

    def matches(self, columns: set[str]) -> bool:
        return self.required <= columns


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "t")


def _status(tool: str, value: str, table: Mapping[str, str]) -> str:
    try:
        return table[value.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(table))
        raise SyndicateError(
            f"unknown {tool} status {value.strip()[:40]!r} (known: {known})"
        ) from None


def _syndicate(row: Mapping[str, str]) -> Row:
    raw = row.get("status", "").strip().lower()
    table = {"": ACTIVE, ACTIVE: ACTIVE, PENDING: PENDING, UNSUBSCRIBED: UNSUBSCRIBED,
             BOUNCED: BOUNCED, COMPLAINED: COMPLAINED}  # fmt: skip
    return Row(
        email=row.get("email", ""),
        name=row.get("name", ""),
        status=_status("syndicate", raw, table),
        source_status=raw or ACTIVE,
        timezone=row.get("timezone", "").strip() or None,
        digests=row.get("digests", ""),
    )


_MAILCHIMP_STATUS = {
    "subscribed": ACTIVE,
    "pending": PENDING,
    "unsubscribed": UNSUBSCRIBED,
    "cleaned": BOUNCED,
    "non-subscribed": UNSUBSCRIBED,
    "transactional": UNSUBSCRIBED,
    "archived": UNSUBSCRIBED,
}


def _mailchimp(row: Mapping[str, str]) -> Row:
    """Mailchimp splits an audience into three files; the cleaned and unsubscribed ones
    carry CLEAN_TIME / UNSUB_TIME columns instead of a status."""
    if "clean_time" in row:
        raw = "cleaned"
    elif "unsub_time" in row:
        raw = "unsubscribed"
    else:
        raw = (row.get("status") or row.get("email marketing") or "subscribed").strip().lower()
    name = " ".join(p for p in (row.get("first name", ""), row.get("last name", "")) if p.strip())
    return Row(
        email=row.get("email address", ""),
        name=name,
        status=_status("Mailchimp", raw, _MAILCHIMP_STATUS),
        source_status=raw,
        timezone=row.get("timezone", "").strip() or None,
    )


def _substack(row: Mapping[str, str]) -> Row:
    """``email_disabled`` is true when the reader turned emails off (or bounced)."""
    disabled = _truthy(row.get("email_disabled", ""))
    return Row(
        email=row.get("email", ""),
        name=row.get("name", ""),
        status=UNSUBSCRIBED if disabled else ACTIVE,
        source_status="email_disabled" if disabled else "subscribed",
    )


def _ghost(row: Mapping[str, str]) -> Row:
    subscribed = row.get("subscribed_to_emails", row.get("subscribed", "true"))
    deleted = row.get("deleted_at", "").strip()
    active = _truthy(subscribed) and not deleted
    return Row(
        email=row.get("email", ""),
        name=row.get("name", ""),
        status=ACTIVE if active else UNSUBSCRIBED,
        source_status="deleted" if deleted else f"subscribed_to_emails={subscribed.strip()}",
    )


_BUTTONDOWN_STATUS = {
    "regular": ACTIVE,
    "premium": ACTIVE,
    "gifted": ACTIVE,
    "trialed": ACTIVE,
    "churning": ACTIVE,
    "churned": ACTIVE,  # a paid plan ended; the free newsletter goes on
    "past_due": ACTIVE,
    "paused": UNSUBSCRIBED,
    "unactivated": PENDING,
    "unpaid": PENDING,
    "unsubscribed": UNSUBSCRIBED,
    "removed": UNSUBSCRIBED,
    "blocked": UNSUBSCRIBED,
    "undeliverable": BOUNCED,
    "spammy": COMPLAINED,
    "complained": COMPLAINED,
}


def _buttondown(row: Mapping[str, str]) -> Row:
    raw = (row.get("subscriber_type") or row.get("type") or "").strip().lower()
    return Row(
        email=row.get("email") or row.get("email_address", ""),
        name=row.get("name", ""),
        status=_status("Buttondown", raw, _BUTTONDOWN_STATUS),
        source_status=raw,
    )


_LISTMONK_STATUS = {"enabled": ACTIVE, "disabled": UNSUBSCRIBED, "blocklisted": UNSUBSCRIBED}


def _listmonk(row: Mapping[str, str]) -> Row:
    raw = row.get("status", "").strip().lower()
    return Row(
        email=row.get("email", ""),
        name=row.get("name", ""),
        status=_status("listmonk", raw, _LISTMONK_STATUS),
        source_status=raw,
    )


def _set(*names: str) -> frozenset[str]:
    return frozenset(names)


_MAILCHIMP_COLUMNS = _set(
    "email address", "first name", "last name", "address", "phone number", "birthday",
    "member_rating", "optin_time", "optin_ip", "confirm_time", "confirm_ip", "latitude",
    "longitude", "gmtoff", "dstoff", "timezone", "cc", "region", "last_changed", "leid",
    "euid", "notes", "tags", "status", "email marketing", "unsub_time",
    "unsub_campaign_title", "unsub_campaign_id", "unsub_reason", "unsub_reason_other",
    "clean_time", "clean_campaign_title", "clean_campaign_id",
)  # fmt: skip

# Most specific first: the native format (just "email") is the fallback.
PRESETS: tuple[Preset, ...] = (
    Preset("Mailchimp", _set("email address"), _MAILCHIMP_COLUMNS, _mailchimp),
    Preset(
        "Substack",
        _set("email", "email_disabled"),
        _set(
            "email",
            "name",
            "active_subscription",
            "expiry",
            "plan",
            "email_disabled",
            "created_at",
            "first_payment_at",
        ),
        _substack,
    ),
    Preset(
        "Ghost",
        _set("email", "subscribed_to_emails"),
        _set(
            "id",
            "email",
            "name",
            "note",
            "subscribed_to_emails",
            "complimentary_plan",
            "stripe_customer_id",
            "created_at",
            "deleted_at",
            "labels",
            "tiers",
            "products",
            "import_tier",
        ),
        _ghost,
    ),
    Preset(
        "Buttondown",
        _set("subscriber_type"),
        _set(
            "id",
            "email",
            "email_address",
            "name",
            "notes",
            "metadata",
            "tags",
            "referrer_url",
            "creation_date",
            "secondary_id",
            "subscriber_type",
            "type",
            "upgrade_date",
            "source",
            "utm_campaign",
            "utm_medium",
            "utm_source",
            "unsubscription_date",
            "unsubscription_reason",
        ),
        _buttondown,
    ),
    Preset(
        "listmonk",
        _set("uuid", "email", "status", "attributes"),
        _set("uuid", "email", "name", "attributes", "status", "created_at", "updated_at"),
        _listmonk,
    ),
    Preset(
        "syndicate",
        _set("email"),
        _set("email", "name", "status", "digests", "timezone", "created_at", "confirmed_at"),
        _syndicate,
    ),
)


def detect(columns: set[str]) -> Preset | None:
    """The preset whose export has these (lower-cased) header names, if any."""
    return next((preset for preset in PRESETS if preset.matches(columns)), None)


def tool_names() -> str:
    return ", ".join(p.name for p in PRESETS if p.name != "syndicate")
