"""A throwaway Dovecot IMAP server on loopback, for the bounce mailbox tests.

Debian's ``dovecot-imapd``, started with a generated config in a private temporary
folder: no chroot, no system paths, a passwd-file with one user, Maildir storage,
plain IMAP and IMAPS (a self-signed certificate; STARTTLS on the plain port) on
free loopback ports. A wrong password is refused at once (``auth_failure_delay = 0``,
not Dovecot's 2 s, which the test of it sat through). Dovecot's login process refuses
to run as root, so when the tests run as root the whole server runs as ``nobody`` (its
folder is handed over); otherwise as the user running the tests.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port, require_binary
from tests.support.deliveries import self_signed

USER = "bounces"
PASSWORD = "imap-test-password-1"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Dovecot:
    port: int  # plain IMAP (and STARTTLS)
    tls_port: int  # IMAPS
    root: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    binary = require_binary("dovecot")
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(account.pw_gid).gr_name
    # Not pytest's tmp_path: its parents are private to the test user, and ``nobody``
    # must reach this folder.
    root = Path(tempfile.mkdtemp(prefix="syndicate-dovecot-"))
    try:
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        self_signed(root)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        server = Dovecot(free_port(), free_port(), root)
        (root / "dovecot.conf").write_text(
            CONFIG.format(
                root=root,
                user=account.pw_name,
                group=group,
                uid=account.pw_uid,
                gid=account.pw_gid,
                port=server.port,
                tls_port=server.tls_port,
            )
        )
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
        drop = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        process = subprocess.Popen(
            [binary, "-F", "-c", str(root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            **(drop if os.geteuid() == 0 else {}),  # type: ignore[arg-type]
        )
        try:
            _wait_ready(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(server: Dovecot, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            server.client().logout()
            return
        except (OSError, imaplib.IMAP4.error) as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dovecot did not start ({exc}):\n{server.log()}") from None
            time.sleep(0.1)
