"""The data shared beside the checkout (../shared, or $DRC_SHARED): a test that needs part of
it is skipped where it is absent (a clone has none), in one line naming what is missing."""

from pathlib import Path

import pytest

from jobs.dataset.shared import shared_root


def shared_path(rel: str, what: str) -> Path:
    """SHARED/REL, or the calling test skipped: WHAT names it for the reader."""
    path = shared_root() / rel
    if not path.exists():
        pytest.skip(f"{path} absent: needs {what} (../shared beside the project, or $DRC_SHARED)")
    return path
