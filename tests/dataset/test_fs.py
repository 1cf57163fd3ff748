"""The file operations the preprocess job uses, on local paths (the hdfs:// side runs in the
cluster's integration tests): joins keep URLs intact, replace is whole, write_text atomic."""

from pathlib import Path

from jobs.dataset import fs, layout


def test_urls_and_paths_join_as_their_kind():
    assert fs.join("hdfs://nn:8020/user/hadoop/", "prep", "size=16") == (
        "hdfs://nn:8020/user/hadoop/prep/size=16"
    )
    assert layout.size_dir("hdfs://nn:8020/p", 32) == "hdfs://nn:8020/p/size=32"
    assert layout.size_dir(Path("/d"), 32) == Path("/d/size=32")
    assert fs.parent("hdfs://nn:8020/p/q.csv") == "hdfs://nn:8020/p" and fs.name("/a/b/") == "b"
    assert fs.is_remote("hdfs://nn/x") and not fs.is_remote("/x") and not fs.is_remote("file:///x")


def test_replace_puts_a_directory_in_place_of_another(tmp_path):
    old, new = tmp_path / "size=16", tmp_path / "_tmp.1"
    old.mkdir()
    (old / "stale.parquet").write_text("old")
    new.mkdir()
    (new / "part-00000.parquet").write_text("new")
    fs.replace(new, old)
    assert [p.name for p in old.iterdir()] == ["part-00000.parquet"] and not new.exists()


def test_write_text_leaves_no_partial_and_listing_sees_files(tmp_path):
    fs.write_text(tmp_path / "_SUCCESS", "{}")
    fs.makedirs(tmp_path / "sub")
    assert fs.read_text(tmp_path / "_SUCCESS") == "{}"
    assert [(Path(p).name, d) for p, _, d in fs.listdir(tmp_path)] == [("_SUCCESS", False),
                                                                       ("sub", True)]  # fmt: skip
    assert fs.glob(tmp_path / "*.partial") == []
    fs.rmtree(tmp_path / "sub")
    fs.rmtree(tmp_path / "absent")  # nothing there is not an error
    assert not fs.exists(tmp_path / "sub")


HOLDS_A_CLIENT_THEN_FORKS = """
import subprocess
import jobs.dataset.fs
from hdfs_native.fsspec import HdfsFileSystem
HdfsFileSystem(host="127.0.0.1", port=1)  # cached by fsspec; no NameNode needed to make one
subprocess.run(["true"], preexec_fn=lambda: None, check=True)  # a fork, as PySpark's JVM
print("started")
"""


def test_a_process_holding_an_hdfs_client_can_fork():
    """A forked child freed its parent's cached hdfs-native client and waited forever for
    that client's threads (absent after fork): PySpark's JVM launch, after any HDFS use in
    the same process, hung before exec. fs holds the clients across the fork."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", HOLDS_A_CLIENT_THEN_FORKS], timeout=60,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout == "started\n", proc.stderr
