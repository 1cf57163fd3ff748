"""Where a preprocess job's photographs come from. A directory (local, or hdfs:// where
hadoop.yml put them) is read by path. An object store (swift://, s3://: the one-hop path)
is listed once, on the driver; each task fetches its own objects into memory, verified and
retried (jobs.storage.fetch), so no copy of a photograph lands on a disk or in HDFS. The
store's credentials travel in the tasks' closure (jobs.storage.credentials)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from jobs.dataset import fs, labels
from jobs.errors import DrcError
from jobs.storage import is_object_store, open_store
from jobs.storage.base import ObjectInfo, StoreError
from jobs.storage.credentials import StoreEnv, store_env
from jobs.storage.fetch import fetch

Item = str | ObjectInfo  # one photograph as a task is given it: a path, or a listed object


def stem(item: Item) -> str:
    """The name the labels use: `16_left` of `.../16_left.jpeg` or of the object's key."""
    return PurePosixPath(item.key if isinstance(item, ObjectInfo) else item).stem


def list_photographs(url: str) -> dict[str, Item]:
    """The photographs directly in `url` (as `list_images` finds them in a directory), by
    the name the labels use."""
    if not is_object_store(url):
        return {name: str(path) for name, path in labels.list_images(url).items()}
    found = {stem(info): info for info in open_store(url).list()
             if "/" not in info.key
             and PurePosixPath(info.key).suffix.lower() in labels.IMAGE_SUFFIXES}  # fmt: skip
    if not found:
        raise DrcError(url, f"holds no images ({', '.join(labels.IMAGE_SUFFIXES)})")
    return found


def read_labels(path: str) -> dict[str, int]:
    """A labels file in a directory or in an object store."""
    if not is_object_store(path):
        return labels.read_labels(path)
    prefix, _, key = str(path).rstrip("/").rpartition("/")
    try:
        text = open_store(prefix).read(key).decode()
    except StoreError as exc:
        if exc.kind == "missing":
            raise DrcError(path, "labels file does not exist") from None
        raise
    return labels.parse_labels(text, path)


@dataclass(frozen=True)
class Source:
    """What a task needs to read its photographs; pickled into the job's closure."""

    url: str
    env: StoreEnv | None = None  # the store's credentials (its repr names, never shows them)

    @classmethod
    def of(cls, url: str) -> "Source":
        """On the driver: an object store's credentials from this process's environment."""
        return cls(str(url), store_env(str(url)) if is_object_store(url) else None)

    @property
    def one_hop(self) -> bool:
        return self.env is not None

    def reader(self) -> Callable[[Item], bytes]:
        """In a task: item -> its bytes, or an OSError (jobs.storage.fetch.Unfetchable
        carries the quarantine's reason) for one that cannot be read."""
        if not self.one_hop:
            return fs.read_bytes
        store = open_store(self.url, self.env)  # one connection per task, reused
        return lambda info: fetch(store, info)
