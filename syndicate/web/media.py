"""``/media/``: the site's pictures and audio from ``paths.media``, when it is set.

For a site without another web server for its files, and for the demo (``make run``
serves examples/media, so the demo digest shows its pictures). The same containment as
the feeds folder (``feedserve.resolve_below``: no dot files, nothing outside the folder,
regular files only); werkzeug's ``send_file`` answers conditional and Range requests
(podcast apps seek in audio with Range).
"""

from __future__ import annotations

import mimetypes

from flask import Response, abort, send_file

from syndicate.web.context import Web
from syndicate.web.feedserve import resolve_below


def serve(web: Web, relpath: str) -> Response:
    settings = web.app.settings
    if settings.paths.media is None:
        abort(404)
    found = resolve_below(settings.resolve(settings.paths.media), relpath)
    if found is None or relpath.endswith("/"):
        abort(404)
    path, clean = found
    mime = mimetypes.guess_type(clean)[0] or "application/octet-stream"
    response = send_file(path, mimetype=mime, conditional=True, etag=True, max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
