"""Real servers for the integration tests, started once per session, stopped by pid."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.ports import free_port, free_port_block

SWIFT_AIO = Path(__file__).resolve().parents[1] / "servers" / "swift_aio.sh"


@pytest.fixture(scope="session")
def swift_env(tmp_path_factory) -> dict[str, str]:
    """An all-in-one Swift with tempauth and s3api; the variables `drc stage` reads."""
    state = tmp_path_factory.mktemp("swift")
    ports = {
        "SWIFT_AIO_PORT": str(free_port()),
        "SWIFT_AIO_BASE": str(free_port_block(3)),
        "SWIFT_AIO_MEMCACHED": str(free_port()),
    }
    env = dict(os.environ, **ports)
    started = subprocess.run([str(SWIFT_AIO), "start", str(state)], env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    if started.returncode != 0:
        pytest.fail(f"swift all-in-one did not start:\n{started.stderr[-3000:]}")
    exports = {}
    for line in started.stdout.splitlines():
        if line.startswith("export "):
            exports.update(pair.split("=", 1) for pair in shlex.split(line)[1:])
    yield exports
    subprocess.run([str(SWIFT_AIO), "stop", str(state)], env=env, timeout=60, check=True)


@pytest.fixture(scope="session")
def cnn_data(tmp_path_factory) -> Path:
    """800 synthetic fundus images, equal grade shares, preprocessed to 64 px."""
    from tests.support.cnn_data import synthetic_parquet

    return synthetic_parquet(tmp_path_factory.mktemp("cnn"), 800)
