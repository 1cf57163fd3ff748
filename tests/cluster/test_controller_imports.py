"""The controller stays light: no module of jobs/cluster or jobs/cli imports pyspark, numba
or torch when imported (each is imported in a fresh interpreter and sys.modules read)."""

import subprocess
import sys
from pathlib import Path

import pytest

JOBS = Path(__file__).resolve().parents[2] / "jobs"
CONTROLLER = sorted(
    f"jobs.{p.parent.name}.{p.stem}".removesuffix(".__init__")
    for folder in ("cluster", "cli")
    for p in (JOBS / folder).glob("*.py")
    if p.stem != "__main__"
)
HEAVY = ("pyspark", "numba", "torch")


def test_every_controller_module_is_listed():
    assert "jobs.cluster.submit" in CONTROLLER and "jobs.cli.main" in CONTROLLER


@pytest.mark.parametrize("module", CONTROLLER)
def test_controller_module_imports_nothing_heavy(module):
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"
