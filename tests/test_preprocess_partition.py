from types import SimpleNamespace

import numpy as np

from jobs.preprocess import PIXELS_SCHEMA, process_partition


def test_partition_yields_sizes_and_quarantine_rows(sample_images):
    rows = [
        SimpleNamespace(path="file:/data/16_left.jpeg", content=sample_images["16_left"]),
        SimpleNamespace(path="file:/data/99_right.jpeg", content=b""),
    ]
    out = list(process_partition(rows, (16, 32)))
    assert len(out[0]) == len(PIXELS_SCHEMA.fields)
    good = [r for r in out if r[3] > 0]
    bad = [r for r in out if r[3] == 0]
    assert [(r[0], r[1], r[2], r[3]) for r in good] == [
        ("16_left", 16, "left", 16),
        ("16_left", 16, "left", 32),
    ]
    assert np.frombuffer(good[1][5], dtype=np.uint8).size == 32 * 32 * 3
    assert [(r[0], r[6]) for r in bad] == [("99_right", "empty")]
