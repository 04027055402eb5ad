"""A `syndicate run` or `serve` whose web port is taken stops at start, in one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support import write_config
from tests.support.processes import SyndicateProcess


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_taken_web_port_is_fatal_at_start(tmp_path: Path, command: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
        config.write_text(
            config.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
        )
        service = SyndicateProcess(config, command)
        try:
            code = service.proc.wait(60)
        finally:
            if service.proc.poll() is None:  # still running without a web server: the bug
                service.kill()
        service._reader.join(10)
    output = "\n".join(service.lines)
    assert code == 1, output
    errors = [line for line in service.lines if line.startswith("error:")]
    assert len(errors) == 1 and "web.listen" in errors[0] and f":{port}" in errors[0], output
    assert "free address" in errors[0]
    assert "Traceback" not in output
    assert "scheduler leader" not in output  # nothing started before the bind
