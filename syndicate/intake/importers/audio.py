"""An article's audio attachment (a podcast episode) from front matter ``audio:``.

``audio: {url, length, type, duration}``: ``length`` is the file's exact size in bytes
(podcast apps and Apple reject an enclosure whose length is missing or wrong), ``type``
an ``audio/*`` or ``video/*`` media type (guessed from the URL when left out) and
``duration`` seconds or ``[[HH:]MM:]SS``. Each bad value fails naming its sub-key.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Any

from syndicate.articles import valid_mime_type

_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(?:([0-5]?\d):)?([0-5]?\d)$")
KEYS = ("url", "length", "type", "duration")
MAX_DURATION = 100 * 3600  # seconds: more is a typo, not an episode


@dataclass(frozen=True)
class Audio:
    url: str
    length: int
    mime_type: str
    duration: int | None  # seconds


def parse_duration(value: Any) -> int:
    """Seconds from ``754``, ``"754"``, ``"12:34"`` or ``"1:02:03"``."""
    if isinstance(value, bool):
        raise ValueError(f"audio.duration must be seconds or HH:MM:SS, not {value!r}")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    elif isinstance(value, str) and (match := _CLOCK.match(value.strip())):
        hours, minutes, secs = (int(part) if part else 0 for part in match.groups())
        if match[1] and not match[2]:  # "MM:SS": the first group is minutes
            hours, minutes = 0, hours
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError(f"audio.duration must be seconds or HH:MM:SS, not {value!r}")
    if not 0 < seconds <= MAX_DURATION:
        raise ValueError(f"audio.duration must be between 1 second and 100 hours, not {value!r}")
    return seconds


def parse_audio(value: Any) -> Audio:
    """The attachment a front-matter ``audio:`` table describes; ValueError names the key."""
    if not isinstance(value, dict):
        raise ValueError("audio must be a table with url, length, type and duration")
    unknown = sorted(str(key) for key in value if key not in KEYS)
    if unknown:
        raise ValueError(f"audio.{unknown[0]} is not a key of audio (url, length, type, duration)")
    url = value.get("url")
    if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url.strip()):
        raise ValueError("audio.url must be the URL of the audio file")
    length = value.get("length")
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise ValueError(f"audio.length must be the file's exact size in bytes, not {length!r}")
    given = value.get("type")
    if given is not None and not isinstance(given, str):
        raise ValueError(f"audio.type must be a media type such as audio/mpeg, not {given!r}")
    mime = valid_mime_type(given) if given else _guess(url)
    if mime is None or not mime.startswith(("audio/", "video/")):
        shown = given if given else f"unknown for {url.strip()!r}"
        raise ValueError(f"audio.type must be an audio/* or video/* media type ({shown})")
    duration = value.get("duration")
    return Audio(
        url.strip(), length, mime, parse_duration(duration) if duration is not None else None
    )


def _guess(url: str) -> str | None:
    path = url.split("?")[0].split("#")[0]
    return mimetypes.guess_type(path)[0] or ("audio/x-m4a" if path.endswith(".m4a") else None)
