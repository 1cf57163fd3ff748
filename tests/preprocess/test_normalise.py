"""The `equalize` normalisation against the third party's processing of the same photographs
(../shared/data/eyepacs-256 holds the processed versions of the 4 raw Kaggle samples)."""

import numpy as np
import pytest
from PIL import Image

from jobs.errors import DrcError
from jobs.preprocess import config, images

# Mean absolute error (grey levels) of the normalised raw photograph's 256 px crop against the
# processed one, as measured when the normalisation was chosen (docs/real-photographs.md),
# with a little room for libjpeg's rounding.
MEASURED = {"10_left": 5.5, "13_left": 5.6, "15_right": 6.9, "16_left": 4.6}


@pytest.fixture(scope="module")
def processed(real_dir):
    folder = real_dir / "images"
    return {n: np.asarray(Image.open(folder / f"{n}.jpeg").convert("RGB"), dtype=np.float64)
            for n in MEASURED}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_an_equalized_raw_photograph_is_close_to_the_processed_one(name, sample_images,
                                                                   processed):  # fmt: skip
    raw = images.preprocess_bytes(sample_images[name], (256,))[0][256].astype(np.float64)
    norm = images.preprocess_bytes(sample_images[name], (256,), "equalize")[0][256]
    error = np.abs(norm.astype(np.float64) - processed[name]).mean()
    assert error <= MEASURED[name] + 0.3
    assert np.abs(raw - processed[name]).mean() > 20  # without it, the two are far apart


def test_equalizing_a_processed_image_changes_it_little(processed):
    pixels = processed["16_left"].astype(np.uint8)
    again = images.equalize(pixels).astype(np.float64)
    assert np.abs(again - pixels).mean() < 4
    assert images.equalize(pixels).dtype == np.uint8


def test_equalize_spreads_each_channel_over_the_range():
    rng = np.random.default_rng(0)
    dull = rng.integers(90, 110, (64, 64, 3), dtype=np.uint8)
    out = images.equalize(dull)
    assert out.shape == dull.shape
    assert all(out[..., c].min() < 20 and out[..., c].max() == 255 for c in range(3))


def test_the_config_names_the_same_normalisations_as_the_image_code():
    assert set(config.NORMALISATIONS) == set(images.NORMALISATIONS)
    with pytest.raises(DrcError, match="--normalise"):
        config.PreprocessConfig("in", "out", normalise="graham")


def test_the_spark_task_normalises_as_the_image_code(sample_dir, sample_images):
    """The same function serves the Spark job and `drc grade`."""
    from jobs.preprocess.task import process_paths

    ((ident, pixels),) = process_paths([str(sample_dir / "10_left.jpeg")], (64,), {}, "equalize")
    expected = images.preprocess_bytes(sample_images["10_left"], (64,), "equalize")[0][64]
    assert np.array_equal(pixels[64], expected)
    assert not np.array_equal(pixels[64], images.preprocess_bytes(sample_images["10_left"],
                                                                  (64,))[0][64])  # fmt: skip
