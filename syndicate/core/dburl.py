"""What a ``[database] url`` may be, decided before SQLAlchemy sees it.

SQLAlchemy's own errors for a wrong URL read as internals ("Can't load plugin:
sqlalchemy.dialects:postgres"), and SQLite quietly creates a new, empty store when a
path is mistyped. This module turns both into one clear line: the two supported
backends, the one PostgreSQL driver that is installed, and a SQLite file whose
folder must already exist.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.core.errors import StoreError

SUPPORTED = "sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
POSTGRES_DRIVER = "psycopg"  # psycopg 3, a dependency; SQLAlchemy's default is psycopg2
_POSTGRES_SCHEMES = ("postgres", "postgresql")
_SQLITE_DRIVERS = ("", "pysqlite")


class DatabaseUrlError(StoreError):
    """The configured database URL names something syndicate cannot use."""

    hint = f"set [database] url to {SUPPORTED}"


def _split(url: str) -> tuple[str, str, str]:
    """(backend, driver, rest) of ``backend+driver://rest``, lower-cased scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise DatabaseUrlError(f"{url!r} is not a URL")
    backend, _, driver = scheme.lower().partition("+")
    return backend, driver, rest


def normalise(url: str) -> str:
    """The URL SQLAlchemy should get: ``postgres://`` and ``postgresql://`` (what hosting
    providers hand out) mean PostgreSQL through psycopg 3; anything else unsupported
    raises a DatabaseUrlError naming the scheme."""
    backend, driver, rest = _split(url)
    if backend in _POSTGRES_SCHEMES:
        if driver in ("", POSTGRES_DRIVER):
            return f"postgresql+{POSTGRES_DRIVER}://{rest}"
        raise DatabaseUrlError(
            f"the driver {driver!r} is not installed; syndicate uses psycopg 3",
            hint=f"write postgresql+{POSTGRES_DRIVER}://{'...' if rest else ''}",
        )
    if backend == "sqlite":
        if driver not in _SQLITE_DRIVERS:
            raise DatabaseUrlError(f"the SQLite driver {driver!r} is not supported")
        return url
    raise DatabaseUrlError(f"{backend!r} databases are not supported (only SQLite and PostgreSQL)")


DEFAULT_URL = "sqlite:///syndicate.db"  # [database] url when the config does not set it


def resolved(url: str, base_dir: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base_dir`` (the config
    file's folder): what the store is opened with."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and not rest.startswith(":memory:"):
            path = Path(rest).expanduser()
            return prefix + str(path if path.is_absolute() else base_dir / path)
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for memory and other backends."""
    backend, _, rest = _split(url)
    if backend != "sqlite":
        return None
    path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
    path = path.split("?", 1)[0]
    if not path or path.startswith(":memory:"):
        return None
    return Path(path)


def require_folder(url: str) -> None:
    """A SQLite store is never created in a folder that does not exist: a typo in the
    path would otherwise start a new, empty store and hide every stored article."""
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise DatabaseUrlError(
            f"the SQLite folder {path.parent} does not exist (for {path.name})",
            hint="create the folder, or fix the path in [database] url",
        )
