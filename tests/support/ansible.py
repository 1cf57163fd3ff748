"""The one way the tests run Ansible's tools: the project's ansible.cfg, extra vars from a
JSON file, an optional inventory, a bounded time, output captured."""

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"


def run_ansible(
    tool: str,
    *args: str,
    extra: dict | None = None,
    inventory: Path | None = None,
    env: dict | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """Run `tool` (ansible-playbook, ansible-vault, ...) from the repo; `extra` is written to
    a file beside the inventory (or under the state it names) and passed as -e @file."""
    argv = [str(BIN / tool)]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    if extra is not None:
        where = Path(extra.get("cluster_root") or extra.get("provision_state_root") or REPO)
        where.mkdir(parents=True, exist_ok=True)
        extra_file = where / "extra-vars.json"
        extra_file.write_text(json.dumps(extra))
        argv += ["-e", f"@{extra_file}"]
    environ = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), **(env or {}))
    return subprocess.run([*argv, *args], cwd=REPO, env=environ, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def playbook(*names: str, args: tuple[str, ...] = (), check: bool = True, **kwargs) -> str:
    """ansible-playbook [ARGS] playbooks/NAME ...; asserts success unless check=False."""
    proc = run_ansible("ansible-playbook", *args, *[f"playbooks/{n}" for n in names], **kwargs)
    assert proc.returncode == 0 or not check, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout
