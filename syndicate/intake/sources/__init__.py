"""Feed sources: RSS, Atom and JSON Feed URLs and local folders, pulled on a schedule.

fetch    the HTTP client: allowed addresses only, conditional GET, limits, redirects
feed     feed bytes -> entries (feedparser; JSON Feed by hand)
extract  the one call into HTML extraction (full text, single pages)
state    per-source pull state and the entry -> article map
pull     one pull: fetch, store each entry in its own transaction, remember the state
report   what `sources list` and `status` show
watch    folder sources: import soon after files change (watchfiles)
"""

from __future__ import annotations

from syndicate.intake.sources.pull import EntryOutcome, PullResult, pull_source, pull_url

__all__ = ["EntryOutcome", "PullResult", "pull_source", "pull_url"]
