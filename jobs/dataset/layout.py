"""Every path of the project's outputs, in one place: the preprocess output, the LR blocks,
models and the reports. Plain paths (no Arrow, no Spark), so the controller imports it too;
the preprocess output's may be hdfs:// URLs (`jobs.dataset.fs`).

```
OUT/size=N/part-*.parquet   OUT/size=N/_SUCCESS      one size, whole
OUT/quarantine/part-*.csv                             image,reason,detail (a task's, if any)
OUT/_SUCCESS                                          the preprocess summary (JSON)
OUT/csv/size=N/                                       the 2015 text format (--csv)
$DRC_CACHE_DIR/lr-blocks/KEY/                          LR uint8 blocks, each node's own (lr.blocks)
DATA/lr-SOLVER-N/model.npz                            a trained LR model (drc predict)
OUT/APP-result.json  OUT/APP-report.json  OUT/APP-spark-submit.log  OUT/report.json
(for an hdfs:// OUT, these four live in the controller's run directory: `run_dir`)
```
"""

import os
import re
import uuid
from pathlib import Path

from jobs.dataset.fs import PathLike, is_remote, join

DEFAULT_SIZES = (16, 32, 64, 128, 256)
COMPLETE = "_SUCCESS"  # in a size directory: it is whole; at the top: the run's summary
QUARANTINE_FIELDS = ("image", "reason", "detail")
MODEL_FILE = "model.npz"
ML_MODEL_DIR = "ml-model"


def run_record(root: PathLike, size: int) -> str:
    """An output's own record of the run that made it: the size's marker (a features run's
    settings and timing) and the preprocess summary (its start time), where present."""
    from jobs.dataset import fs

    markers = (size_complete(root, size), summary(root))
    return "\n".join(fs.read_text(m) if fs.exists(m) else "" for m in markers)


def size_dir(root: PathLike, size: int | str) -> PathLike:
    return join(root, f"size={size}")


def size_part(root: PathLike, size: int, part: int) -> PathLike:
    """One task's Parquet file of one size."""
    return join(size_dir(root, size), f"part-{part:05d}.parquet")


def attempt_scratch(final: PathLike) -> str:
    """Where one task attempt writes FINAL before renaming it into place: a name of its own,
    so that a speculative or lingering attempt of the same task never writes into (or, on
    HDFS, holds the lease of) the file another attempt renames."""
    return f"{final}.{uuid.uuid4().hex[:8]}.partial"


def drop_attempt_scratch(directory: PathLike) -> None:
    """Remove what failed or abandoned attempts left in DIRECTORY (their `attempt_scratch`
    files): the driver's step before it publishes the directory."""
    from jobs.dataset import fs

    for stray in fs.glob(join(directory, "*.partial")):
        fs.remove(stray)


def size_complete(root: PathLike, size: int) -> PathLike:
    return join(root, f"size={size}", COMPLETE)


def quarantine_dir(root: PathLike) -> PathLike:
    return join(root, "quarantine")


def quarantine_part(root: PathLike, part: int) -> PathLike:
    """One task's part of the quarantine table (the task writes it beside its sizes' files:
    on HDFS a file the driver wrote alone would cost its own close)."""
    return join(root, "quarantine", f"part-{part:05d}.csv")


def summary(root: PathLike) -> PathLike:
    return join(root, COMPLETE)


def scratch_prefix() -> str:
    """Names of a pass in progress (a killed run leaves these: the next run removes them)."""
    return "_tmp."


def seed_csv_dir(root: PathLike, size: int) -> PathLike:
    return join(root, "csv", f"size={size}")


def lr_out(data: PathLike, solver: str, size: int) -> PathLike:
    """Where `drc train-lr` writes by default."""
    return join(data, f"lr-{solver}-{size}")


def model_file(out: PathLike) -> PathLike:
    return join(out, MODEL_FILE)


def run_dir(out: PathLike) -> Path:
    """Where the controller keeps a job's result, report and spark-submit log: the output
    directory itself, or for an hdfs:// output a local directory named after it (the driver
    runs beside the controller)."""
    if not is_remote(out):
        return Path(out)
    base = Path(os.environ.get("DRC_RUN_DIR", Path.home() / ".cache" / "drc" / "runs"))
    return base / re.sub(r"[^A-Za-z0-9._-]+", "_", str(out).split("://", 1)[1]).strip("_")


def app_result(out: PathLike, app: str) -> Path:
    """What the Spark application returns (written by the app alone)."""
    return run_dir(out) / f"{app}-result.json"


def app_report(out: PathLike, app: str) -> Path:
    """The result plus how it ran (written by the controller alone)."""
    return run_dir(out) / f"{app}-report.json"


def pipeline_report(out: PathLike, suffix: str = "json") -> Path:
    """The pipeline's results table (report.json, report.txt), beside the app reports."""
    return run_dir(out) / f"report.{suffix}"


def submit_log(out: PathLike, app: str) -> Path:
    return run_dir(out) / f"{app}-spark-submit.log"
