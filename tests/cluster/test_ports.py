"""A daemon's ports, checked before it starts: the holder named in one line."""

import os
import socket

from jobs.cluster import ports

SS = """\
LISTEN 0      256         127.0.0.1:8020  0.0.0.0:* users:(("java",pid=8052,fd=142))
LISTEN 0      4096   [::ffff:127.0.0.1]:7077        *:* users:(("java",pid=8832,fd=301))
LISTEN 0      128           0.0.0.0:2024  0.0.0.0:*
"""


def test_ss_output_is_read_into_port_pid_and_program():
    found = ports.parse_ss(SS)
    assert [(li.port, li.pid, li.name) for li in found] == [
        (8020, 8052, "java"), (7077, 8832, "java"), (2024, None, "")]  # fmt: skip
    assert found[0].describe() == "port 8020 (127.0.0.1) is taken by pid 8052 (java)"
    assert "not visible here" in found[2].describe()
    # the daemon's own process holding its port is not "taken"
    assert ports.foreign(found, {8020, 7077}, own_pid=8052) == [found[1]]


def test_a_port_this_test_holds_is_named_with_this_pid(tmp_path, capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert ports.main([str(port)]) == 1
        line = capsys.readouterr().out.strip()
        assert line.startswith(f"port {port} (127.0.0.1) is taken by pid {os.getpid()} (")
        pid_file = tmp_path / "daemon.pid"
        pid_file.write_text(f"{os.getpid()}\n")  # as if this process were the daemon
        assert ports.main(["--own-pid-file", str(pid_file), str(port)]) == 0
    assert ports.main([str(port)]) == 0  # released


def test_then_runs_the_start_only_when_every_port_is_free(tmp_path):
    """--then: the check and the daemon's start in one process (one round trip to a node)."""
    import subprocess
    import sys

    started = tmp_path / "started"
    start = ["--then", "touch", str(started)]
    cli = [sys.executable, "-m", "jobs.cluster.ports"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        taken = subprocess.run([*cli, port, *start], capture_output=True, text=True)
        assert taken.returncode == 1 and "is taken by pid" in taken.stdout
        assert not started.exists()
    free = subprocess.run([*cli, port, *start], capture_output=True, text=True)
    assert free.returncode == 0, free.stderr
    assert started.exists()
