"""library/drc_files.py, the roles' directories and files in one module run: run as Ansible
runs it on a node (the module with its arguments), on real files."""

import json
import subprocess
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "library" / "drc_files.py"


def run(tmp_path: Path, check_mode: bool = False, **args) -> dict:
    if check_mode:
        args["_ansible_check_mode"] = True
    spec = tmp_path / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run([sys.executable, str(MODULE), str(spec)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    return json.loads(proc.stdout)


def test_creates_then_changes_nothing_then_rewrites_only_what_differs(tmp_path):
    conf = tmp_path / "srv" / "conf"
    a, b = conf / "a.conf", conf / "b.sh"
    args = {
        "directories": [{"path": str(conf), "mode": "0750"}],
        "files": [
            {"path": str(a), "content": "x=1\n", "mode": "0600"},
            {"path": str(b), "content": "#!/bin/sh\n", "mode": "0755"},
        ],
    }
    first = run(tmp_path, **args)
    assert first["changed"] and first["changed_paths"] == [str(conf), str(a), str(b)]
    assert a.read_text() == "x=1\n" and b.read_text() == "#!/bin/sh\n"
    assert [p.stat().st_mode & 0o777 for p in (conf, a, b)] == [0o750, 0o600, 0o755]
    assert "x=1" not in json.dumps(first)  # contents are never echoed back (secrets)

    assert run(tmp_path, **args) == {**run(tmp_path, **args), "changed": False, "changed_paths": []}

    args["files"][0]["content"] = "x=2\n"
    args["files"][1]["mode"] = "0700"
    again = run(tmp_path, **args)
    assert again["changed_paths"] == [str(a), str(b)]
    assert a.read_text() == "x=2\n" and b.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in conf.iterdir()) == ["a.conf", "b.sh"]  # no temporary left


def test_missing_parents_get_the_directorys_mode_as_the_file_module_gives_them(tmp_path):
    leaf = tmp_path / "srv" / "spark" / "conf"
    out = run(tmp_path, directories=[{"path": str(leaf), "mode": "0700"}])
    assert out["changed_paths"] == [str(leaf)]
    assert [p.stat().st_mode & 0o777 for p in (leaf.parent.parent, leaf.parent, leaf)] == [
        0o700, 0o700, 0o700]  # fmt: skip
    (tmp_path / "plain").write_text("a file\n")
    out = run(tmp_path, directories=[{"path": str(tmp_path / "plain" / "sub"), "mode": "0700"}])
    assert out["failed"] and out["msg"] == f"{tmp_path / 'plain'}: exists and is not a directory"


def test_check_mode_reports_and_writes_nothing(tmp_path):
    conf = tmp_path / "conf"
    wanted = {"path": str(conf / "f"), "content": "payload=1", "mode": "0644"}
    out = run(tmp_path, check_mode=True, directories=[{"path": str(conf), "mode": "0700"}],
              files=[wanted])  # fmt: skip
    assert out["changed"] and out["changed_paths"] == [str(conf), str(conf / "f")]
    assert not conf.exists()


def test_a_file_whose_directory_is_missing_fails_naming_both(tmp_path):
    missing = tmp_path / "nowhere" / "f"
    out = run(tmp_path, files=[{"path": str(missing), "content": "payload=1\n", "mode": "0644"}])
    assert out["failed"]
    assert out["msg"] == f"{missing}: its directory {missing.parent} does not exist"
