"""Can Ansible log in to a freshly provisioned machine? A login with the user and key the
inventory will name, running `true`: sshd's greeting alone says nothing about either."""

import subprocess
import time

from provision.errors import ProvisionError


def ssh_login(host: str, timeout_s: float, *, user: str, key: str | None, port: int = 22) -> None:
    """Retry until a login works or the deadline passes; ProvisionError with ssh's reason."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR", "-p", str(port),
            *(["-i", key, "-o", "IdentitiesOnly=yes"] if key else []),
            f"{user}@{host}", "true"]  # fmt: skip
    deadline = time.monotonic() + timeout_s
    reason = "no attempt"
    while True:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            if proc.returncode == 0:
                return
            reason = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        except subprocess.TimeoutExpired:
            reason = "ssh hung for 30 s"
        except OSError as exc:  # no ssh client on the launcher: no retry will help
            raise ProvisionError("ssh", f"cannot run the ssh client: {exc}") from None
        if time.monotonic() >= deadline:
            break
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
    raise ProvisionError(f"{user}@{host}", f"no SSH login within {timeout_s:.0f} s with key "
                                           f"{key or '(ssh defaults)'}: {reason}")  # fmt: skip
