"""Property tests of the image geometry (hypothesis) and the augmentation helpers."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from jobs.preprocess.images import (
    Disc,
    crop_square,
    decode_reduced,
    dihedral,
    find_disc,
    graham,
    preprocess_bytes,
    standardize,
)


def disc_image(w, h, cx, cy, r, level=160, bg=0):
    yy, xx = np.mgrid[:h, :w]
    rgb = np.full((h, w, 3), bg, dtype=np.uint8)
    rgb[(xx - cx) ** 2 + (yy - cy) ** 2 <= r**2] = (level, level // 2, level // 3)
    return rgb


@settings(max_examples=60, deadline=None)
@given(
    w=st.integers(300, 700),
    aspect=st.floats(0.6, 0.9),
    r_share=st.floats(0.35, 0.62),
    dx=st.floats(-0.05, 0.05),
    level=st.integers(40, 250),
    bg=st.integers(0, 20),
)
def test_disc_found_on_any_brightness_and_clipping(w, aspect, r_share, dx, level, bg):
    h = int(w * aspect)
    r = r_share * h * 1.6 if r_share > 0.5 else r_share * h * 1.2
    r = min(r, w * 0.48)  # left and right edges stay inside, as in Kaggle photographs
    cx = w / 2 + dx * w
    cx = min(max(cx, r + 2), w - r - 2)
    if level - bg < 30:
        level = bg + 30
    rgb = disc_image(w, h, cx, h / 2, r, level, bg)
    disc = find_disc(rgb)
    assert disc.radius == pytest.approx(r, rel=0.03, abs=3)
    assert disc.cx == pytest.approx(cx, abs=4)
    assert disc.cy == pytest.approx(h / 2, abs=max(4, 0.03 * r))


@settings(max_examples=60, deadline=None)
@given(
    w=st.integers(20, 200),
    h=st.integers(20, 200),
    cx=st.floats(-50, 250),
    cy=st.floats(-50, 250),
    r=st.floats(1, 150),
)
def test_crop_is_square_with_the_disc_centre_in_the_middle(w, h, cx, cy, r):
    rgb = np.random.default_rng(0).integers(1, 255, (h, w, 3), dtype=np.uint8)
    out = crop_square(rgb, Disc(cx, cy, r))
    side = max(1, int(round(2 * r)))
    assert out.shape == (side, side, 3)
    # every pixel is either copied from the source at the matching place, or black padding
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    ys, xs = np.nonzero(out.any(axis=2))
    if ys.size:
        assert np.array_equal(out[ys, xs], rgb[ys + top, xs + left])


@given(st.integers(0, 7))
def test_dihedral_is_a_group_of_eight(k):
    a = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    images = {dihedral(a, j).tobytes() for j in range(8)}
    assert len(images) == 8
    assert dihedral(a, k).shape == a.shape
    # four quarter turns come back to the start
    b = a
    for _ in range(4):
        b = dihedral(b, 1)
    assert np.array_equal(a, b)


def test_dihedral_refuses_other_indices():
    with pytest.raises(ValueError):
        dihedral(np.zeros((2, 2, 3), np.uint8), 8)


def test_standardize_gives_zero_mean_unit_variance(sample_images):
    out, _ = preprocess_bytes(next(iter(sample_images.values())), (64,))
    z = standardize(out[64])
    assert np.allclose(z.reshape(-1, 3).mean(0), 0, atol=1e-4)
    assert np.allclose(z.reshape(-1, 3).std(0), 1, atol=1e-3)


def test_graham_flattens_illumination(sample_images):
    out, _ = preprocess_bytes(sample_images["16_left"], (128,))
    g = graham(out[128])
    assert g.dtype == np.uint8 and g.shape == (128, 128, 3)
    assert g[0, 0].tolist() == [128, 128, 128]  # outside the disc
    assert abs(float(g[32:96, 32:96].mean()) - 128) < 20  # local averages removed


def test_progressive_jpeg_decodes_like_baseline():
    rgb = disc_image(640, 480, 320, 240, 250)
    img = Image.fromarray(rgb)
    baseline, progressive = io.BytesIO(), io.BytesIO()
    img.save(baseline, "JPEG", quality=95)
    img.save(progressive, "JPEG", quality=95, progressive=True)
    a, _ = decode_reduced(baseline.getvalue(), 128)
    b, _ = decode_reduced(progressive.getvalue(), 128)
    assert a.shape == b.shape
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2
