"""The test Swift of tests/servers/ for the benchmarks: started in a directory, its
credentials exported (ST_AUTH, ST_USER, ST_KEY and the S3 ones), stopped on the way out."""

import contextlib
import os
import shlex
import subprocess
from pathlib import Path

AIO = Path(__file__).resolve().parent.parent / "tests" / "servers" / "swift_aio.sh"


@contextlib.contextmanager
def running_swift(state: Path):
    started = subprocess.run([str(AIO), "start", str(state)], capture_output=True, text=True,
                             check=True)  # fmt: skip
    try:
        for line in started.stdout.splitlines():
            os.environ.update(p.split("=", 1) for p in shlex.split(line)[1:])
        yield
    finally:
        subprocess.run([str(AIO), "stop", str(state)], check=True)
