"""The demo's photographs: the 4 raw Kaggle samples (so the camera-photo path, disc crop and
normalisation, always runs) and real graded eyes the shipped grader never saw (subjects of
the held-out fifth of eyepacs-256, both eyes together), with two label files:
trainLabels.csv (all, for the pipeline's LR) and unseen-labels.csv (only the held-out eyes:
the CNN's kappa is scored on those; the raw samples' processed versions were trained on)."""

import csv
import shutil
from pathlib import Path

from jobs.dataset.labels import parse_image_name, read_labels
from jobs.dataset.split import held_out
from jobs.errors import DrcError

UNSEEN = "unseen-labels.csv"


def held_out_eyes(labels: dict[str, int], eyes: int) -> list[str]:
    """Up to EYES held-out images, whole subjects in subject order."""
    by_subject: dict[int, list[str]] = {}
    for image in labels:
        subject = parse_image_name(image).subject
        if held_out(subject):
            by_subject.setdefault(subject, []).append(image)
    chosen: list[str] = []
    for subject in sorted(by_subject):
        if len(chosen) + len(by_subject[subject]) > eyes:
            break
        chosen += sorted(by_subject[subject])
    return chosen


def _write_labels(path: Path, labels: dict[str, int]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "level"])
        writer.writerows(sorted(labels.items()))
    partial.replace(path)


def build(out: Path, raw: Path, real: Path, eyes: int) -> dict:
    """Copy what is missing into OUT (a re-run copies nothing) and write both label files."""
    for folder in (raw, real):
        if not (folder / "trainLabels.csv").is_file():
            raise DrcError(
                folder, "no trainLabels.csv: the shared data must sit beside the project"
            )
    raw_labels = read_labels(raw / "trainLabels.csv")
    real_labels = read_labels(real / "trainLabels.csv")
    unseen = {i: real_labels[i] for i in held_out_eyes(real_labels, eyes) if i not in raw_labels}
    out.mkdir(parents=True, exist_ok=True)
    copied = 0
    sources = [raw / f"{i}.jpeg" for i in raw_labels] + [real / "images" / f"{i}.jpeg"
                                                         for i in unseen]  # fmt: skip
    for source in sources:
        target = out / source.name
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target.with_name(f".{target.name}.partial"))
            target.with_name(f".{target.name}.partial").replace(target)
            copied += 1
    _write_labels(out / "trainLabels.csv", raw_labels | unseen)
    _write_labels(out / UNSEEN, unseen)
    return {"raw": len(raw_labels), "unseen": len(unseen), "copied": copied}
