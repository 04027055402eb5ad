"""Manual CLI runs leave the same job history as scheduled ones.

``feeds build``, ``feeds publish``, ``digest send`` and ``deliver --once`` do the work
the scheduler's jobs do; recording them under the same job name (with a ``manual:``
slot that never collides with a cron slot) lets ``status`` and ``/metrics`` show the
last build or send whoever started it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from syndicate.core.errors import SyndicateError
from syndicate.core.jobcounts import counts_of, manual_slot
from syndicate.service import claims
from syndicate.service.context import App

T = TypeVar("T")


def recorded(
    app: App,
    job: str,
    work: Callable[[], T],
    *,
    counts: Callable[[T], dict[str, object]] = counts_of,
) -> T:
    """Run ``work`` now as job ``job``; record its outcome; return its result (and
    re-raise its error after recording it as failed)."""
    held = claims.claim(app, job, manual_slot(app.clock.now()))
    assert held is not None  # a manual slot is unique to the microsecond
    try:
        with claims.heartbeat(app, held):  # a killed CLI leaves a claim others resume
            result = work()
    except SyndicateError as error:
        claims.finish(app, held, status="failed", counts=None, error=error.message)
        raise
    except BaseException as exc:  # Ctrl-C or a bug: the row must not stay 'running'
        why = f"{type(exc).__name__}: {exc}"
        claims.finish(app, held, status="failed", counts=None, error=why)
        raise
    claims.finish(app, held, status="ok", counts=counts(result), error=None)
    return result


def prefixed(prefix: str) -> Callable[[object], dict[str, object]]:
    """Counts named as the scheduled job names them (``build_*``, ``push_*``)."""
    return lambda result: {f"{prefix}{k}": v for k, v in counts_of(result).items()}
