"""The dashboard's numbers, from the store's own records, on each backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syndicate.core.clock import FixedClock
from syndicate.core.db import transaction
from syndicate.readers import growth
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web.admin.charts import bar_chart, line_chart, nice_ticks
from syndicate.web.console import editions as eds
from syndicate.web.console import people, stats
from tests.support.console import DIGESTS, MONDAY, seed


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


def test_subscribers_over_time_follow_each_persons_states(app: App) -> None:
    day = timedelta(days=1)
    today = MONDAY

    def request(email: str, at) -> int:
        with transaction(app.engine) as conn:
            found, _ = subs.request(conn, email, name="", digests=["weekly"], now=at)
        return found.id

    with transaction(app.engine) as conn:
        subs.add(conn, "a@example.org", digests=["weekly"], now=today - 10 * day)
        old = subs.add(conn, "d@example.org", digests=["weekly"], now=today - 40 * day)[0]
        subs.suppress(conn, old.email, "bounced", "550 no such user", today - 35 * day)
    request("b@example.org", today - 8 * day)
    c = request("c@example.org", today - 6 * day)
    with transaction(app.engine) as conn:
        subs.confirm(conn, c, today - 5 * day)
        subs.unsubscribe(conn, c, today - 2 * day)
    with app.engine.connect() as conn:
        series = growth.subscribers_over_time(conn, today, 30)
    at = {d: i for i, d in enumerate(series.days)}

    def on(offset: int) -> dict[str, int]:
        index = at[(today - offset * day).date()]
        return {name: values[index] for name, values in series.groups.items() if values[index]}

    assert series.days[-1] == today.date() and len(series.days) == 30
    assert on(29) == {"bounced": 1}
    assert on(10) == {"active": 1, "bounced": 1}
    assert on(8) == {"active": 1, "pending": 1, "bounced": 1}
    assert on(6) == {"active": 1, "pending": 2, "bounced": 1}
    assert on(5) == {"active": 2, "pending": 1, "bounced": 1}
    assert on(2) == {"active": 1, "pending": 1, "unsubscribed": 1, "bounced": 1}
    assert on(0) == on(2)
    with app.engine.connect() as conn:  # the last day agrees with the plain count
        counts = subs.counts_by_status(conn)
    assert {k: v for k, v in counts.items() if v} == on(0)


def test_deliveries_reach_and_queue(app: App, clock: FixedClock) -> None:
    ids = seed(app)  # an edition delivered to reader@ and other@ on MONDAY
    with transaction(app.engine) as conn:
        subs.suppress(conn, "reader@example.org", "complained", "abuse report",
                      MONDAY + timedelta(days=2))  # fmt: skip
        other = subs.find(conn, "other@example.org")
        subs.unsubscribe(conn, other.id, MONDAY + timedelta(days=8))  # too late to count
    with app.engine.connect() as conn:
        [reach] = stats.edition_reach(conn)
        sent = stats.deliveries_per_day(conn, MONDAY, 7)
        assert stats.queue(conn) == stats.Queue(0, None)
    assert reach.edition_id == ids["edition_id"]
    assert reach.counts == {"sent": 2} and reach.total == 2
    assert (reach.complained, reach.bounced, reach.unsubscribed) == (1, 0, 0)
    assert sent.groups["sent"][-1] == 2 and sent.total("sent") == 2
    assert sent.total("failed") == 0

    with transaction(app.engine) as conn:  # an operator holds and cancels queued rows
        from sqlalchemy import update

        from syndicate.core.db import deliveries

        conn.execute(update(deliveries).values(status="queued"))
        assert eds.hold(conn, ids["edition_id"], "pause", MONDAY) == 2
        assert stats.queue(conn).depth == 0  # paused rows are not waiting to go out
        assert eds.hold(conn, ids["edition_id"], "resume", MONDAY) == 2
        assert stats.queue(conn) == stats.Queue(2, MONDAY)
        assert eds.hold(conn, ids["edition_id"], "cancel", MONDAY) == 2
        assert stats.queue(conn).depth == 0


def test_charts_have_axes_labels_and_escaped_names() -> None:
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(95_000)[-1] >= 95_000
    days = [MONDAY.date() - timedelta(days=i) for i in range(3, -1, -1)]
    svg = line_chart("People <&>", days, {"active": [1, 2, 3, 40], "x<y": [0, 0, 0, 0]})
    assert svg.startswith("<svg") and "<title>People &lt;&amp;&gt;</title>" in svg
    assert "<polyline" in svg and ">40<" in svg and "x&lt;y" in svg and "x<y" not in svg
    assert f"{days[0]:%d %b}" in svg
    bars = bar_chart("Deliveries", days, {"sent": [1, 0, 2, 3], "failed": [0, 1, 0, 0]})
    assert bars.count('<rect class="s-sent"') == 3 + 1  # three bars and the legend key
    assert "failed: 1" in bars


def test_search_finds_the_start_of_an_address_or_a_name(app: App) -> None:
    with transaction(app.engine) as conn:
        for email, name in (
            ("Anna.Lee@example.org", "Zoë Park"),
            ("joanna@example.org", "Jo Anna"),
            ("an_x@example.org", ""),
            ("ann%y@example.org", "Annie"),
        ):
            subs.add(conn, email, name=name, digests=["weekly"], now=MONDAY)

    def found(text: str) -> list[str]:
        with app.engine.connect() as conn:
            return sorted(r["email"] for r in people.search(conn, text=text).rows)

    assert found("ann") == ["Anna.Lee@example.org", "ann%y@example.org"]  # either case
    assert found("jo") == ["joanna@example.org"]  # address and name both start so: once
    assert found("zoë") == ["Anna.Lee@example.org"]  # a name's start
    assert found("an_") == ["an_x@example.org"]  # _ and % are plain characters
    assert found("ann%") == ["ann%y@example.org"]
    assert found("nna") == []  # the middle of a word is not a start
    assert found("joanna@example.org") == ["joanna@example.org"]
