"""Test hosts provisioned by start_cluster.yml (provider local: network namespaces with
sshd, each with its own disk), for the integration tests that share one such cluster."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.ansible import playbook, run_ansible
from tests.support.shared import shared_path


class LocalCluster:
    def __init__(self, repo: Path, root: Path, prefix: str = "it"):
        samples = shared_path("data/kaggle-sample", "the Kaggle sample photographs it stages")
        self.repo, self.root = repo, root
        self.name = f"{prefix}{os.getpid() % 10000}"
        self.inventory = root / "inventories" / self.name / "hosts"
        self.extra = {
            "provider": "local",
            "cluster": self.name,
            "provision_state_root": str(root / "state"),
            "provision_inventory_dir": str(root / "inventories"),
            "data_url": f"file://{samples}",
        }
        self.bin = Path(sys.executable).parent

    def playbook(self, *names: str, args=(), inventory=True, check=True) -> str:
        return playbook(*names, args=args, extra=self.extra, check=check,
                        inventory=self.inventory if inventory else None)  # fmt: skip

    def disk(self, node: str) -> Path:
        """A node's private disk as this namespace sees it (the node: at /srv/dr-cluster)."""
        return self.root / "state" / self.name / "nodes" / f"{self.name}-{node}" / "disk"

    def shell(self, host: str, command: str) -> subprocess.CompletedProcess:
        return run_ansible("ansible", f"{self.name}-{host}", "-m", "ansible.builtin.shell",
                           "-a", command, extra=self.extra, inventory=self.inventory)  # fmt: skip

    def address(self, node: str = "master") -> str:
        """A node's address, as its inventory line gives it."""
        line = rf"^{self.name}-{node}\s+ansible_host=(\S+)"
        return re.search(line, self.inventory.read_text(), re.M).group(1)

    def master_ui(self) -> str:
        return f"http://{self.address()}:8080"

    def leftovers(self) -> dict[str, list]:
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        procs = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and any(
                    mark in (proc / "cmdline").read_bytes()
                    for mark in (str(self.root).encode(), b"/srv/dr-cluster")  # the nodes' disks
                ):
                    procs.append(int(proc.name))
            except OSError:
                continue
        return {
            "netns": [ln.split()[0] for ln in netns.splitlines() if ln.startswith(self.name)],
            "processes": procs,
        }
