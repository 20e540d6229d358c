"""A real Dovecot IMAP server for the mailbox tests (Debian `dovecot-imapd`, scripts/system-deps.sh): a test
instance of its own, started once per session and stopped at its end. Its configuration, passwd-file and
Maildir live in a temporary folder; it listens on 127.0.0.1 on a free port, without TLS (plaintext login is
allowed there only). Run as root, the mailbox belongs to the unprivileged `nobody`; otherwise to the user
running the tests (login and internal services too). Tests import the fixtures from here.
"""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "segreta-di-prova"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    root: Path

    def connect(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(user, PASSWORD)
        return conn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, run_as: str | None) -> str:
    users = ""
    if run_as:  # not root: every service runs as the current user
        users = (
            f"default_login_user = {run_as}\ndefault_internal_user = {run_as}\n"
            f"service anvil {{\n  chroot =\n}}\nservice imap-login {{\n  chroot =\n}}\n"
        )
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""


def _users(root: Path, names: list[str]) -> None:
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    lines = []
    for name in names:
        home = root / "mail" / name
        home.mkdir(parents=True)
        os.chown(home, owner.pw_uid, owner.pw_gid)
        lines.append(f"{name}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{home}::")
    (root / "passwd").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        pytest.fail("dovecot non installato: scripts/system-deps.sh test (pacchetto dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="esattoria-dovecot-"))
    root.chmod(0o755)  # the mail user (nobody when run as root) reaches its Maildir
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    (root / "mail").chmod(0o755)
    # a mailbox per test (each test takes a fresh one: nothing carries over between tests)
    _users(root, [f"archivio{n}" for n in range(1, 21)])
    port = _free_port()
    run_as = None if os.geteuid() == 0 else getpass.getuser()
    (root / "dovecot.conf").write_text(_config(root, port, run_as))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                err = process.stderr.read().decode() if process.stderr else ""
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot non partito: {err}\n{log}")
            time.sleep(0.1)
    try:
        yield Dovecot("127.0.0.1", port, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


_next_user = iter(range(1, 21))


@pytest.fixture
def mailbox_user(dovecot: Dovecot) -> str:
    """A mailbox nobody else in the session has used."""
    return f"archivio{next(_next_user)}"
