"""The controller stays light: no module of jobs/cluster or jobs/cli imports pyspark, numba
or torch when imported (each is imported in a fresh interpreter and sys.modules read). And a
node that does not train the CNN has only requirements/runtime.txt in its venv: nothing
it runs (every job module but the CNN's and its features') imports a package of cnn.txt
or controller.txt."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

JOBS = Path(__file__).resolve().parents[2] / "jobs"
CONTROLLER = sorted(
    f"jobs.{p.parent.name}.{p.stem}".removesuffix(".__init__")
    for folder in ("cluster", "cli")
    for p in (JOBS / folder).glob("*.py")
    if p.stem != "__main__"
)
HEAVY = ("pyspark", "numba", "torch")
# The CNN's own packages; their configs are read by drc's parser on every node.
CNN_ONLY = ("cnn", "features")
NODE = sorted(
    ".".join(("jobs", *p.relative_to(JOBS).with_suffix("").parts)).removesuffix(".__init__")
    for p in JOBS.rglob("*.py")
    if p.stem != "__main__"
    and (p.parts[len(JOBS.parts)] not in CNN_ONLY or p.stem in ("config", "__init__"))
)
# Imported only where installed (try/except ImportError): joblib's psutil, scikit-learn's
# rich progress bar and rich's attrs.
OPTIONAL = {"psutil", "rich", "attrs"}


def test_every_controller_module_is_listed():
    assert "jobs.cluster.submit" in CONTROLLER and "jobs.cli.main" in CONTROLLER
    assert {"jobs.spark.apps", "jobs.lr.app", "jobs.cnn.config"} <= set(NODE)
    assert "jobs.cnn.train" not in NODE


@pytest.mark.parametrize("module", CONTROLLER)
def test_controller_module_imports_nothing_heavy(module):
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


NODE_PROBE = """
import importlib, json, sys
from importlib import metadata
dists = metadata.packages_distributions()
found = {}
for module in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(module)
    for name in set(sys.modules) - before:
        for dist in dists.get(name.split(".")[0], []):
            found.setdefault(dist, module)
print(json.dumps(found))
"""


def test_a_node_without_the_cnn_imports_only_the_runtime():
    """One interpreter imports them in turn; each package is named with the first module
    that brought it in."""
    repo = JOBS.parent
    lines = (repo / "requirements" / "runtime.txt").read_text().splitlines()
    runtime = {canonicalize_name(ln.split("==")[0]) for ln in lines if ln and ln[0] != "#"}
    out = subprocess.run([sys.executable, "-c", NODE_PROBE, *NODE], capture_output=True,
                         text=True, check=True, cwd=repo)  # fmt: skip
    found = {canonicalize_name(d): m for d, m in json.loads(out.stdout).items()}
    extra = {d: m for d, m in found.items()
             if d not in runtime | OPTIONAL and d != "dr-cluster"}  # fmt: skip
    assert extra == {}, f"not in requirements/runtime.txt (package: first importer): {extra}"
