"""CNN pieces that train nothing: the shared split, models, tasks, thresholds, blending,
and the clear errors for bad input."""

import numpy as np
import pytest
import torch

from jobs.cnn.data import dihedral_batch, to_input
from jobs.cnn.models import build
from jobs.cnn.predict import blend_eyes, predict
from jobs.cnn.tasks import make_task
from jobs.cnn.train import TrainConfig, class_weights, train
from jobs.dataset.split import spark_hash
from jobs.errors import DrcError
from jobs.metrics import fit_thresholds, quadratic_weighted_kappa
from jobs.preprocess.images import dihedral


def test_split_hash_is_sparks():
    # Values of Spark SQL `hash(cast(s as int), 42)` from pyspark 4.3.0.
    assert [spark_hash(s, 42) for s in (-5, 0, 1, 2)] == [1666486249, 2132083686, -1308836552,
                                                           -306580089]  # fmt: skip


def test_batch_augmentation_is_the_per_image_dihedral():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 5, 5, 3), dtype=np.uint8)
    turns = torch.tensor([k % 8 for k in range(16)])
    moved = dihedral_batch(torch.from_numpy(images), turns).numpy()
    for image, k, got in zip(images, turns.tolist(), moved, strict=True):
        np.testing.assert_array_equal(got, dihedral(image, k))
    x = to_input(torch.from_numpy(images), torch.device("cpu"), turns)
    assert x.shape == (16, 3, 5, 5)
    np.testing.assert_allclose(x[5].permute(1, 2, 0).numpy(),
                               dihedral(images[5], 5) / 127.5 - 1, atol=1e-6)  # fmt: skip


@pytest.mark.parametrize(("name", "size"), [("seed2015", 64), ("seed2015", 128), ("drnet", 96)])
@pytest.mark.parametrize("task", ["binary04", "grade", "ordinal"])
def test_models_give_one_output_row_per_image(name, size, task):
    outputs = make_task(task).outputs
    model = build(name, size, outputs).eval()
    with torch.no_grad():
        out = model(torch.zeros(3, 3, size, size).contiguous(memory_format=torch.channels_last))
    assert out.shape == (3, outputs)


def test_seed2015_follows_the_2015_table():
    convs = [m for m in build("seed2015", 128, 1).features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 32, 64, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    dense = [m for m in build("seed2015", 128, 1).head if isinstance(m, torch.nn.Linear)]
    assert [d.out_features for d in dense] == [600, 600, 1]


def test_too_small_input_and_unknown_model_are_clear():
    with pytest.raises(DrcError, match="too small for seed2015"):
        build("seed2015", 16, 1)
    with pytest.raises(DrcError, match="not one of"):
        build("vgg", 128, 1)


def test_thresholds_fitted_for_kappa_beat_the_defaults():
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 5, 500)
    scores = levels * 0.6 + rng.normal(0, 0.3, 500)  # squeezed: default cuts misplace it
    task = make_task("ordinal")
    default = quadratic_weighted_kappa(levels, task.grades(scores, [0.5, 1.5, 2.5, 3.5]))
    fitted = fit_thresholds(scores, levels)
    assert fitted == sorted(fitted)
    assert quadratic_weighted_kappa(levels, task.grades(scores, fitted)) > default + 0.05


def test_class_weights_favour_the_rare_grades():
    weights = class_weights({0: 730, 4: 20})
    assert weights[4] > weights[0] and np.isclose(np.mean(list(weights.values())), 1.0)


def test_blend_eyes_mixes_in_the_fellow_eye_only():
    names = ["10_left", "10_right", "11_left"]
    out = blend_eyes(names, np.array([0.0, 4.0, 2.0]), 0.25)
    assert out.tolist() == [1.0, 3.0, 2.0]


def test_bad_inputs_give_one_clear_error_each(tmp_path):
    empty = tmp_path / "empty"
    (empty / "size=64").mkdir(parents=True)
    with pytest.raises(DrcError, match="no labelled images"):
        train(TrainConfig(data=str(empty), out=str(tmp_path / "o"), size=64, workers=0))
    with pytest.raises(DrcError, match=r"no size=128 here \(present: size=64\)"):
        train(TrainConfig(data=str(empty), out=str(tmp_path / "o"), size=128, workers=0))
    with pytest.raises(DrcError, match="no checkpoint to resume"):
        cfg = TrainConfig(data=str(empty), out=str(tmp_path / "o"), size=64, workers=0)
        cfg.resume = True
        from jobs.cnn.train import load_checkpoint

        load_checkpoint(cfg, tmp_path / "o" / "checkpoint.pt", torch.device("cpu"))
    with pytest.raises(DrcError, match="checkpoint not found"):
        predict(tmp_path / "nope.pt", empty, tmp_path / "s.csv")


def test_resampling_evens_out_the_grades_and_keeps_the_epoch_size():
    from jobs.cnn.data import resample_copies

    counts = {0: 4908, 1: 474, 2: 1038, 3: 168, 4: 132}  # eyepacs-256
    for balance, ratio in ((1.0, 4908 / 132), (0.5, (4908 / 132) ** 0.5), (0.0, 1.0)):
        copies = resample_copies(counts, balance)
        shown = {g: n * copies[g] for g, n in counts.items()}
        assert sum(shown.values()) == pytest.approx(sum(counts.values()))
        assert shown[0] / shown[4] == pytest.approx(ratio)


def test_the_stream_repeats_each_grade_as_many_times_as_asked(tmp_path):
    from jobs.cnn.data import ParquetImages
    from tests.support.cnn_data import synthetic_parquet

    data = synthetic_parquet(tmp_path / "data", 40, sizes=(64,), parts=2)
    plain = [int(level) for _, level, _ in ParquetImages(str(data), 64, split="all")]
    copies = {0: 2.5, 1: 0.5, 2: 1.0, 3: 0.0, 4: 4.0}
    totals = dict.fromkeys(copies, 0)
    epochs = 40
    for epoch in range(epochs):
        stream = ParquetImages(str(data), 64, split="all", shuffle=True, copies=copies)
        stream.set_epoch(epoch)
        for _, level, _ in stream:
            totals[int(level)] += 1
    for grade, expected in copies.items():  # on average over the epochs
        assert totals[grade] / epochs == pytest.approx(plain.count(grade) * expected, abs=0.6)
    assert totals[3] == 0 and totals[2] == plain.count(2) * epochs
