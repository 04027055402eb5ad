"""The ``syndicate`` command line: thin click commands over ``jobs`` and friends.

Each area has its own module (articles, feeds, digest, delivery, subscribers, service);
``base`` holds the group, the shared options and the edge where errors become one
line and exit code 1. The group is lazy (``lazy.py``): a command's module is
imported when that command runs, so ``--version``, ``--help`` and completion start fast.
"""

from __future__ import annotations

from syndicate import __version__
from syndicate.cli.base import Obj, main_group

main = main_group

__all__ = ["Obj", "__version__", "main"]
