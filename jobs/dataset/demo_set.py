"""The demo's photographs, from the first of these that is there:

- a user's Kaggle data (`make demo DATA=...`): an unpacked train/ folder with
  trainLabels.csv, or the competition's split zip (train.zip.001 ...), unpacked once;
- the shared data beside the checkout: the 4 raw Kaggle samples (so the camera-photo path,
  disc crop and normalisation, always runs) and real graded eyes the shipped grader never
  saw (subjects of the held-out fifth of eyepacs-256, both eyes together);
- synthetic fundus photographs (`drc synth`'s), so a clone with nothing beside it runs the
  same pipeline.

Each kind goes to its own folder OUT/KIND with two label files: trainLabels.csv (all, for
the pipeline's LR) and unseen-labels.csv (the eyes the CNN's kappa is scored on: subjects
the shipped grader never saw)."""

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

from jobs.dataset import SYNTH_SEED
from jobs.dataset.labels import list_images, parse_image_name, read_labels
from jobs.dataset.split import held_out
from jobs.errors import DrcError

UNSEEN = "unseen-labels.csv"
# Small enough to draw and process in seconds, enough subjects (~100) for a held-out fifth.
SYNTH_COUNT = 200
SYNTH_WIDTH, SYNTH_HEIGHT = 1024, 680


@dataclass(frozen=True)
class DemoSet:
    kind: str  # kaggle | shared | synthetic: also the set's folder, and its place on the nodes
    photos: Path
    source: str  # one line: what the photographs are (the report shows it)
    done: str  # what this run did

    def playbook_vars(self) -> dict:
        """What site.yml needs to run on this set; each kind is staged and put into HDFS in
        its own place, so the photographs of two kinds never mix."""
        data = {"data_url": f"file://{self.photos.resolve()}", "run_jobs_grade_labels": UNSEEN,
                "run_jobs_data_source": self.source}  # fmt: skip
        if self.kind != "shared":  # the shared set keeps the places it always had
            data |= {"data_dir": f"{{{{ cluster_root }}}}/data/raw-{self.kind}",
                     "hadoop_put_path": f"/user/{{{{ hadoop_user }}}}/raw-{self.kind}",
                     "run_jobs_data_dir": f"{{{{ hdfs_home }}}}/raw-{self.kind}"}  # fmt: skip
        return data


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


def write_labels(path: Path, labels: dict[str, int]) -> None:
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
    write_labels(out / "trainLabels.csv", raw_labels | unseen)
    write_labels(out / UNSEEN, unseen)
    return {"raw": len(raw_labels), "unseen": len(unseen), "copied": copied}


def shared(out: Path, data: Path, eyes: int) -> DemoSet:
    """The shared set: DATA/kaggle-sample and DATA/eyepacs-256 (../shared/data)."""
    done = build(out / "shared", data / "kaggle-sample", data / "eyepacs-256", eyes)
    source = (f"{done['raw']} raw Kaggle samples + {done['unseen']} real graded eyes the "
              f"shipped grader never saw ({data})")  # fmt: skip
    return DemoSet("shared", out / "shared", source, f"{done['copied']} copied now")


def synthetic(out: Path, why: str, count: int = SYNTH_COUNT, workers: int = 2) -> DemoSet:
    """COUNT synthetic photographs (drawn once; a re-run keeps them), every one scored;
    WHY: what was missing."""
    from jobs.dataset.synth_images import generate

    photos = out / "synthetic"
    before = len(list(photos.glob("*.jpeg")))
    generate(photos, count, SYNTH_WIDTH, SYNTH_HEIGHT, SYNTH_SEED, workers)
    write_labels(photos / UNSEEN, read_labels(photos / "trainLabels.csv"))
    source = (f"{count} synthetic fundus photographs (drc synth, {SYNTH_WIDTH}x{SYNTH_HEIGHT}, "
              f"seed {SYNTH_SEED}), as {why}")  # fmt: skip
    return DemoSet("synthetic", photos, source, f"{count - before} drawn now")


def _split_zip_parts(data: Path) -> list[Path]:
    """The parts of a split zip that DATA names: a folder holding train.zip.001 ..., one
    part, or the whole archive; [] when DATA is none of these."""
    if data.is_dir():
        return sorted(p for p in data.glob("train.zip.*") if p.suffix[1:].isdigit())
    if data.is_file() and data.suffix[1:].isdigit():  # train.zip.001: all its siblings
        stem = data.name.rsplit(".", 1)[0]
        return sorted(p for p in data.parent.glob(f"{stem}.*") if p.suffix[1:].isdigit())
    return [data] if data.is_file() and data.suffix == ".zip" else []


def _labels_for(folder: Path, near: list[Path], unpacked: Path) -> Path:
    """trainLabels.csv in FOLDER, beside it or beside the archive (Kaggle ships it as its
    own trainLabels.csv.zip, unpacked here if need be)."""
    from jobs.storage.unpack import unpack

    places = [folder, folder.parent, *near]
    for place in places:
        if (place / "trainLabels.csv").is_file():
            return place / "trainLabels.csv"
    for place in places:
        if (place / "trainLabels.csv.zip").is_file():
            unpack([place / "trainLabels.csv.zip"], unpacked)
            found = sorted(unpacked.rglob("trainLabels.csv"))
            if found:
                return found[0]
    raise DrcError(folder, "no trainLabels.csv in it or beside it (nor trainLabels.csv.zip)")


def kaggle(out: Path, data: Path, eyes: int) -> DemoSet:
    """A user's Kaggle photographs: linked (never copied) into OUT/kaggle with the labels of
    those present; the CNN is scored on up to EYES eyes of subjects it never saw."""
    from jobs.storage.unpack import unpack

    data = data.expanduser()
    parts = _split_zip_parts(data)
    if parts:
        unpacked = out / "kaggle-unpacked"
        result = unpack(parts, unpacked)
        print(f"{parts[0]} (+{len(parts) - 1} parts): {result.summary()}", flush=True)
        folder = unpacked / "train" if (unpacked / "train").is_dir() else unpacked
        labels_path = _labels_for(folder, [parts[0].parent], unpacked)
    elif data.is_dir():
        folder = data
        labels_path = _labels_for(folder, [], out / "kaggle-unpacked")
    else:
        raise DrcError(data, "neither a folder of photographs nor a split zip's parts "
                             "(train.zip.001 ...)")  # fmt: skip
    images = list_images(str(folder))
    labels = {i: g for i, g in read_labels(labels_path).items() if i in images}
    if not labels:
        raise DrcError(labels_path, f"labels none of the photographs in {folder}")
    photos = out / "kaggle"
    photos.mkdir(parents=True, exist_ok=True)
    for old in photos.iterdir():  # another DATA's links, or the labels: made again below
        if old.stem not in labels:
            old.unlink()
    for image in labels:
        link = photos / Path(images[image]).name
        if not link.is_symlink() or link.resolve() != Path(images[image]).resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(Path(images[image]).resolve())
    unseen = {i: labels[i] for i in held_out_eyes(labels, eyes)}
    write_labels(photos / "trainLabels.csv", labels)
    write_labels(photos / UNSEEN, unseen)
    source = (f"{len(labels)} Kaggle photographs from {data}; the CNN scored on "
              f"{len(unseen)} eyes of subjects it never saw")  # fmt: skip
    return DemoSet("kaggle", photos, source, f"{len(images) - len(labels)} unlabelled left out")


def choose(out: Path, data: Path | None, shared_data: Path, eyes: int) -> DemoSet:
    """DATA if given, else the shared set if both its folders are there, else synthetic."""
    if data is not None:
        return kaggle(out, data, eyes)
    for folder in ("kaggle-sample", "eyepacs-256"):
        if not (shared_data / folder / "trainLabels.csv").is_file():
            return synthetic(out, f"{shared_data / folder / 'trainLabels.csv'} is absent")
    return shared(out, shared_data, eyes)
