import pytest

from jobs.dataset.labels import check_labels_match, list_images, parse_image_name, read_labels
from jobs.errors import DrcError


def test_parse_kaggle_names():
    name = parse_image_name("16_left")
    assert (name.subject, name.eye) == (16, "left")
    with pytest.raises(ValueError):
        parse_image_name("left_16")


def test_sample_labels_match_sample_images(sample_dir):
    labels = read_labels(sample_dir / "trainLabels.csv")
    assert labels == {"10_left": 0, "13_left": 0, "15_right": 2, "16_left": 4}
    check_labels_match(labels, list_images(sample_dir), sample_dir / "trainLabels.csv")


def test_missing_directory(tmp_path):
    with pytest.raises(DrcError, match="does not exist"):
        list_images(tmp_path / "nope")


def test_empty_directory(tmp_path):
    with pytest.raises(DrcError, match="no images"):
        list_images(tmp_path)


def test_labels_naming_absent_images(tmp_path):
    (tmp_path / "1_left.jpeg").write_bytes(b"x")
    with pytest.raises(DrcError, match="1 labelled image.*2_right"):
        check_labels_match({"1_left": 0, "2_right": 1}, list_images(tmp_path), tmp_path / "l.csv")


@pytest.mark.parametrize(
    "text, message",
    [("image,level\n1_left,7\n", "not a grade"), ("a,b\n", "header"), ("image,level\n", "no rows")],
)
def test_bad_label_files(tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DrcError, match=message):
        read_labels(path)
