"""Storage pieces that need no server: URLs, safe names, proofs of equality, split zips."""

import io
import zipfile
from pathlib import Path

import pytest

from jobs.errors import DrcError
from jobs.storage import open_store, transfer
from jobs.storage.base import LocalDigest, ObjectInfo, ObjectMeta, Store, local_digest, safe_key
from jobs.storage.unpack import ConcatReader, expand_parts, unpack


def test_unknown_scheme_and_missing_bucket_are_clear():
    with pytest.raises(DrcError, match="unsupported scheme 'ftp'"):
        open_store("ftp://host/x")
    with pytest.raises(DrcError, match="no container/bucket"):
        open_store("swift:///x")


@pytest.mark.parametrize("key", ["/etc/passwd", "../up", "a/../../b", ""])
def test_unsafe_object_names_are_refused(key):
    with pytest.raises(DrcError, match="refusing object name"):
        safe_key(key, "swift://c")


class FakeStore(Store):
    url = "fake://"

    def __init__(self, meta: ObjectMeta):
        self._meta, self.heads = meta, 0

    def meta(self, key):
        self.heads += 1
        return self._meta

    list = download = upload = read = None


LOCAL = LocalDigest(size=3, md5="0" * 32, sha256="a" * 64)


def test_plain_md5_etag_proves_without_a_request():
    store = FakeStore(ObjectMeta(None, False))
    assert store.matches(ObjectInfo("k", 3, "0" * 32), LOCAL) == "md5"
    assert store.heads == 0


@pytest.mark.parametrize(
    ("etag", "meta", "proof"),
    [
        ("1" * 32, ObjectMeta(None, False), None),  # plain object, MD5 differs
        ("1" * 32, ObjectMeta("a" * 64, True), "sha256"),  # our SLO: its digest decides
        ("1" * 32, ObjectMeta("b" * 64, True), None),
        ("abc-3", ObjectMeta(None, True), "size"),  # someone else's multipart upload
    ],
)
def test_segmented_objects_are_proven_by_our_digest(etag, meta, proof):
    assert FakeStore(meta).matches(ObjectInfo("k", 3, etag), LOCAL) == proof


def test_size_mismatch_needs_no_request():
    store = FakeStore(ObjectMeta("a" * 64, False))
    assert store.matches(ObjectInfo("k", 4, "0" * 32), LOCAL) is None
    assert store.heads == 0


def test_file_store_get_skips_then_repairs(tmp_path, sample_dir):
    dest = tmp_path / "data"
    first = transfer.get(f"file://{sample_dir}", dest)
    assert (first.objects, first.transferred, first.present) == (5, 5, 0)
    again = transfer.get(str(sample_dir), dest)
    assert (again.transferred, again.present) == (0, 5)
    damaged = bytearray((dest / "13_left.jpeg").read_bytes())
    damaged[1000] ^= 0xFF
    (dest / "13_left.jpeg").write_bytes(bytes(damaged))
    assert transfer.verify(str(sample_dir), dest).different == ["13_left.jpeg"]
    repaired = transfer.get(str(sample_dir), dest)
    assert (repaired.transferred, repaired.present) == (1, 4)
    assert local_digest(dest / "13_left.jpeg") == local_digest(sample_dir / "13_left.jpeg")


def test_empty_prefix_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrcError, match="no objects"):
        transfer.get(f"file://{tmp_path / 'empty'}", tmp_path / "dest")


def split(data: bytes, parts: int, where: Path) -> list[Path]:
    step = len(data) // parts + 1
    paths = []
    for i in range(parts):
        path = where / f"train.zip.{i + 1:03d}"
        path.write_bytes(data[i * step : (i + 1) * step])
        paths.append(path)
    return paths


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_concat_reader_reads_across_part_boundaries(tmp_path):
    data = bytes(range(256)) * 40
    reader = ConcatReader(split(data, 7, tmp_path))
    assert reader.read() == data
    reader.seek(-300, io.SEEK_END)
    assert reader.read(100) == data[-300:-200]
    reader.close()


def test_split_zip_extracts_images_and_csv_only(tmp_path, sample_images):
    members = {f"train/{k}.jpeg": v for k, v in sample_images.items()}
    members |= {"trainLabels.csv": b"image,level\n", "notes.exe": b"MZ", "../evil.jpeg": b"x",
                "/abs.csv": b"y"}  # fmt: skip
    parts = split(make_zip(members), 3, tmp_path)
    dest = tmp_path / "out"
    result = unpack(expand_parts([str(tmp_path / "train.zip.*")]), dest)
    assert result.extracted == len(sample_images) + 1
    assert sorted(name for name, _ in result.refused) == ["../evil.jpeg", "/abs.csv", "notes.exe"]
    for key, data in sample_images.items():
        assert (dest / "train" / f"{key}.jpeg").read_bytes() == data
    assert not (tmp_path / "evil.jpeg").exists()
    assert unpack(parts, dest).present == len(sample_images) + 1


def test_missing_part_is_a_clear_error(tmp_path):
    parts = split(make_zip({"a.csv": b"1" * 5000}), 3, tmp_path)
    with pytest.raises(DrcError, match="a part is missing"):
        unpack(parts[:2], tmp_path / "out")
    with pytest.raises(DrcError, match="does not exist"):
        expand_parts([str(tmp_path / "nope.001"), str(parts[0])])
