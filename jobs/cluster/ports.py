"""Before a daemon starts: each port it will listen on must be free, or held by that daemon
itself. Otherwise one line per port names the program holding it, instead of a daemon
that dies in its log and a health gate that times out. The roles run it on each node:

    python -m jobs.cluster.ports [--own-pid-file FILE] PORT... [--then COMMAND...]

With --then, COMMAND (the daemon's start) replaces this process once every port is free:
one round trip to the node for the check and the start.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LINE = re.compile(r"^\S+\s+\d+\s+\d+\s+(?P<local>\S+):(?P<port>\d+)\s+\S+\s*(?P<users>.*)$")
USER = re.compile(r'\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    pid: int | None  # None: a process this user may not see (another user's, as non-root)
    name: str

    def describe(self) -> str:
        holder = f"pid {self.pid} ({self.name})" if self.pid else "a process not visible here"
        return f"port {self.port} ({self.address}) is taken by {holder}"


def parse_ss(text: str) -> list[Listener]:
    """The TCP listeners in `ss -Hltnp` output."""
    found = []
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        user = USER.search(match["users"])
        found.append(Listener(match["local"].strip("[]"), int(match["port"]),
                              int(user["pid"]) if user else None,
                              user["name"] if user else ""))  # fmt: skip
    return found


def foreign(listeners: list[Listener], ports: set[int], own_pid: int | None) -> list[Listener]:
    """Listeners on PORTS that are not the daemon's own process."""
    return [li for li in listeners if li.port in ports and (own_pid is None or li.pid != own_pid)]


def own_pid(pid_file: Path | None) -> int | None:
    """The pid in the daemon's pid file, if that process is alive."""
    try:
        pid = int(Path(pid_file).read_text().split()[0]) if pid_file else None
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid and Path(f"/proc/{pid}").exists() else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m jobs.cluster.ports", description=__doc__)
    p.add_argument("ports", nargs="+", type=int)
    p.add_argument("--own-pid-file", type=Path, help="the daemon's pid file")
    p.add_argument("--then", nargs=argparse.REMAINDER, help="run this when every port is free")
    args = p.parse_args(argv)
    if args.then == []:
        p.error("--then needs the command to run")
    ss = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    taken = foreign(parse_ss(ss), set(args.ports), own_pid(args.own_pid_file))
    for listener in taken:
        print(listener.describe())
    if taken or not args.then:
        return 1 if taken else 0
    sys.stdout.flush()
    # Python ignores these at start-up and an exec keeps that: the daemon's scripts get the
    # defaults, as a shell would give them
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    os.execvp(args.then[0], args.then)


if __name__ == "__main__":
    sys.exit(main())
