"""The ``syndicate`` command line: thin click commands over ``jobs`` and friends.

Each area has its own module (articles, feeds, digest, delivery, subscribers, service);
this one holds the group, the shared options and the edge where errors become one
line and exit code 1.
"""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__

# Importing the command modules registers their commands on the group.
from . import (  # noqa: F401
    admin,
    articles,
    delivery,
    digest,
    feeds,
    operators,
    publish,
    service,
    subscribers,
)
from .base import Obj, main_group

main = main_group

__all__ = ["Obj", "__version__", "click", "logging", "main", "sys"]
