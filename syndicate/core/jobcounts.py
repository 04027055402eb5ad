"""What job history keeps of a run: its numbers (``job_runs.counts``) and a manual
run's slot.

Stdlib only: the CLI's unchanged-feeds shortcut (``core/buildstamp.py``) records its run
without loading the service.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

MANUAL_SLOT = "manual:"  # a run started by hand, not by the scheduler
MANUAL_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def manual_slot(now: datetime) -> str:
    """A slot for an unscheduled (manual) run: unique to the microsecond."""
    return MANUAL_SLOT + now.astimezone(UTC).strftime(MANUAL_FORMAT)


def counts_of(result: Any) -> dict[str, Any]:
    """The numbers in a job's report (a dataclass, a dict or a list of them)."""
    if result is None:
        return {}
    if isinstance(result, list):
        total: dict[str, Any] = {}
        for item in result:
            for key, value in counts_of(item).items():
                total[key] = total.get(key, 0) + value
        return total
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if isinstance(result, dict):
        counts: dict[str, Any] = {}
        for key, value in result.items():
            if isinstance(value, list | tuple):
                counts[key] = len(value)  # e.g. a push's uploaded files
            elif isinstance(value, int | float) and not isinstance(value, bool):
                counts[key] = value
        return counts
    return {}
