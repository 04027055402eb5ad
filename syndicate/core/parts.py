"""The three parts most stages need, as a structural type.

A stage that reads settings, opens transactions and asks the time takes a ``Parts``
rather than the composition root (``service.context.App`` satisfies it), so it never
imports the service layer and a test can hand it any object with these three.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from syndicate.core.clock import Clock
from syndicate.core.config import Settings


class Parts(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...
