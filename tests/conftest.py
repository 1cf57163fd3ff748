"""Shared fixtures: paths of the repo and of the real Kaggle sample images."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "data" / "kaggle-sample"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"{SAMPLES}: the Kaggle sample images must sit beside the repo (../shared)")
    return SAMPLES


@pytest.fixture(scope="session")
def sample_images(sample_dir: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted(sample_dir.glob("*.jpeg"))}
