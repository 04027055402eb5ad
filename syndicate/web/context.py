"""What every view receives: the App, the token signer, the rate limiter, page rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from babel.support import NullTranslations
from flask import Response, current_app, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.errors import TokenError
from syndicate.core.i18n import translator
from syndicate.core.render import render
from syndicate.core.tokens import Signer, signer_for
from syndicate.service.context import App
from syndicate.web.security import RateLimiter
from syndicate.web.sns import CertificateCache


@dataclass
class Web:
    app: App
    signer: Signer
    subscribe_limiter: RateLimiter
    sns_certificates: CertificateCache
    _registry: Any = None

    @classmethod
    def build(cls, app: App) -> Web:
        return cls(
            app=app,
            signer=signer_for(app.settings, app.engine),
            subscribe_limiter=RateLimiter(
                app.settings.web.subscribe_per_hour, timedelta(hours=1), app.clock
            ),
            sns_certificates=CertificateCache(app.clock),
        )

    def page(
        self, template: str, /, *, status: int = 200, private: bool = False, **context: object
    ) -> BaseResponse:
        """Render ``templates/web/<name>``; ``private`` pages (with tokens) are never cached."""
        settings = self.app.settings
        body = render(
            settings.templates_dir,
            f"web/{template}",
            language=settings.site.language,
            site=settings.site,
            url_for=url_for,
            **context,
        )
        response = Response(body, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store" if private else "public, max-age=300"
        return response

    @property
    def t(self) -> NullTranslations:
        """The reader pages' messages, in the site's language."""
        return translator(self.app.settings.site.language, self.app.settings.templates_dir)

    def metrics_registry(self) -> Any:
        if self._registry is None:
            # local: web.metrics imports this module (Web); built on the first scrape
            from syndicate.web.metrics import registry_for

            self._registry = registry_for(self.app)
        return self._registry

    def check(self, token: str, purpose: str) -> int:
        """The subscriber id a valid token for ``purpose`` names, or TokenError."""
        checked = self.signer.check(token, purpose, now=self.app.clock.now())
        if not (checked.subject.isascii() and checked.subject.isdigit()):
            raise TokenError("this link is not valid")
        return int(checked.subject)


def web() -> Web:
    found: Web = current_app.extensions["syndicate"]
    return found


def client_ip() -> str:
    """The peer address; behind ``web.proxies`` reverse proxies, the forwarded client."""
    return request.remote_addr or "unknown"
