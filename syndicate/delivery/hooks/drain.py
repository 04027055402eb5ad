"""The webhook worker: fan out new events, claim due rows, post them, record each try.

Runs in ``syndicate run`` beside the mail drain (and as ``syndicate webhooks deliver``).
Only receivers in the current config are posted to: rows for a URL removed from the
config wait, and are never sent anywhere else.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from syndicate.core.db import transaction
from syndicate.core.errors import ConfigError
from syndicate.core.parts import Parts
from syndicate.delivery.hooks import queue, send
from syndicate.intake.sources.fetch import user_agent

log = logging.getLogger(__name__)
IDLE_SECONDS = 5.0


def drain_once(app: Parts) -> Counter[str]:
    """One pass: every due row posted once; returns counts by outcome."""
    settings = app.settings
    hooks = settings.webhooks
    counts: Counter[str] = Counter()
    with transaction(app.engine) as conn:
        counts["events"] = queue.fan_out(conn, hooks, app.clock.now())
    usable = {}
    for index, hook in enumerate(hooks):
        try:
            usable[hook.url] = (hook, send.signer(hook, index))
        except ConfigError as exc:
            log.error("webhook %s: %s", hook.url, exc.message)
    with app.engine.connect() as conn:
        disabled = {e["url"] for e in queue.endpoints(conn) if e["state"] == "disabled"}
    usable = {url: found for url, found in usable.items() if url not in disabled}
    if not usable:
        return counts
    agent = user_agent(settings.site.title, settings.site.url)
    clients = {url: send.client_for(hook, agent) for url, (hook, _) in usable.items()}
    try:
        while True:
            with transaction(app.engine) as conn:
                batch = queue.claim(conn, list(usable), app.clock.now())
            if not batch:
                return counts
            for item in batch:
                if item.url in disabled:
                    continue  # disabled during this batch: the row is held now
                now = app.clock.now()
                body = send.body_of(item.payload)
                headers = send.headers(usable[item.url][1], item.webhook_id, now, body)
                answer = send.post(clients[item.url], item.url, body, headers, now)
                with transaction(app.engine) as conn:
                    state = queue.record_attempt(
                        conn, item, app.clock.now(), status_code=answer.status_code,
                        error=answer.error, retry_after=answer.retry_after,
                    )  # fmt: skip
                counts[state] += 1
                if state == "failed":
                    log.error("webhook %s disabled after a day of failures", item.url)
                    disabled.add(item.url)
                    usable.pop(item.url, None)
            if not usable:
                return counts
    finally:
        for client in clients.values():
            client.close()


def run(app: Parts, stop: threading.Event) -> None:
    """Until ``stop``: drain, then wait a little; a failing pass is logged, not fatal."""
    while not stop.is_set():
        try:
            counts = drain_once(app)
            if counts["delivered"] or counts["pending"] or counts["failed"]:
                log.info("webhooks: %s", dict(counts))
        except Exception as exc:  # the worker must outlive a bug or an outage
            log.error("webhook worker: %s: %s", type(exc).__name__, str(exc)[:300])
        stop.wait(IDLE_SECONDS)
