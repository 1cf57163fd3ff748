"""The SSH check proves a login, not a greeting (#29 (2)): a server that only says
`SSH-2.0-...` used to pass, and the failure surfaced only in main.yml."""

import shutil
import socket
import threading
import time

import pytest

from provision.errors import ProvisionError

pytestmark = pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client on this machine")


def greeter() -> tuple[socket.socket, int]:
    """A loopback listener that sends sshd's greeting to whoever connects, then hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_greeting_without_a_login_fails_with_ssh_reason(tmp_path):
    from provision.providers.sshcheck import ssh_login

    server, port = greeter()
    try:
        start = time.monotonic()
        with pytest.raises(ProvisionError, match=r"admin@127.0.0.1: no SSH login within 2 s "
                                                 r"with key .*id_test"):  # fmt: skip
            ssh_login("127.0.0.1", 2, user="admin", key=str(tmp_path / "id_test"), port=port)
        assert time.monotonic() - start < 40
    finally:
        server.close()
