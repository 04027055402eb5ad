"""One bounce or complaint message, end to end: parse, identify, apply, commit.

Every outcome is logged; only ``applied`` changes the store, in one transaction
with the event's replay record (``bounces.events``), so a report read twice (a
poller killed after the commit but before it marked the message) changes nothing
the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from syndicate.core.db import transaction
from syndicate.core.parts import Parts
from syndicate.core.tokens import signer_for
from syndicate.delivery.bounces import events
from syndicate.delivery.bounces.identify import Forged, Keys, delivery_for
from syndicate.delivery.bounces.parse import Finding, Report, parse
from syndicate.delivery.messages import message_domain

log = logging.getLogger(__name__)

SOURCE = "mail"  # the ``provider`` of these events in webhook_events
Status = Literal["applied", "duplicate", "ignored", "unmatched", "forged"]
_SEVERITY = {"complaint": 3, "hard_bounce": 2, "soft_bounce": 1}


@dataclass(frozen=True)
class Result:
    status: Status
    detail: str
    delivery_id: int | None = None
    kind: str | None = None


def keys_for(app: Parts) -> Keys:
    settings = app.settings
    return Keys(
        signer=signer_for(settings, app.engine),
        bounce_address=settings.mail.bounce_address,
        message_domain=message_domain(settings),
    )


def ingest(app: Parts, raw: bytes, *, keys: Keys | None = None, where: str = "stdin") -> Result:
    """Apply the report ``raw`` carries (at most one delivery row: ours are one
    recipient per message). Never raises for what a message contains."""
    report = parse(raw)
    if report is None:
        return _logged(Result("ignored", "not a bounce or complaint report"), where)
    keys = keys or keys_for(app)
    with transaction(app.engine) as conn:
        try:
            row = delivery_for(conn, keys, report)
        except Forged as exc:
            return _logged(Result("forged", str(exc)), where)
        if row is None:
            return _logged(Result("unmatched", f"{report.shape}: names no delivery of ours"), where)
        finding = _finding_for(report, row.email)
        event = events.MailEvent(
            f"{row.id}:{report.report_id}",
            finding.kind,
            row.email,
            f"{report.shape}: {finding.reason}",
        )
        now = app.clock.now()
        applied = events.apply(
            conn, SOURCE, event, now=now, limit=app.settings.web.soft_bounce_limit
        )
    status: Status = "applied" if applied else "duplicate"
    detail = f"{report.shape} {finding.kind} for delivery {row.id} (by {row.how}): {finding.reason}"
    return _logged(Result(status, detail, row.id, finding.kind), where)


def _finding_for(report: Report, email: str) -> Finding:
    """The finding about ``email`` when the report names it, else the gravest one (a
    forwarded address reports its final recipient, not ours)."""
    about = [f for f in report.findings if f.recipient.lower() == email.lower()]
    return max(about or report.findings, key=lambda f: _SEVERITY[f.kind])


def _logged(result: Result, where: str) -> Result:
    level = logging.WARNING if result.status == "forged" else logging.INFO
    log.log(level, "bounce report from %s: %s: %s", where, result.status, result.detail)
    return result
