"""The body of one preprocessing task, without Spark: files written, quarantine returned."""

import re

import numpy as np
import pyarrow.parquet as pq

from jobs.dataset.parquet import PIXELS_SCHEMA
from jobs.preprocess.images import preprocess_bytes
from jobs.preprocess.job import read_quarantine
from jobs.preprocess.task import preprocess_partition, process_paths


def test_identity_pixels_and_quarantine(tmp_path, sample_dir):
    empty = tmp_path / "99_right.jpeg"
    empty.write_bytes(b"")
    paths = [str(sample_dir / "16_left.jpeg"), str(empty), str(tmp_path / "98_left.jpeg")]
    out = list(process_paths(paths, (16, 32), {"16_left": 4}))
    ident, pixels = out[0]
    assert ident == {"image": "16_left", "subject": 16, "eye": "left", "level": 4,
                     "format": "JPEG"}  # fmt: skip
    assert sorted(pixels) == [16, 32] and pixels[32].shape == (32, 32, 3)
    assert [(i["image"], i["reason"], p) for i, p in out[1:]] == [
        ("99_right", "empty", None),
        ("98_left", "unreadable", None),
    ]


def test_task_writes_one_file_per_size_and_yields_quarantine(tmp_path, sample_dir):
    paths = sorted(str(p) for p in sample_dir.glob("*.jpeg")) + [str(tmp_path / "7_left.jpeg")]
    bad = list(preprocess_partition(3, paths, str(tmp_path / "out"), (16, 64), {"13_left": 0}))
    assert [b["image"] for b in bad] == ["7_left"]
    # the task's part of the quarantine table, written beside its sizes' files
    table = list((tmp_path / "out" / "quarantine").iterdir())
    assert [f.name for f in table] == ["part-00003.csv"]
    assert table[0].read_text().splitlines() == [
        "image,reason,detail", f"7_left,unreadable,{bad[0]['detail']}"]  # fmt: skip
    assert read_quarantine(tmp_path / "out") == [{**bad[0]}]
    for size in (16, 64):
        files = list((tmp_path / "out" / f"size={size}").iterdir())
        assert [f.name for f in files] == ["part-00003.parquet"]  # no .partial left
        table = pq.read_table(files[0])
        assert table.schema.equals(PIXELS_SCHEMA)
        rows = table.to_pylist()
        assert sorted(r["image"] for r in rows) == ["10_left", "13_left", "15_right", "16_left"]
        levels = {r["image"]: r["level"] for r in rows}
        assert levels["13_left"] == 0 and levels["16_left"] is None
        first = next(r for r in rows if r["image"] == "15_right")
        expected = preprocess_bytes((sample_dir / "15_right.jpeg").read_bytes(), (16, 64))[0]
        got = np.frombuffer(first["pixels"], dtype=np.uint8).reshape(size, size, 3)
        assert np.array_equal(got, expected[size])


def test_an_output_without_its_quarantine_table_is_redone(tmp_path):
    from jobs.dataset.layout import COMPLETE
    from jobs.preprocess.job import sizes_to_do

    for size in (16, 32):
        (tmp_path / f"size={size}").mkdir()
        (tmp_path / f"size={size}" / COMPLETE).touch()
    assert sizes_to_do(tmp_path, (16, 32, 64)) == (16, 32, 64)  # e.g. an older layout
    (tmp_path / "quarantine").mkdir()  # moved into place last, even when empty
    assert sizes_to_do(tmp_path, (16, 32, 64)) == (64,)
    assert read_quarantine(tmp_path) == []


def test_an_output_of_other_photographs_or_normalisation_is_redone_whole(tmp_path):
    import json

    from jobs.dataset.layout import COMPLETE, summary
    from jobs.preprocess.job import drop_if_stale, sizes_to_do, source_digest

    def finished(digest, normalise):
        for size in (16, 32):
            (tmp_path / f"size={size}").mkdir(exist_ok=True)
            (tmp_path / f"size={size}" / COMPLETE).touch()
        (tmp_path / "quarantine").mkdir(exist_ok=True)
        summary(tmp_path).write_text(json.dumps({"source_digest": digest,
                                                 "normalise": normalise}))  # fmt: skip

    said = []
    digest = source_digest({"1_left": "a", "1_right": "b"})
    assert digest == source_digest({"1_right": "x", "1_left": "y"})  # the names, in any order
    finished(digest, "none")
    drop_if_stale(tmp_path, digest, "none", said.append)  # the same inputs: all kept
    assert sizes_to_do(tmp_path, (16, 32)) == () and not said
    drop_if_stale(tmp_path, source_digest({"1_left": "a"}), "none", said.append)
    assert sizes_to_do(tmp_path, (16, 32)) == (16, 32) and not list(tmp_path.glob("size=*"))
    assert "other photographs" in said[0]
    finished(digest, "none")
    drop_if_stale(tmp_path, digest, "equalize", said.append)
    assert sizes_to_do(tmp_path, (16,)) == (16,) and "--normalise none" in said[1]


def test_pixels_table_matches_arrow_from_python_objects():
    import pyarrow as pa

    from jobs.dataset.parquet import label_columns, pixels_table

    rows = [
        {"image": "1_left", "subject": 1, "eye": "left", "level": 0, "format": "JPEG"},
        {"image": "x", "subject": None, "eye": None, "level": None},  # format missing
        {"image": "2_right", "subject": 2, "eye": "right", "level": 4, "format": "PNG"},
    ]
    pixels = [np.arange(12, dtype=np.uint8).reshape(2, 2, 3), b"", b"\xff\x00"]
    table = pixels_table(label_columns(rows), pixels)
    table.validate(full=True)
    expected = pa.table(
        {f.name: [r.get(f.name) for r in rows] for f in PIXELS_SCHEMA if f.name != "pixels"}
        | {"pixels": [bytes(p) for p in pixels]},
        schema=PIXELS_SCHEMA,
    )
    assert table.equals(expected)
    assert table.column("level").null_count == 1


def test_pixels_are_stored_plain_and_the_labels_compressed(tmp_path, sample_dir):
    list(preprocess_partition(0, [str(sample_dir / "10_left.jpeg")], str(tmp_path), (32,), {}))
    meta = pq.ParquetFile(tmp_path / "size=32" / "part-00000.parquet").metadata.row_group(0)
    codecs = {meta.column(i).path_in_schema: meta.column(i).compression for i in range(6)}
    assert codecs["pixels"] == "UNCOMPRESSED" and codecs["image"] == "SNAPPY"


def test_a_failed_attempt_leaves_no_file_and_a_retry_writes_its_own(
    tmp_path, sample_dir, monkeypatch
):
    import jobs.preprocess.task as task_module

    monkeypatch.setattr(task_module, "FLUSH_IMAGES", 1)  # a file open after the first image
    paths = sorted(str(p) for p in sample_dir.glob("*.jpeg"))
    missing = tmp_path / "photos" / "7_left.jpeg"
    broken = [*paths[:2], str(missing), *paths[2:]]
    out = tmp_path / "out"
    task = preprocess_partition(5, broken, str(out), (16,), {})
    next(task)  # the quarantine row, after two images were written to size=16's .partial
    scratch = [p.name for p in out.rglob("*.partial")]
    assert len(scratch) == 1
    assert re.fullmatch(r"part-00005\.parquet\.[0-9a-f]{8}\.partial", scratch[0])  # its own
    task.close()  # Spark abandons the attempt
    assert not [p for p in out.rglob("*") if p.is_file()]
    bad = list(preprocess_partition(5, broken, str(out), (16,), {}))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "quarantine/part-00005.csv", "size=16/part-00005.parquet"]  # fmt: skip
    assert [row["image"] for row in read_quarantine(out)] == [b["image"] for b in bad]
    # a retry that could read the photograph leaves no part of the earlier attempt behind
    missing.parent.mkdir()
    missing.write_bytes((sample_dir / "10_left.jpeg").read_bytes())
    assert list(preprocess_partition(5, broken, str(out), (16,), {})) == []
    assert read_quarantine(out) == [] and not list((out / "quarantine").iterdir())
    assert pq.read_table(out / "size=16").num_rows == 5


def test_two_attempts_of_one_task_at_once_each_write_their_own_then_one_file(
    tmp_path, sample_dir, monkeypatch
):
    """A speculative (or lingering) attempt runs beside the first: each writes its own
    scratch file, so neither truncates the other's, and the task's file is one whole."""
    import jobs.preprocess.task as task_module

    monkeypatch.setattr(task_module, "FLUSH_IMAGES", 1)
    paths = [*sorted(str(p) for p in sample_dir.glob("*.jpeg")), str(tmp_path / "7_left.jpeg")]
    out = tmp_path / "out"
    first = preprocess_partition(2, paths, str(out), (16,), {})
    next(first)  # paused with its images written, its file open
    second = list(preprocess_partition(2, paths, str(out), (16,), {}))
    assert list(first) == [] and [b["image"] for b in second] == ["7_left"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "quarantine/part-00002.csv", "size=16/part-00002.parquet"]  # fmt: skip
    assert pq.read_table(out / "size=16").num_rows == 4


def test_the_published_table_is_the_rows_spark_counted(tmp_path):
    from jobs.preprocess.job import publish_quarantine
    from jobs.preprocess.task import quarantine_csv_bytes

    table = tmp_path / "quarantine"
    table.mkdir()
    counted = [{"image": "1_left", "reason": "empty", "detail": "0 bytes"}]
    (table / "part-00001.csv").write_bytes(quarantine_csv_bytes(counted))
    publish_quarantine(table, counted)  # the parts agree: kept as the tasks wrote them
    assert [p.name for p in table.iterdir()] == ["part-00001.csv"]
    # a part left by an attempt Spark did not count (its executor lost after the rename)
    (table / "part-00002.csv").write_bytes(
        quarantine_csv_bytes([{**counted[0], "image": "2_left"}])
    )
    (table / "part-00003.csv.partial").write_bytes(b"image,reason")
    publish_quarantine(table, counted)
    assert read_quarantine(tmp_path) == counted
    assert [p.name for p in table.iterdir()] == ["part-00000.csv"]


def test_tasks_on_hdfs_are_fewer_and_larger():
    from types import SimpleNamespace

    from jobs.preprocess.job import default_partitions

    spark = SimpleNamespace(sparkContext=SimpleNamespace(defaultParallelism=2))
    assert default_partitions(spark, 1000, "/data/out") == 4  # two waves of ~256
    assert default_partitions(spark, 1000, "hdfs://nn:8020/out") == 2  # one wave
    assert default_partitions(spark, 35126, "hdfs://nn:8020/out") == 18  # ~1,950 a task
    assert default_partitions(spark, 35126, "/data/out") == 138
    assert default_partitions(spark, 3, "hdfs://nn:8020/out") == 2
    assert default_partitions(spark, 1, "/data/out") == 1
