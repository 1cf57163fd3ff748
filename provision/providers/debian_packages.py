"""The Debian packages the Ansible roles install on a node, read from the roles' own lists
(the variable each apt task names, in the role's defaults/ or vars/), and installed on this
machine where missing. The local provider's namespace hosts share this machine's root
filesystem (it is their image) but reach no package mirror: their apt tasks must find
everything already installed."""

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import yaml

from provision.errors import ProvisionError

ROLES = Path(__file__).resolve().parents[2] / "roles"
APT_MODULES = ("ansible.builtin.apt", "apt", "ansible.builtin.package", "package")
ONE_VARIABLE = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")
Run = Callable[..., subprocess.CompletedProcess]


def _tasks(items: list | None) -> Iterator[dict]:
    """Tasks, those inside blocks included."""
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _settings(role: Path) -> dict:
    found: dict = {}
    for part in ("defaults", "vars"):
        path = role / part / "main.yml"
        if path.is_file():
            found |= yaml.safe_load(path.read_text()) or {}
    return found


def role_packages(roles: Path = ROLES) -> dict[str, list[str]]:
    """Per role, the Debian packages its apt tasks install. Each task must name one variable
    of the role's defaults/ or vars/ holding plain names: that file is the one list."""
    found: dict[str, list[str]] = {}
    for role in sorted(p for p in roles.iterdir() if (p / "tasks").is_dir()):
        settings = _settings(role)
        for tasks_file in sorted((role / "tasks").glob("*.yml")):
            for task in _tasks(yaml.safe_load(tasks_file.read_text())):
                module = next((m for m in APT_MODULES if m in task), None)
                if module is None:
                    continue
                where = f"{tasks_file}: {task.get('name', module)}"
                match = ONE_VARIABLE.match(str((task[module] or {}).get("name", "")))
                if not match or match.group(1) not in settings:
                    raise ProvisionError(where, "its packages must be one variable of the "
                                                "role's defaults/ or vars/")  # fmt: skip
                value = settings[match.group(1)]
                names = [value] if isinstance(value, str) else list(value)
                if any("{{" in name for name in names):
                    raise ProvisionError(where, f"{match.group(1)}: package names must be plain")
                found.setdefault(role.name, [])
                found[role.name] += [n for n in names if n not in found[role.name]]
    return found


def missing(packages: Iterable[str], run: Run = subprocess.run) -> list[str]:
    """Those of PACKAGES dpkg does not list as installed."""
    packages = list(packages)
    query = ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\\n", *packages]
    proc = run(query, capture_output=True, text=True, timeout=60)  # exit 1 if one is unknown
    installed = {ln.split()[0] for ln in proc.stdout.splitlines() if ln.endswith(" installed")}
    return [p for p in packages if p not in installed]


def install_missing(packages: Iterable[str], run: Run = subprocess.run) -> list[str]:
    """apt-get install what is missing (nothing runs when nothing is); returns it."""
    absent = missing(packages, run)
    if not absent:
        return []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *absent]
    for argv in (["apt-get", "update", "-qq"], install):
        proc = run(argv, capture_output=True, text=True, timeout=1800, env=env)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise ProvisionError(f"apt-get {argv[1]} {' '.join(absent)}", last)
    return absent
