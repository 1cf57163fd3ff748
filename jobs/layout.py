"""The preprocess output's on-disk layout, shared by the Spark job, synth-features and the
readers (kept apart from the Spark job so readers need no Spark)."""

import pyarrow as pa

COMPLETE = "_SUCCESS"  # present only in a size directory that is whole

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
