"""The API's request and response models: the handlers validate with these and the
OpenAPI document is generated from them, so the two cannot drift.

Request bodies are strict (``"1"`` is not a number) and refuse unknown fields; query
models accept the strings a URL carries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from syndicate.readers.subscribers import MAX_EMAIL, MAX_NAME, STATUSES

Status = Literal["pending", "active", "unsubscribed", "bounced", "complained"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]

# No control characters or line breaks: a name goes into mail headers ("Ann\r\nBcc: ...").
Text = Annotated[str, Field(max_length=MAX_NAME, pattern="^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$")]
DigestName = Annotated[str, Field(min_length=1, max_length=64)]
Cursor = Annotated[str, Field(max_length=100, description="Opaque: `next_cursor` of a page.")]
Limit = Annotated[int, Field(ge=1, le=500, description="Items per page.")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- subscribers ------------------------------------------------------------------------


class SubscriberOut(Out):
    id: int
    email: str
    name: str
    status: Status
    digests: list[str]
    timezone: str | None
    status_reason: str | None
    created_at: datetime
    confirmed_at: datetime | None
    status_changed_at: datetime | None


class SubscriberQuery(Query):
    status: Status | None = None
    digest: DigestName | None = None
    q: Annotated[str, Field(max_length=200, description="Part of the address or name.")] = ""
    limit: Limit = 100
    cursor: Cursor | None = None


T = TypeVar("T")


class Page(Out, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class SubscriberPage(Page[SubscriberOut]):
    pass


class SubscriberCreate(Body):
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL)]
    name: Text = ""
    digests: list[DigestName] | None = Field(
        None, max_length=100, description="Digest names; default every digest."
    )
    timezone: Annotated[str, Field(max_length=64)] | None = None
    status: Literal["pending", "confirmed"] = Field(
        "pending",
        description="pending: a confirmation email is sent (double opt-in); confirmed: "
        "added as active, only with a consent note.",
    )
    consent: Annotated[str, Field(max_length=400)] | None = Field(
        None, description="How the person agreed (required with status confirmed); audited."
    )


class SubscriberUpdate(Body):
    name: Text | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    digests: list[DigestName] | None = Field(None, max_length=100)


class Reason(Body):
    reason: Annotated[str, Field(max_length=400)] = ""


# -- editions ---------------------------------------------------------------------------


class EditionOut(Out):
    id: int
    digest: str
    period: str
    status: str
    subject: str
    article_count: int
    created_at: datetime
    queued_at: datetime | None


class EditionStats(Out):
    deliveries: dict[str, int] = Field(description="Delivery rows by state.")
    total: int
    bounced: int = Field(description="Recipients who bounced within 7 days.")
    complained: int
    unsubscribed: int


class EditionDetail(EditionOut):
    stats: EditionStats | None = Field(description="Null for an edition that was not sent.")


class EditionQuery(Query):
    digest: DigestName | None = None
    limit: Limit = 50
    cursor: Cursor | None = None


class EditionPage(Page[EditionOut]):
    pass


class MessageQuery(Query):
    subscriber_id: Annotated[int, Field(ge=1, le=10**18 - 1)] | None = Field(
        None, description="Whose message; default a sample reader."
    )


class MessageOut(Out):
    edition_id: int
    subscriber_id: int | None
    subject: str
    headers: list[tuple[str, str]]
    html: str
    text: str


# -- stats ------------------------------------------------------------------------------


class QueueOut(Out):
    depth: int
    oldest: datetime | None


class StatsOut(Out):
    subscribers: dict[str, int] = Field(description="Subscribers by status.")
    queue: QueueOut
    editions: list[EditionDetail] = Field(description="The ten newest sent editions.")


# -- articles, feeds, sources -----------------------------------------------------------


class ArticleOut(Out):
    id: int
    uid: str
    slug: str
    title: str
    url: str | None
    summary: str
    tags: list[str]
    published_at: datetime
    updated_at: datetime | None
    draft: bool


class ArticleDetail(ArticleOut):
    content_html: str


class ArticleQuery(Query):
    tag: Annotated[str, Field(max_length=100)] | None = None
    limit: Limit = 50
    cursor: Cursor | None = None


class ArticlePage(Page[ArticleOut]):
    pass


class ArticleWrite(Body):
    format: Literal["markdown", "html"] = Field(
        description="markdown (front matter allowed) or html; read by the file importer."
    )
    content: Annotated[str, Field(min_length=1, max_length=2_000_000)]
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*$")] = (
        Field(description="Stands in for the file name: the same name updates the same article.")
    )


class ArticleWritten(Out):
    article: ArticleDetail
    outcome: str = Field(description="imported | updated | unchanged")


class JobRunOut(Out):
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None


class FeedOut(Out):
    name: str
    path: str
    title: str
    formats: list[str]
    tags: list[str]
    files: dict[str, datetime | None] = Field(
        description="Each live file under the feeds folder and when it last changed (null: not built)."
    )


class FeedList(Out):
    items: list[FeedOut]


class PushOut(Out):
    host: str
    started_at: datetime
    finished_at: datetime | None
    uploaded: int
    deleted: int
    error: str | None


class FeedStatus(Out):
    last_build: JobRunOut | None
    pushes: list[PushOut] = Field(description="The newest push to each host.")


class SourceOut(Out):
    name: str
    kind: str
    url: str | None
    path: str | None
    state: str | None = Field(
        description="Last pull: ok | unchanged | failed | deferred | gone; null: never."
    )
    detail: str | None
    pulled_at: datetime | None
    succeeded_at: datetime | None


class SourceList(Out):
    items: list[SourceOut]


class PullOut(Out):
    status: str = Field(description="ok | failed | skipped | not-claimed (another pull is running)")
    error: str | None
    counts: dict[str, Any]
    source: SourceOut


class FieldError(Out):
    pointer: str | None = Field(None, description="JSON Pointer into the body, like /email.")
    parameter: str | None = Field(None, description="The query parameter.")
    header: str | None = Field(None, description="The request header.")
    detail: str


class ProblemOut(Out):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
