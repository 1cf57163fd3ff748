"""make demo's photographs: the raw samples, and real eyes of held-out subjects only."""

import csv

import pytest

from jobs.dataset.demo_set import SYNTH_COUNT, UNSEEN, build, choose, held_out_eyes
from jobs.dataset.labels import parse_image_name
from jobs.dataset.split import DEFAULT_FRACTION, DEFAULT_SEED, is_validation
from jobs.errors import DrcError


def _levels(path):
    with path.open() as handle:
        return {row["image"]: int(row["level"]) for row in csv.DictReader(handle)}


def test_held_out_eyes_are_whole_subjects_of_the_held_out_fifth():
    labels = {f"{s}_{eye}": 0 for s in range(1, 400) for eye in ("left", "right")}
    eyes = held_out_eyes(labels, 51)
    subjects = {parse_image_name(e).subject for e in eyes}
    assert len(eyes) == 50 and len(subjects) == 25  # never half a subject
    assert all(is_validation(s, DEFAULT_FRACTION, DEFAULT_SEED) for s in subjects)


def test_the_set_holds_the_raw_samples_and_unseen_real_eyes(tmp_path, sample_dir, real_dir):
    real = real_dir
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


def test_the_split_keeps_both_eyes_of_every_real_subject_together(real_dir):
    """On the real set's own names: 6,724 eyes, the 1,308 held out that the README's tables
    score, never one eye of a subject on each side."""
    labels = _levels(real_dir / "trainLabels.csv")
    side: dict[int, set[bool]] = {}
    for image in labels:
        subject = parse_image_name(image).subject
        side.setdefault(subject, set()).add(is_validation(subject, DEFAULT_FRACTION, DEFAULT_SEED))
    assert all(len(sides) == 1 for sides in side.values())
    held = [i for i in labels if is_validation(parse_image_name(i).subject, DEFAULT_FRACTION,
                                               DEFAULT_SEED)]  # fmt: skip
    assert len(labels) == 6724 and len(held) == 1308
    assert sum(len(i.split("_")) == 2 for i in labels) == len(labels)


def _kaggle_like(folder, count=8):
    """COUNT small synthetic photographs with Kaggle's names and a labels file."""
    from jobs.dataset.synth_images import generate

    generate(folder, count, 96, 64, 1, 1)
    return _levels(folder / "trainLabels.csv")


def test_without_shared_data_the_demo_draws_its_own_photographs(tmp_path):
    chosen = choose(tmp_path / "demo", None, tmp_path / "absent", 40)
    assert chosen.kind == "synthetic" and chosen.photos == tmp_path / "demo" / "synthetic"
    assert "synthetic" in chosen.source
    assert str(tmp_path / "absent" / "kaggle-sample" / "trainLabels.csv") in chosen.source
    everything = _levels(chosen.photos / "trainLabels.csv")
    assert len(everything) == SYNTH_COUNT == len(list(chosen.photos.glob("*.jpeg")))
    assert _levels(chosen.photos / UNSEEN) == everything  # the CNN never saw any of them
    settings = chosen.playbook_vars()  # staged and put into HDFS apart from the shared set
    assert settings["data_url"] == f"file://{chosen.photos}"
    assert settings["run_jobs_data_dir"].endswith("/raw-synthetic")
    assert settings["run_jobs_data_source"] == chosen.source
    assert "0 drawn now" in choose(tmp_path / "demo", None, tmp_path / "absent", 40).done


def test_a_kaggle_train_folder_is_linked_with_its_labels(tmp_path):
    train = tmp_path / "kaggle" / "train"
    labels = _kaggle_like(train)
    (train / "trainLabels.csv").rename(tmp_path / "kaggle" / "trainLabels.csv")  # beside it
    (train / "999_left.jpeg").write_bytes(b"unlabelled")
    chosen = choose(tmp_path / "demo", train, tmp_path / "absent", 600)
    assert chosen.kind == "kaggle" and "1 unlabelled left out" in chosen.done
    assert _levels(chosen.photos / "trainLabels.csv") == labels
    assert {p.stem for p in chosen.photos.glob("*.jpeg")} == set(labels)
    assert all(p.is_symlink() for p in chosen.photos.glob("*.jpeg"))  # never copied
    unseen = _levels(chosen.photos / UNSEEN)
    assert set(unseen) == set(held_out_eyes(labels, 600))


def test_kaggle_split_zip_parts_are_unpacked_once(tmp_path):
    import zipfile

    photos = tmp_path / "photos"
    labels = _kaggle_like(photos)
    archive = tmp_path / "train.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for image in sorted(photos.glob("*.jpeg")):
            out.write(image, f"train/{image.name}")
    data = archive.read_bytes()
    download = tmp_path / "download"
    download.mkdir()
    for index, start in enumerate(range(0, len(data), len(data) // 3 + 1), start=1):
        (download / f"train.zip.{index:03d}").write_bytes(data[start : start + len(data) // 3 + 1])
    with zipfile.ZipFile(download / "trainLabels.csv.zip", "w") as out:
        out.write(photos / "trainLabels.csv", "trainLabels.csv")
    chosen = choose(tmp_path / "demo", download, tmp_path / "absent", 600)
    assert _levels(chosen.photos / "trainLabels.csv") == labels
    assert len(list((tmp_path / "demo" / "kaggle-unpacked" / "train").glob("*.jpeg"))) == 8
    again = choose(tmp_path / "demo", download / "train.zip.002", tmp_path / "absent", 600)
    assert _levels(again.photos / "trainLabels.csv") == labels


def test_data_that_is_no_kaggle_set_is_one_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DrcError, match="neither a folder of photographs nor a split zip"):
        choose(tmp_path / "demo", tmp_path / "notes.txt", tmp_path / "absent", 600)
    _kaggle_like(tmp_path / "a" / "train", 2)
    (tmp_path / "a" / "train" / "trainLabels.csv").unlink()
    with pytest.raises(DrcError, match="no trainLabels.csv in it or beside it"):
        choose(tmp_path / "demo", tmp_path / "a" / "train", tmp_path / "absent", 600)
