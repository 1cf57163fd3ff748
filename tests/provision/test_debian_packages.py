"""The local provider's package step, checked the way a fresh machine meets it: every Debian
package a role installs on a node is one the provider installs on the controller first (the
namespace hosts share its filesystem but reach no mirror), and apt runs only for what is
missing. Nothing is installed or removed here: dpkg and apt are stand-ins."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from provision.errors import ProvisionError
from provision.providers.debian_packages import install_missing, role_packages
from provision.providers.local import LocalProvider

REPO = Path(__file__).resolve().parents[2]


def apt_tasks(role: Path):
    """(file, task) of every task of ROLE that installs Debian packages, blocks included."""

    def walk(items):
        for task in items or []:
            yield task
            for key in ("block", "rescue", "always"):
                yield from walk(task.get(key))

    for tasks_file in sorted((role / "tasks").glob("*.yml")):
        for task in walk(yaml.safe_load(tasks_file.read_text())):
            if any(m in task for m in ("ansible.builtin.apt", "apt", "ansible.builtin.package")):
                yield tasks_file, task


def declared(role: Path) -> dict:
    found = {}
    for part in ("defaults", "vars"):
        if (role / part / "main.yml").is_file():
            found |= yaml.safe_load((role / part / "main.yml").read_text())
    return found


def test_every_package_a_role_installs_is_in_the_providers_step():
    expected = set()
    for role in sorted((REPO / "roles").iterdir()):
        for tasks_file, task in apt_tasks(role):
            args = next(task[m] for m in ("ansible.builtin.apt", "apt", "ansible.builtin.package")
                        if m in task)  # fmt: skip
            variable = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", str(args["name"]))
            assert variable, f"{tasks_file}: {task['name']}: packages inline, not the role's list"
            value = declared(role)[variable.group(1)]
            expected |= {value} if isinstance(value, str) else set(value)
    assert {"nftables", "maven", "openjdk-17-jre-headless", "python3-venv"} <= expected
    step = LocalProvider(Path("/nonexistent")).packages()
    assert expected <= set(step), expected - set(step)
    assert {"openssh-server", "iproute2"} <= set(step)  # the provider's own


def test_salt_installs_from_the_same_lists():
    names = {n for names in role_packages().values() for n in names}
    for sls in sorted((REPO / "salt" / "states").rglob("*.sls")):
        for block in re.findall(r"pkg\.installed:\n((?:\s+- .*\n)+)", sls.read_text()):
            assert re.search(r"- (pkgs|name): \{\{ drc\.\w+", block), f"{sls}: inline packages"
    assert "nftables" in names and "maven" in names


class FakeApt:
    """dpkg-query answering from INSTALLED; apt-get recorded, never run."""

    def __init__(self, installed: set[str], fail: str = ""):
        self.installed, self.fail, self.calls = installed, fail, []

    def __call__(self, argv, **_):
        self.calls.append(argv)
        if argv[0] == "dpkg-query":
            lines = [f"{p} {'installed' if p in self.installed else 'config-files'}"
                     for p in argv[3:] if p != "unknown-to-dpkg"]  # fmt: skip
            return subprocess.CompletedProcess(argv, 1, "\n".join(lines) + "\n", "")
        failed = argv[1] == self.fail
        return subprocess.CompletedProcess(argv, int(failed), "", "E: Unable to fetch" * failed)


def test_apt_runs_only_for_what_is_missing():
    packages = LocalProvider(Path("/nonexistent")).packages()
    everything = FakeApt(set(packages))
    assert install_missing(packages, everything) == []
    assert [c[0] for c in everything.calls] == ["dpkg-query"]  # no apt-get at all
    fresh = FakeApt(set(packages) - {"nftables", "openssh-server"})  # a fresh machine
    assert install_missing([*packages, "unknown-to-dpkg"], fresh) == [
        "openssh-server", "nftables", "unknown-to-dpkg"]  # fmt: skip
    update, install = fresh.calls[1:]
    assert update[:2] == ["apt-get", "update"]
    assert install[:2] == ["apt-get", "install"]
    assert install[-3:] == ["openssh-server", "nftables", "unknown-to-dpkg"]


def test_a_failed_install_is_one_line_naming_the_packages():
    with pytest.raises(ProvisionError, match=r"apt-get install nftables: E: Unable to fetch"):
        install_missing(["nftables"], FakeApt(set(), fail="install"))


def test_an_inline_package_list_is_refused(tmp_path):
    tasks = tmp_path / "roles" / "web" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(
        "- name: Install nginx\n  ansible.builtin.apt:\n    name: nginx\n    state: present\n"
    )
    with pytest.raises(ProvisionError, match="one variable of the role's defaults/ or vars/"):
        role_packages(tmp_path / "roles")
