"""``/metrics`` for Prometheus and ``/healthz``, read from the store at scrape time.

The store is the truth (several processes may send and publish), so every value is a
query over ``deliveries``, ``subscribers``, ``job_runs`` and ``pushes``, not a counter
in this process's memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import pushes, tuples
from syndicate.delivery.outbox import STATES, counts_by_state
from syndicate.readers.subscribers import counts_by_status
from syndicate.service import claims
from syndicate.service.context import App
from syndicate.web.context import Web

WAITING = ("queued", "sending", "deferred")
FEEDS_JOB = "feeds"


class StoreCollector:
    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        with self.app.engine.connect() as conn:
            by_state = counts_by_state(conn)
            people = counts_by_status(conn)
            last_build = claims.last_success(conn, FEEDS_JOB)
            last_push = list(
                tuples(
                    conn.execute(
                        select(pushes.c.host, func.max(pushes.c.finished_at))
                        .where(pushes.c.error.is_(None), pushes.c.finished_at.is_not(None))
                        .group_by(pushes.c.host)
                    )
                )
            )
            outcomes = claims.outcome_counts(conn)
        emails = GaugeMetricFamily("syndicate_emails", "Deliveries by state.", labels=["state"])
        for state in STATES:
            emails.add_metric([state], by_state.get(state, 0))
        yield emails
        yield GaugeMetricFamily(
            "syndicate_queue_depth",
            "Deliveries waiting to be sent (queued, sending, deferred).",
            value=sum(by_state.get(s, 0) for s in WAITING),
        )
        people_metric = GaugeMetricFamily(
            "syndicate_subscribers", "Subscribers by status.", labels=["status"]
        )
        for status, count in people.items():
            people_metric.add_metric([status], count)
        yield people_metric
        build = GaugeMetricFamily(
            "syndicate_last_feed_build_timestamp_seconds",
            "When the last successful feed build finished (Unix time; 0 = never).",
        )
        build.add_metric([], last_build.timestamp() if last_build else 0)
        yield build
        push = GaugeMetricFamily(
            "syndicate_last_push_timestamp_seconds",
            "When the last successful push to each host finished (Unix time).",
            labels=["host"],
        )
        for host, finished in last_push:
            push.add_metric([host], finished.timestamp() if finished else 0)
        yield push
        jobs = GaugeMetricFamily(
            "syndicate_job_runs", "Recorded job runs by job and outcome.", labels=["job", "status"]
        )
        for job, status, count in outcomes:
            jobs.add_metric([job, status], count)
        yield jobs


def registry_for(app: App) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(app))
    return registry


def metrics(web: Web) -> BaseResponse:
    registry = web.metrics_registry()
    return Response(
        generate_latest(registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def healthz(web: Web) -> BaseResponse:
    """200 when the store answers, 503 otherwise (for load balancers and `syndicate run`)."""
    try:
        with web.app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
