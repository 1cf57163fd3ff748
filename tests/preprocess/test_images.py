import io

import numpy as np
import pytest
from PIL import Image

from jobs.preprocess.images import (
    ImageRejected,
    crop_square,
    decode_reduced,
    find_disc,
    preprocess_bytes,
    resize_all,
)


def jpeg_bytes(img: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kwargs.pop("format", "JPEG"), **kwargs)
    return buf.getvalue()


def synthetic_fundus(width=600, height=400, radius=None, level=150, mode="RGB") -> Image.Image:
    """A bright disc on black, clipped top and bottom like many Kaggle photographs."""
    radius = radius or int(height * 0.6)
    yy, xx = np.mgrid[:height, :width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 <= radius**2
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[disc] = (level, level // 2, level // 4)
    return Image.fromarray(rgb).convert(mode)


@pytest.mark.parametrize("size", [256])
def test_real_images_crop_keeps_the_whole_disc_centred(sample_images, size):
    for name, data in sample_images.items():
        out, fmt = preprocess_bytes(data, (size,))
        square = out[size]
        assert fmt == "JPEG"
        assert square.shape == (size, size, 3) and square.dtype == np.uint8
        disc = find_disc(square)
        # the disc fills the square: its radius is about half the side, and it is centred
        assert disc.radius == pytest.approx(size / 2, rel=0.06), name
        assert disc.cx == pytest.approx(size / 2, abs=size * 0.04), name
        # corners are background
        for corner in (square[:8, :8], square[:8, -8:], square[-8:, :8], square[-8:, -8:]):
            assert corner.max() < 40, name


def test_decode_is_reduced_for_small_outputs(sample_images):
    data = next(iter(sample_images.values()))
    full = Image.open(io.BytesIO(data)).size
    rgb, _ = decode_reduced(data, 128)
    assert min(rgb.shape[:2]) >= 128
    assert rgb.shape[1] <= full[0] / 4  # DCT scaling did the heavy lifting


def test_clipped_disc_is_padded_black():
    img = synthetic_fundus(600, 400, radius=260)
    rgb = np.asarray(img)
    disc = find_disc(rgb)
    assert disc.radius == pytest.approx(260, rel=0.03)
    assert disc.cy == pytest.approx(200, abs=3)
    square = crop_square(rgb, disc)
    assert square.shape[0] == square.shape[1]
    assert square[0].max() == 0 and square[-1].max() == 0  # padding above and below


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"this is a text file, not a photograph\n", "not_an_image"),
        (jpeg_bytes(Image.new("RGB", (8, 6), "white")), "too_small"),
        (jpeg_bytes(Image.new("RGB", (300, 200), "black")), "no_disc"),
        (jpeg_bytes(Image.new("RGB", (300, 200), "white")), "no_disc"),
    ],
)
def test_bad_inputs_are_rejected_with_a_reason(data, reason):
    with pytest.raises(ImageRejected) as caught:
        preprocess_bytes(data, (32,))
    assert caught.value.reason == reason


def test_truncated_jpeg_is_rejected_not_grey_filled(sample_images):
    data = next(iter(sample_images.values()))
    with pytest.raises(ImageRejected) as caught:
        preprocess_bytes(data[: len(data) // 2], (32,))
    assert caught.value.reason == "corrupt"


@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA"])
def test_other_colour_modes_become_rgb(mode):
    img = synthetic_fundus(mode=mode)
    fmt = "PNG" if mode in ("P", "RGBA") else "JPEG"
    out, _ = preprocess_bytes(jpeg_bytes(img, format=fmt), (32,))
    assert out[32].shape == (32, 32, 3)


def test_png_named_jpeg_is_accepted_and_recorded():
    out, fmt = preprocess_bytes(jpeg_bytes(synthetic_fundus(), format="PNG"), (16,))
    assert fmt == "PNG" and out[16].shape == (16, 16, 3)


def test_exif_orientation_is_applied():
    img = synthetic_fundus(600, 400)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    rgb, _ = decode_reduced(jpeg_bytes(img, exif=exif), 64)
    assert rgb.shape[0] > rgb.shape[1]  # portrait after transposition


def test_resize_all_gives_every_size_as_uint8():
    square = np.full((300, 300, 3), 90, dtype=np.uint8)
    out = resize_all(square, (16, 32, 64))
    assert sorted(out) == [16, 32, 64]
    assert all(a.dtype == np.uint8 and a.shape == (s, s, 3) for s, a in out.items())
    assert int(out[16].mean()) == 90


def test_resize_is_antialiased_when_shrinking_and_smooth_when_enlarging():
    # a one-pixel checkerboard shrunk 3:2 must come out flat grey, not aliased stripes
    # (Pillow's BOX filter fails this: it weighs whole source pixels, 0 or 255 here); a
    # 64-step ramp enlarged to 256 must be smooth, not 4-pixel blocks
    checker = (np.indices((384, 384)).sum(axis=0) % 2 * 255).astype(np.uint8)
    shrunk = resize_all(np.repeat(checker[..., None], 3, axis=2), (256,))[256]
    assert shrunk.min() >= 100 and shrunk.max() <= 155
    ramp = np.repeat(np.repeat(np.arange(0, 256, 4, dtype=np.uint8)[None, :, None], 64, 0), 3, 2)
    enlarged = resize_all(ramp, (256,))[256]
    assert len(np.unique(enlarged[128, :, 0])) > 128
