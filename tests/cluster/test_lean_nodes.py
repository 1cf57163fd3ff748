"""Lean nodes: the python_env role and Salt's state install requirements/runtime.txt on
every host and cnn.txt only on the hosts that train (the inventory's cnn_workers group;
an inventory without it trains everywhere, as before the split)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from jobs.cli import cnn
from jobs.cluster.cluster_vars import REPO, resolve
from jobs.errors import DrcError
from tests.support.salt_render import TWO_NODES, show_sls

GROUPS = TWO_NODES
RUNTIME, CNN = (str(REPO / "requirements" / f"{kind}.txt") for kind in ("runtime", "cnn"))


def test_only_the_hosts_in_cnn_workers_install_the_cnn(tmp_path):
    rendered = show_sls(tmp_path, GROUPS + "[cnn_workers]\nn1\n", "python_env", ("n1", "n2"))
    for host, wanted in (("n1", f"-r {RUNTIME} -r {CNN};"), ("n2", f"-r {RUNTIME};")):
        pip = json.dumps(rendered[host]["drc-venv-packages"]["cmd"])
        assert wanted in pip, (host, pip)
    assert CNN not in json.dumps(rendered["n2"]["drc-venv-packages"]["cmd"])


def test_an_inventory_without_cnn_workers_trains_everywhere(tmp_path):
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all").symlink_to(REPO / "group_vars" / "all")
    for extra, wanted in (("", [RUNTIME, CNN]), ("[cnn_workers]\n", [RUNTIME])):
        inventory = tmp_path / "hosts"
        inventory.write_text(GROUPS + extra)
        hosts = resolve(inventory).hosts
        assert {h: v["python_env_requirements"] for h, v in hosts.items()} == {
            "n1": wanted, "n2": wanted}, extra  # fmt: skip


def test_the_embedded_inventory_installs_no_torch_since_make_demo_grades_with_onnx():
    hosts = resolve(REPO / "hosts").hosts
    assert hosts["localhost"]["python_env_requirements"] == [RUNTIME]


def test_grading_without_torch_runs_the_onnx_export(tmp_path, sample_dir):
    """In a process where torch cannot be imported (and ONNX Runtime's threads stay out of
    the test process, which later forks an in-process Spark)."""
    code = ("import sys; sys.modules['torch'] = None; from jobs.cli.main import main; "
            "sys.exit(main(sys.argv[1:]))")  # fmt: skip
    argv = [sys.executable, "-c", code, "grade", str(sample_dir), "--out", str(tmp_path / "g.csv"),
            "--views", "1"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "(1 view(s) each, onnx)" in proc.stdout
    assert len((tmp_path / "g.csv").read_text().splitlines()) == 5  # header + 4 photographs
    proc = subprocess.run([*argv, "--engine", "torch"], capture_output=True, text=True,
                          check=False, cwd=REPO)  # fmt: skip
    assert proc.returncode != 0 and "cnn_workers get requirements/cnn.txt" in proc.stderr


def test_the_cnn_commands_say_in_one_line_that_this_node_has_no_torch(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))  # fmt: skip
    for command in (cnn.cmd_train_cnn, cnn.cmd_features, cnn.cmd_predict_cnn, cnn.cmd_export_onnx):
        with pytest.raises(DrcError, match="cnn_workers get requirements/cnn.txt"):
            command(None)
