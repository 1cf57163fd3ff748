"""make demo's photographs: the raw samples, and real eyes of held-out subjects only."""

import csv

from jobs.dataset.demo_set import UNSEEN, build, held_out_eyes
from jobs.dataset.labels import parse_image_name
from jobs.dataset.split import DEFAULT_FRACTION, DEFAULT_SEED, is_validation


def _levels(path):
    with path.open() as handle:
        return {row["image"]: int(row["level"]) for row in csv.DictReader(handle)}


def test_held_out_eyes_are_whole_subjects_of_the_held_out_fifth():
    labels = {f"{s}_{eye}": 0 for s in range(1, 400) for eye in ("left", "right")}
    eyes = held_out_eyes(labels, 51)
    subjects = {parse_image_name(e).subject for e in eyes}
    assert len(eyes) == 50 and len(subjects) == 25  # never half a subject
    assert all(is_validation(s, DEFAULT_FRACTION, DEFAULT_SEED) for s in subjects)


def test_the_set_holds_the_raw_samples_and_unseen_real_eyes(tmp_path, sample_dir):
    real = sample_dir.parent / "eyepacs-256"
    out = tmp_path / "demo"
    done = build(out, sample_dir, real, 40)
    assert done["raw"] == 4 and done["unseen"] == 40 and done["copied"] == 44
    everything, unseen = _levels(out / "trainLabels.csv"), _levels(out / UNSEEN)
    assert set(_levels(sample_dir / "trainLabels.csv")) <= set(everything)
    assert set(unseen) == set(everything) - set(_levels(sample_dir / "trainLabels.csv"))
    assert all(is_validation(parse_image_name(i).subject, DEFAULT_FRACTION, DEFAULT_SEED)
               for i in unseen)  # fmt: skip
    assert {p.stem for p in out.glob("*.jpeg")} == set(everything)
    assert build(out, sample_dir, real, 40)["copied"] == 0  # a re-run copies nothing


def test_the_split_keeps_both_eyes_of_every_real_subject_together(sample_dir):
    """On the real set's own names: 6,724 eyes, the 1,308 held out that the README's tables
    score, never one eye of a subject on each side."""
    labels = _levels(sample_dir.parent / "eyepacs-256" / "trainLabels.csv")
    side: dict[int, set[bool]] = {}
    for image in labels:
        subject = parse_image_name(image).subject
        side.setdefault(subject, set()).add(is_validation(subject, DEFAULT_FRACTION, DEFAULT_SEED))
    assert all(len(sides) == 1 for sides in side.values())
    held = [i for i in labels if is_validation(parse_image_name(i).subject, DEFAULT_FRACTION,
                                               DEFAULT_SEED)]  # fmt: skip
    assert len(labels) == 6724 and len(held) == 1308
    assert sum(len(i.split("_")) == 2 for i in labels) == len(labels)
