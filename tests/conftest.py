"""Shared fixtures: the repo's path, and the parts of the shared data beside it (each skips
the tests that use it where it is absent: tests/support/shared.py)."""

from pathlib import Path

import pytest

from tests.support.shared import shared_path

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return shared_path("data/kaggle-sample", "the 4 raw Kaggle sample photographs")


@pytest.fixture(scope="session")
def sample_images(sample_dir: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted(sample_dir.glob("*.jpeg"))}


@pytest.fixture(scope="session")
def real_dir() -> Path:
    return shared_path("data/eyepacs-256", "the 6,724 real graded photographs (eyepacs-256)")


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return shared_path("seed", "the 2015 project's report and measurements")
