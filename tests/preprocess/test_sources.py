"""The preprocess job's sources without a server: a directory by path, and the one-hop
task body fed objects through a reader (quarantine reasons of the store's failures)."""

import pyarrow.parquet as pq

from jobs.preprocess.sources import Source, list_photographs, stem
from jobs.preprocess.task import preprocess_partition
from jobs.storage.base import ObjectInfo
from jobs.storage.fetch import Unfetchable


def test_names_of_paths_and_objects():
    assert stem("/data/16_left.jpeg") == stem(ObjectInfo("16_left.jpeg", 1)) == "16_left"


def test_a_directory_is_read_by_path_and_carries_no_credentials(sample_dir, monkeypatch):
    monkeypatch.setenv("ST_KEY", "s3cret")
    source = Source.of(str(sample_dir))
    assert not source.one_hop and source.env is None
    photos = list_photographs(str(sample_dir))
    assert sorted(photos) == ["10_left", "13_left", "15_right", "16_left"]
    assert all(isinstance(p, str) for p in photos.values())


def test_a_store_source_prints_no_secret(monkeypatch):
    monkeypatch.setenv("ST_AUTH", "http://127.0.0.1:1/auth/v1.0")
    monkeypatch.setenv("ST_KEY", "s3cret")
    source = Source.of("swift://c/p")
    assert source.one_hop and "s3cret" not in repr(source)


def test_objects_that_cannot_be_fetched_are_quarantined_by_name(tmp_path, sample_images):
    objects = [ObjectInfo(f"{name}.jpeg", len(data)) for name, data in sample_images.items()]
    gone, bad = ObjectInfo("98_left.jpeg", 5), ObjectInfo("99_right.jpeg", 5)

    def read(info):
        if info is gone:
            raise Unfetchable("missing", "object '98_left.jpeg': not found (HTTP 404)")
        if info is bad:
            raise Unfetchable("unverified", "the 5 bytes fetched do not match; 3 attempts")
        return sample_images[stem(info)]

    quarantined = list(preprocess_partition(0, [*objects, gone, bad], str(tmp_path), (16,), {},
                                            read=read))  # fmt: skip
    assert [(q["image"], q["reason"]) for q in quarantined] == [
        ("98_left", "missing"), ("99_right", "unverified"),
    ]  # fmt: skip
    assert "HTTP 404" in quarantined[0]["detail"]
    rows = pq.read_table(tmp_path / "size=16" / "part-00000.parquet").column("image")
    assert sorted(rows.to_pylist()) == sorted(sample_images)


def test_a_failed_attempt_leaves_no_partial_file(tmp_path, sample_images):
    names = sorted(sample_images) * 10  # 40 images: one row group written before the failure
    seen = []

    def read(path):
        seen.append(path)
        if len(seen) == 38:
            raise RuntimeError("the store refused the credentials")
        return sample_images[stem(path)]

    task = preprocess_partition(2, [f"{n}.jpeg" for n in names], str(tmp_path), (16,), {},
                                read=read)  # fmt: skip
    try:
        list(task)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the attempt should have failed")
    assert list((tmp_path / "size=16").iterdir()) == []  # its partial file removed
