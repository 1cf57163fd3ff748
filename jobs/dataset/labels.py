"""Kaggle label files (`image,level`) and the names of the images they describe."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jobs.dataset import fs
from jobs.errors import DrcError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


@dataclass(frozen=True)
class ImageName:
    image: str  # e.g. "16_left"
    subject: int  # 16
    eye: str  # "left" | "right"


def parse_image_name(stem: str) -> ImageName:
    """`16_left` -> subject 16, eye left. Kaggle names every file this way."""
    subject, sep, eye = stem.rpartition("_")
    if not sep or eye not in ("left", "right") or not subject.isdigit():
        raise ValueError(f"not a Kaggle image name (SUBJECT_left|right): {stem!r}")
    return ImageName(stem, int(subject), eye)


def read_labels(path: fs.PathLike) -> dict[str, int]:
    """Read `image,level` rows (a local path or an hdfs:// URL); every level must be a
    grade 0-4."""
    if not fs.exists(path):
        raise DrcError(path, "labels file does not exist")
    return parse_labels(fs.read_text(path), path)


def parse_labels(text: str, path: object) -> dict[str, int]:
    """`image,level` rows of a labels file's text (read from wherever `path` is)."""
    labels: dict[str, int] = {}
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"image", "level"} <= set(reader.fieldnames):
            raise DrcError(path, "labels file needs a header with columns image,level")
        for line_no, row in enumerate(reader, start=2):
            image, level = (row["image"] or "").strip(), (row["level"] or "").strip()
            if not level.isdigit() or int(level) > 4:
                raise DrcError(f"{path}:{line_no}", f"level {level!r} is not a grade 0-4")
            labels[image] = int(level)
    if not labels:
        raise DrcError(path, "labels file has no rows")
    return labels


def list_images(directory: fs.PathLike) -> dict[str, fs.PathLike]:
    """Image files of a directory (a local path or an hdfs:// URL) by stem (the name the
    labels use)."""
    if not fs.exists(directory):
        raise DrcError(directory, "data directory does not exist")
    if not fs.is_remote(directory) and not fs.local(directory).is_dir():
        raise DrcError(directory, "data path is not a directory")
    images = {
        PurePosixPath(fs.name(path)).stem: path
        for path, _, is_dir in fs.listdir(directory)
        if not is_dir and PurePosixPath(fs.name(path)).suffix.lower() in IMAGE_SUFFIXES
    }
    if not images:
        raise DrcError(directory, f"data directory holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return images


def check_labels_match(labels: dict[str, int], images: dict[str, Path], labels_path: Path) -> None:
    """Every labelled image must exist; name the first few that do not."""
    missing = sorted(set(labels) - set(images))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DrcError(
            labels_path, f"{len(missing)} labelled image(s) not in the data directory: {shown}"
        )
