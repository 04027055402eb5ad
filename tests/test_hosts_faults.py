"""Feed hosts failing for real: server down, wrong login, unknown host key, permission
denied, disk full, connection dropped in mid-upload.

Each gives one clear error with a hint, never leaves half a file at a public path,
keeps the manifest equal to what is on the host, and the next run completes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.publishing.hosts import HostError, build_host
from syndicate.publishing.hosts.base import AUTH_HINT, DOWN_HINT, PERMISSION_HINT, SPACE_HINT
from syndicate.publishing.publish import PublishFailed
from tests.support import free_port
from tests.support.host_servers import ChaosProxy, sshd_server
from tests.support.hosts import (
    PUBLISHED,
    Target,
    host_app,
    make_target,
    manifest_paths,
    rss,
    run,
    write_feeds,
)

pytestmark = [
    pytest.mark.usefixtures("secrets"),
    # pyftpdlib still imports asyncore/asynchat (deprecated in 3.11, not ours to fix).
    pytest.mark.filterwarnings("ignore:The asyn:DeprecationWarning"),
]


def fails(tmp_path: Path, target: Target, **options: object) -> PublishFailed:
    with pytest.raises(PublishFailed) as caught:
        run(tmp_path, target, **options)
    return caught.value


def visible(target: Target) -> set[str]:
    """What a reader of the public URLs can see (our temp names are hidden)."""
    return {path for path in target.listing() if not path.rsplit("/", 1)[-1].startswith(".")}


def closed_port_options(kind: str) -> dict[str, object]:
    port = free_port()  # nothing listens there
    if kind == "s3":
        return {"endpoint_url": f"http://127.0.0.1:{port}"}
    if kind == "webdav":
        return {"endpoint_url": f"http://127.0.0.1:{port}/dav/"}
    return {"port": port}


@pytest.mark.parametrize("kind", ["s3", "sftp", "ftp", "webdav"])
def test_server_down_then_next_run_completes(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path)
    write_feeds(tmp_path / "feeds")

    error = fails(tmp_path, target, **closed_port_options(kind))
    assert "all/archive/1/atom.xml" in error.message or "connect" in error.message
    assert error.hint == DOWN_HINT
    assert manifest_paths(tmp_path, target) == {}

    assert set(run(tmp_path, target).uploaded) == PUBLISHED
    assert target.listing() == PUBLISHED


@pytest.mark.parametrize("kind", ["sftp", "ftp", "webdav"])
def test_wrong_login(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = make_target(kind, request, tmp_path)
    write_feeds(tmp_path / "feeds")
    monkeypatch.setenv("WRONG_PASSWORD", "not-the-password")
    if kind == "sftp":
        wrong: dict[str, object] = {"key_file": str(request.getfixturevalue("sshd").other_key)}
    else:
        wrong = {"password_env": "WRONG_PASSWORD"}

    error = fails(tmp_path, target, **wrong)
    expected = "HTTP 401" if kind == "webdav" else "refused the login"
    assert expected in error.message
    assert error.hint == AUTH_HINT
    assert "not-the-password" not in error.message
    assert visible(target) == set()
    assert set(run(tmp_path, target).uploaded) == PUBLISHED


def test_missing_password_variable_names_the_key(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target("ftp", request, tmp_path)
    write_feeds(tmp_path / "feeds")
    error = fails(tmp_path, target, password_env="NO_SUCH_VARIABLE_SET")
    assert "hosts[0].password_env" in error.message
    assert "NO_SUCH_VARIABLE_SET" in error.message


def test_sftp_host_key_is_always_checked(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    target = make_target("sftp", request, tmp_path)
    write_feeds(tmp_path / "feeds")
    server = request.getfixturevalue("sshd")

    unknown = tmp_path / "empty_known_hosts"
    unknown.write_text("")
    error = fails(tmp_path, target, known_hosts=str(unknown))
    assert "is not in known_hosts" in error.message
    assert f"ssh-keyscan -p {server.port} 127.0.0.1" in (error.hint or "")

    # Another server's key under this address: a changed key is refused, not accepted.
    impostor = tmp_path / "impostor_known_hosts"
    other_pub = Path(str(server.other_key) + ".pub").read_text().split()
    impostor.write_text(f"[127.0.0.1]:{server.port} {other_pub[0]} {other_pub[1]}\n")
    error = fails(tmp_path, target, known_hosts=str(impostor))
    assert "does not match known_hosts" in error.message
    assert visible(target) == set()


@pytest.mark.parametrize("kind", ["sftp", "ftp", "webdav"])
def test_permission_denied(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    target = make_target(kind, request, tmp_path)
    write_feeds(tmp_path / "feeds")
    if kind == "sftp":
        # The same user, but the server's SFTP is read-only.
        read_only = sshd_server(tmp_path / "sshd-ro", read_only=True)
        server = read_only.__enter__()
        request.addfinalizer(lambda: read_only.__exit__(None, None, None))
        options: dict[str, object] = {
            "port": server.port,
            "known_hosts": str(server.known_hosts),
            "key_file": str(server.key_file),
        }
        expected = "Permission denied"
    elif kind == "ftp":
        options, expected = {"username": "reader"}, "refused (550"
    else:
        options, expected = {"endpoint_url": request.getfixturevalue("dav").read_only_url}, "403"

    error = fails(tmp_path, target, **options)
    assert expected in error.message
    # The first thing refused is named: the first archive page, or its folder.
    assert "all/archive/1/atom.xml" in error.message or "create folder" in error.message
    assert error.hint == PERMISSION_HINT
    assert manifest_paths(tmp_path, target) == {}
    assert visible(target) == set()


def change_live_feed(tmp_path: Path, *, padding: int = 0) -> bytes:
    data = rss("all/rss.xml", "Second", padding=padding)
    (tmp_path / "feeds" / "all" / "rss.xml").write_bytes(data)
    return data


@pytest.mark.parametrize("kind", ["ftp", "webdav"])
def test_disk_full(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    target = make_target(kind, request, tmp_path)
    files = write_feeds(tmp_path / "feeds")
    run(tmp_path, target)
    before = manifest_paths(tmp_path, target)
    new = change_live_feed(tmp_path)

    server = request.getfixturevalue("ftp" if kind == "ftp" else "dav")
    server.faults.disk_full = True
    try:
        error = fails(tmp_path, target)
    finally:
        server.faults.disk_full = False
    assert "out of space" in error.message and "all/rss.xml" in error.message
    assert error.hint == SPACE_HINT
    # The old feed is still served whole, and the manifest still says so.
    assert target.read("all/rss.xml") == files["all/rss.xml"]
    assert manifest_paths(tmp_path, target) == before

    again = run(tmp_path, target)
    assert again.uploaded == ["all/rss.xml"]
    assert target.read("all/rss.xml") == new
    assert target.listing() == PUBLISHED


@pytest.mark.parametrize("kind", ["s3", "sftp", "ftp", "webdav"])
def test_connection_dropped_mid_upload(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path)
    files = write_feeds(tmp_path / "feeds")
    proxy, options, cut = None, {}, None
    if kind == "ftp":
        server = request.getfixturevalue("ftp")

        def cut(connections: int) -> None:
            server.faults.drop_uploads = connections
    else:
        if kind == "s3":
            upstream = int(request.getfixturevalue("s3_endpoint").rsplit(":", 1)[1])
        elif kind == "sftp":
            upstream = request.getfixturevalue("sshd").port
        else:
            upstream = request.getfixturevalue("dav").port
        proxy = ChaosProxy(upstream)
        request.addfinalizer(proxy.close)
        cut = proxy.cut
        options = {
            "s3": {"endpoint_url": f"http://127.0.0.1:{proxy.port}"},
            "webdav": {"endpoint_url": f"http://127.0.0.1:{proxy.port}/dav/"},
            "sftp": {"port": proxy.port},
        }[kind]
        if kind == "sftp":
            # known_hosts names the host by address and port: list the proxy's port too.
            known = Path(request.getfixturevalue("sshd").known_hosts).read_text().split()
            entry = tmp_path / "known_hosts"
            entry.write_text(f"[127.0.0.1]:{proxy.port} {known[1]} {known[2]}\n")
            options["known_hosts"] = str(entry)
    assert set(run(tmp_path, target, **options).uploaded) == PUBLISHED
    before = manifest_paths(tmp_path, target)

    # Every attempt is cut: the run fails, the old feed stays whole at its public path.
    big = change_live_feed(tmp_path, padding=300_000)
    cut(10)
    error = fails(tmp_path, target, **options)
    cut(0)
    assert "all/rss.xml" in error.message
    assert target.read("all/rss.xml") == files["all/rss.xml"]
    assert visible(target) == PUBLISHED
    assert manifest_paths(tmp_path, target) == before

    # One cut: the retry inside the run finishes the job.
    cut(1)
    report = run(tmp_path, target, **options)
    assert report.uploaded == ["all/rss.xml"]
    assert target.read("all/rss.xml") == big
    assert visible(target) == PUBLISHED
    assert manifest_paths(tmp_path, target)["all/rss.xml"] != before["all/rss.xml"]


def test_ftp_delete_check_failing_is_a_host_error(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """DELE says 550 and the SIZE check that tells "gone" from "refused" fails too."""
    target = make_target("ftp", request, tmp_path)
    server = request.getfixturevalue("ftp")
    with host_app(tmp_path, target.table()) as app:
        host = build_host(app.settings.hosts[0], base_dir=app.settings.base_dir)
        server.faults.size_reply = "421 Service not available, closing control connection."
        try:
            with pytest.raises(HostError) as caught:
                host.delete("never/was.txt")
        finally:
            server.faults.size_reply = None
            host.close()
    assert caught.value.temporary  # a closing server: the publisher retries
    assert "cannot delete never/was.txt" in caught.value.message
