"""The HDFS store's failures are one clear line: a NameNode that does not answer (found by a
quick probe, not hdfs-native's long retries) and the NameNode's own refusals."""

import subprocess
import sys

import pytest

from jobs.errors import DrcError
from jobs.storage import open_store
from jobs.storage.hdfs import _reason
from tests.support.ports import free_port


def test_a_namenode_that_does_not_answer_is_one_line():
    port = free_port()  # nothing listens there
    with pytest.raises(DrcError, match=f"cannot reach the NameNode at 127.0.0.1:{port}"):
        open_store(f"hdfs://127.0.0.1:{port}/user/hadoop/raw")
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "stage", "ls",
                           f"hdfs://127.0.0.1:{port}/x"], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("drc: error:") == 1 and "cannot reach" in proc.stderr


def test_a_url_without_namenode_is_refused():
    with pytest.raises(DrcError, match="no NameNode"):
        open_store("hdfs:///user/hadoop/raw")


def test_the_namenodes_refusal_keeps_its_class_and_first_line():
    raw = RuntimeError(
        'RPCError("org.apache.hadoop.hdfs.server.namenode.SafeModeException", '
        '"Cannot create file/x. Name node is in safe mode.\\n\\tat org.apache'
        '.hadoop.hdfs.server.namenode.FSNamesystem.check(FSNamesystem.java:1)")'
    )
    assert _reason(raw) == "SafeModeException: Cannot create file/x. Name node is in safe mode."
    assert _reason(OSError("plain failure\nsecond line")) == "plain failure"
