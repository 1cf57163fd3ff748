"""Where the data shared beside the checkout sits: ../shared (the Kaggle samples, the real
graded eyes, the 2015 report), or $DRC_SHARED. A clone has none (the Kaggle photographs
may not be redistributed): the demo then makes its own photographs and the tests that
need it are skipped."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_root() -> Path:
    return Path(os.environ.get("DRC_SHARED") or REPO.parent / "shared")
