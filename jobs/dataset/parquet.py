"""The Parquet format of the preprocess output (schema, column encodings, Arrow columns from
buffers), shared by the Spark job, synth-features and the readers; needs no Spark. Where the
files go is `jobs.dataset.layout`'s."""

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

PIXELS_SCHEMA = pa.schema(
    [
        pa.field("image", pa.string(), nullable=False),
        pa.field("subject", pa.int32()),
        pa.field("eye", pa.string()),
        pa.field("level", pa.int32()),
        pa.field("format", pa.string()),
        pa.field("pixels", pa.binary()),  # HxWx3 uint8, row-major
    ]
)

# Pixels are stored plain: real photographs' pixels compress only ~1.25x with snappy (the
# 4 Kaggle samples at 256 px), which cost ~0.45 ms an image, a third of all the work after
# decoding; nor are they worth a dictionary or min/max statistics. The small columns keep both.
_PIXELS = PIXELS_SCHEMA.field("pixels")
_LABEL_COLUMNS = [name for name in PIXELS_SCHEMA.names if name != "pixels"]
PARQUET_OPTIONS = {
    "compression": {name: "snappy" for name in _LABEL_COLUMNS} | {"pixels": "none"},
    "use_dictionary": _LABEL_COLUMNS,
    "write_statistics": _LABEL_COLUMNS,
}

_INT32_MAX = 2**31 - 1


def _validity(values: Sequence) -> pa.Buffer | None:
    present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    return None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))


def _column(field: pa.Field, values: Sequence) -> pa.Array:
    """One column from its buffers. pa.array() on Python objects would import pandas first
    (0.24 s in every fresh Spark worker) and the pixels would be copied twice."""
    validity = _validity(values)
    if pa.types.is_integer(field.type):
        ints = np.fromiter((0 if v is None else v for v in values), np.int32, len(values))
        return pa.Array.from_buffers(field.type, len(values), [validity, pa.py_buffer(ints)])
    items = [v.encode() if isinstance(v, str) else v for v in values]  # str, bytes or arrays
    sizes = [0 if v is None else memoryview(v).nbytes for v in items]
    if sum(sizes) > _INT32_MAX:
        raise ValueError(f"column {field.name}: {sum(sizes)} bytes is too many for one batch")
    offsets = np.zeros(len(items) + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    data = b"".join(v for v in items if v is not None)
    return pa.Array.from_buffers(
        field.type, len(items), [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def label_columns(rows: Sequence[dict]) -> list[pa.Array]:
    """Every column but the pixels, from `rows` by name (a missing name is null): built
    once per row group and shared by the tables of every size."""
    return [_column(PIXELS_SCHEMA.field(n), [r.get(n) for r in rows]) for n in _LABEL_COLUMNS]


def pixels_table(labels: list[pa.Array], pixels: Sequence) -> pa.Table:
    """A PIXELS_SCHEMA table: `label_columns` of the rows, and each row's uint8 pixels
    (bytes or a C-contiguous array)."""
    columns = dict(zip(_LABEL_COLUMNS, labels, strict=True)) | {"pixels": _column(_PIXELS, pixels)}
    return pa.Table.from_arrays([columns[n] for n in PIXELS_SCHEMA.names], schema=PIXELS_SCHEMA)
