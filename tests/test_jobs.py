"""Jobs claim (job, slot) rows: running a job twice is harmless, failures are recorded."""

from __future__ import annotations

from sqlalchemy import select

from syndicate.core.clock import FixedClock
from syndicate.core.db import job_runs
from syndicate.core.errors import PublishError
from syndicate.service.context import App
from syndicate.service.jobs import housekeeping, run_claimed


def _rows(app: App) -> list[dict]:
    with app.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(job_runs).order_by(job_runs.c.id))]


def test_a_slot_runs_once(app: App) -> None:
    calls: list[int] = []
    first = run_claimed(app, "feeds", "2026-03-02T09:00", lambda: calls.append(1) or {"written": 3})
    second = run_claimed(app, "feeds", "2026-03-02T09:00", lambda: calls.append(2))
    assert calls == [1]
    assert (first.status, first.counts) == ("ok", {"written": 3})
    assert second.status == "not-claimed"
    rows = _rows(app)
    assert len(rows) == 1 and rows[0]["status"] == "ok" and rows[0]["counts"] == {"written": 3}
    assert rows[0]["finished_at"] is not None


def test_failures_are_recorded_with_their_reason(app: App) -> None:
    def broken() -> None:
        raise PublishError("host 'site' refused the upload")

    def crashing() -> None:
        raise RuntimeError("boom")

    assert run_claimed(app, "publish", "a", broken).error == "host 'site' refused the upload"
    assert run_claimed(app, "publish", "b", crashing).error == "RuntimeError: boom"
    assert [(r["slot"], r["status"]) for r in _rows(app)] == [("a", "failed"), ("b", "failed")]


def test_housekeeping_prunes_old_history_only(app: App, clock: FixedClock) -> None:
    run_claimed(app, "feeds", "old", lambda: None)
    clock.advance(days=app.settings.schedule.keep_history_days + 1)
    run_claimed(app, "feeds", "new", lambda: None)
    assert housekeeping(app)["job_runs_pruned"] == 1
    assert [r["slot"] for r in _rows(app)] == ["new"]
