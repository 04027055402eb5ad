"""The composition root: the one place that turns settings into concrete objects.

Everything else receives an ``App`` (or the pieces it needs) instead of reading
config or building engines, mailers and hosts itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from syndicate.core.clock import Clock, SystemClock
from syndicate.core.config import Settings
from syndicate.core.db import open_store

if TYPE_CHECKING:
    from syndicate.delivery.mailers.base import Mailer


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    _engine: Engine | None = None

    @cached_property
    def engine(self) -> Engine:
        """The store, migrated on first use."""
        if self._engine is None:
            self._engine = open_store(
                self.settings.database_url, pool_size=self.settings.database.pool_size
            )
        return self._engine

    def mailer(self) -> Mailer:
        """A new mailer for the configured provider (each worker owns its own)."""
        # local: the providers' clients (requests, boto3) load only for a send
        from syndicate.delivery.mailers import build_mailer

        return build_mailer(self.settings)

    @staticmethod
    def mailer_for(settings: Settings) -> Callable[[], Mailer]:
        """A mailer factory bound to ``settings`` (a drain keeps the settings it began
        with; a reload starts a new drain with a new factory)."""
        from syndicate.delivery.mailers import build_mailer  # local: see ``mailer``

        return lambda: build_mailer(settings)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
