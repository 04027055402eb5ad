"""One error tree for everything an operator or a reader can get wrong.

Every error carries a ``hint``: the next thing to do. The CLI and the web app
translate these at the edge (one line, exit 1; or an HTTP status) and never show
a traceback for them.

    SyndicateError
    ├── ConfigError          config.toml or environment is wrong (lists every problem)
    ├── StoreError           the database cannot be reached or migrated
    ├── ImportFailure        an article file cannot be read or parsed
    ├── FeedError            a built feed breaks a rule (feed lint)
    ├── TemplateError        a template is missing or does not render
    ├── DigestError          an edition cannot be composed or fails its pre-send check
    ├── DeliveryError        a mailer could not hand over a message
    ├── PublishError         a feed host refused or failed an upload
    ├── SourceError          a feed source cannot be fetched or read
    └── BadInput             a request's content is malformed (the web answers 400)
        └── TokenError       a link token is forged, expired or for something else
"""

from __future__ import annotations

# The name on the package index: `syndicate` there is an unrelated project, so
# installing by that name brings someone else's code. The command and the
# import package stay `syndicate`.
DISTRIBUTION = "syndicate-feeds"


def install_hint(extra: str) -> str:
    """The pip command that adds an optional extra (``s3``, ``sftp``, ``ses``, ``dkim``)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


class SyndicateError(Exception):
    """Base of every error the operator should see as one clear line."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(SyndicateError):
    """The configuration is invalid; ``problems`` holds one line per key path."""

    hint = "fix the keys listed above, then run `syndicate check`"

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = problems or []


class StoreError(SyndicateError):
    hint = "check [database] url and that the database server is running"


class ImportFailure(SyndicateError):
    """An article file could not be imported; names the file and, if known, the line."""

    hint = "fix the file and import it again; other files were not affected"

    def __init__(self, path: str, reason: str, *, line: int | None = None):
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class FeedError(SyndicateError):
    hint = "run `syndicate check` to see every problem in the built feeds"


class TemplateError(SyndicateError):
    hint = "check the template named above in your templates folder"


class DigestError(SyndicateError):
    hint = "run `syndicate digest preview NAME` to inspect the edition"


class DeliveryError(SyndicateError):
    """A mailer failed. ``temporary`` says whether retrying later may succeed."""

    hint = "see `syndicate status` for the failing deliveries"

    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ):
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class PublishError(SyndicateError):
    hint = "check the [[hosts]] entry and that the host is reachable"


class SourceError(SyndicateError):
    """A feed source failed; ``temporary`` says whether a later pull may succeed.

    ``retry_after`` (seconds) is the server's Retry-After; ``gone`` marks a 410.
    """

    hint = "see `syndicate sources list` for each source's state"

    def __init__(
        self,
        message: str,
        *,
        temporary: bool = False,
        retry_after: float | None = None,
        gone: bool = False,
    ):
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after
        self.gone = gone


class BadInput(SyndicateError):
    """What a visitor or a provider sent cannot be used; never the operator's fault."""

    hint = "send a well-formed request"


class TokenError(BadInput):
    hint = "ask for a new link"
