"""The dashboard: readers, deliveries, the latest editions' reach, the queue, failing jobs,
feed hosts' last push and sources' last pull."""

from __future__ import annotations

from werkzeug.wrappers import Response as BaseResponse

from syndicate.intake.sources.report import source_rows
from syndicate.readers import growth
from syndicate.readers.audience import audience
from syndicate.web.admin.charts import bar_chart, both, day_table, line_chart
from syndicate.web.admin.guard import Ctx
from syndicate.web.console import stats

SPAN = 30


def dashboard(ctx: Ctx) -> BaseResponse:
    now = ctx.now
    with ctx.web.app.engine.connect() as conn:
        people = growth.subscribers_over_time(conn, now, SPAN)
        sent = stats.deliveries_per_day(conn, now, SPAN)
        reach = stats.edition_reach(conn, limit=8)
        queue = stats.queue(conn)
        runs = stats.last_runs(conn)
        feeds = audience(conn, people.days)
        pushes = stats.last_pushes(conn)
        sources = source_rows(conn, ctx.web.app.settings, now)
    hosts = [(h.name, h.type, pushes.get(h.name)) for h in ctx.web.app.settings.hosts]
    feed_groups = {"aggregators": feeds.aggregated, "direct": feeds.readers}
    return ctx.page(
        "dashboard.html",
        title="Dashboard",
        people=people,
        people_chart=both(
            line_chart, "Subscribers by status, last 30 days", people.days, people.groups
        ),
        people_table=day_table(
            "Subscribers at the end of each day (UTC)", people.days, people.groups
        ),
        sent=sent,
        sent_chart=both(
            bar_chart, "Deliveries per day by outcome, last 30 days", sent.days, sent.groups
        ),
        sent_table=day_table(
            "Delivery rows by the day they were queued (UTC) and their outcome",
            sent.days,
            sent.groups,
        ),
        reach=reach,
        queue=queue,
        runs=runs,
        hosts=hosts,
        sources=sources,
        now=now,
        active_now=people.groups["active"][-1] if people.days else 0,
        failing=[r for r in runs if r["status"] == "failed"],
        feeds=feeds,
        feed_chart=both(line_chart, "Feed readers per day, last 30 days", feeds.days, feed_groups),
        feed_table=day_table(
            "Per UTC day: subscribers that aggregators reported, and distinct direct readers",
            feeds.days,
            feed_groups,
        ),
        feed_now=(feeds.aggregated[-1] + feeds.readers[-1]) if feeds.days else 0,
    )
