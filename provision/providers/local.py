"""Real test hosts on this machine: one network namespace per node on a private bridge,
each running its own sshd. Real SSH, real Ansible, no cloud.

Namespaces share the filesystem, users and packages with this machine; only the network
is their own. Teardown order matters (platform notes): processes of the namespace, then
the namespace, then the bridge.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from provision.errors import ProvisionError
from provision.model import Node, NodeSpec
from provision.providers.base import NODE_ROOT, Provider
from provision.providers.debian_packages import install_missing, role_packages

SSHD = "/usr/sbin/sshd"
# What the provider itself runs: namespaces, each node's sshd, the login check.
HOST_PACKAGES = ["iproute2", "openssh-server", "openssh-client"]
SSH_PORT = 22
FIRST_HOST = 11  # node i gets .(11+i); .1 is the bridge (this machine)
# Ansible's SSH connections to a node are reused for this long after the last task: one
# login per node and playbook instead of one per task. destroy closes them first (a master
# left open would keep the node's veth alive: platform notes).
CONTROL_PERSIST_S = 60
CONTROL_ROOT = Path("/tmp/dr-cluster-ansible/cp")  # ansible.cfg's control_path_dir


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise ProvisionError(" ".join(argv), proc.stderr.strip() or f"exit {proc.returncode}")
    return proc


def node_index(name: str) -> int:
    return 0 if name.endswith("-master") else int(name.rsplit("-", 1)[1])


def cluster_of(name: str) -> str:
    """'dr-master' / 'dr-worker-03' -> 'dr' (the names provision.model.node_names makes)."""
    return name.rsplit("-master", 1)[0].rsplit("-worker-", 1)[0]


class LocalProvider(Provider):
    name = "local"

    def __init__(self, state_root: Path):
        self.state_root = Path(state_root)

    # -- cluster-wide -------------------------------------------------------------------
    def _dir(self, cluster: str) -> Path:
        return self.state_root / cluster

    def _tag(self, cluster: str) -> str:
        return hashlib.sha1(cluster.encode()).hexdigest()[:6]

    def _network(self, cluster: str) -> dict:
        path = self._dir(cluster) / "network.json"
        if path.is_file():
            return json.loads(path.read_text())
        used = sh("ip", "-4", "-o", "addr", "show").stdout
        start = int(self._tag(cluster), 16) % 200 + 20
        for third in [*range(start, 250), *range(20, start)]:
            if f" 10.213.{third}." not in used:
                net = {"bridge": f"drb{self._tag(cluster)}", "prefix": f"10.213.{third}"}
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(net))
                return net
        raise ProvisionError(cluster, "no free 10.213.x.0/24 subnet for the bridge")

    def ssh_key(self, cluster: str) -> str:
        return str(self._dir(cluster) / "id_ed25519")

    def _control_dir(self, cluster: str) -> Path:
        # short (a socket's path may not pass 108 bytes), one per cluster and state root
        tag = hashlib.sha1(str(self._dir(cluster)).encode()).hexdigest()[:10]
        return CONTROL_ROOT / tag

    def _close_ssh_master(self, cluster: str, node: Node) -> None:
        """Ask Ansible's persistent SSH connection to this node (if one is open) to exit."""
        socket_path = self._control_dir(cluster) / node.private_ip
        if socket_path.exists():
            try:
                sh("ssh", "-o", f"ControlPath={socket_path}", "-O", "exit",
                   f"root@{node.private_ip}", check=False)  # fmt: skip
            except subprocess.TimeoutExpired:
                pass  # a master that does not answer dies with the node's connections

    def packages(self) -> list[str]:
        """The provider's own packages and every one the roles install on a node: the nodes
        share this machine's filesystem but reach no package mirror."""
        roles = [p for names in role_packages().values() for p in names]
        return list(dict.fromkeys(HOST_PACKAGES + roles))

    def prepare(self, cluster: str) -> None:
        install_missing(self.packages())  # before any node exists, so before main.yml runs
        for tool in ("ip", SSHD, "ssh-keygen", "ssh"):
            if not shutil.which(tool):
                raise ProvisionError(tool, "not installed (Debian: iproute2, openssh-server)")
        key = Path(self.ssh_key(cluster))
        if not key.is_file():
            key.parent.mkdir(parents=True, exist_ok=True)
            # A fresh key per cluster; nothing else authorises it.
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"drc-{cluster}", "-f",
               str(key))  # fmt: skip
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd refuses to start without it
        Path(NODE_ROOT).mkdir(parents=True, exist_ok=True)  # each node mounts its disk here
        net = self._network(cluster)
        if sh("ip", "link", "show", net["bridge"], check=False).returncode != 0:
            sh("ip", "link", "add", net["bridge"], "type", "bridge")
            sh("ip", "addr", "add", f"{net['prefix']}.1/24", "dev", net["bridge"])
        sh("ip", "link", "set", net["bridge"], "up")

    def finish_destroy(self, cluster: str) -> None:
        for disk in (self._dir(cluster) / "nodes").glob("*/disk"):  # a node destroy left
            self._unmount_disk(cluster, disk.parent.name, check=False)
        net_file = self._dir(cluster) / "network.json"
        if net_file.is_file():
            bridge = json.loads(net_file.read_text())["bridge"]
            sh("ip", "link", "del", bridge, check=False)
        shutil.rmtree(self._dir(cluster), ignore_errors=True)

    # -- per node -------------------------------------------------------------------------
    def _node(self, cluster: str, name: str, role: str) -> Node:
        ip = f"{self._network(cluster)['prefix']}.{FIRST_HOST + node_index(name)}"
        return Node(name, role, public_ip=ip, private_ip=ip, ssh_user="root", id=name)

    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        node = self._node(cluster, name, role)
        home = self._dir(cluster) / "nodes" / name
        home.mkdir(parents=True, exist_ok=True)
        (home / "role").write_text(role)
        veth = f"dv{self._tag(cluster)}{node_index(name)}"
        bridge = self._network(cluster)["bridge"]
        sh("ip", "netns", "add", name)
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", f"{veth}p")
        sh("ip", "link", "set", veth, "master", bridge, "up")
        sh("ip", "link", "set", f"{veth}p", "netns", name)
        ns = ("ip", "-n", name)
        sh(*ns, "link", "set", f"{veth}p", "name", "eth0")
        sh(*ns, "addr", "add", f"{node.private_ip}/24", "dev", "eth0")
        sh(*ns, "link", "set", "eth0", "up")
        sh(*ns, "link", "set", "lo", "up")
        self._mount_disk(cluster, node.name, spec.disks_gb[0])
        self._start_sshd(cluster, node, home)
        return node

    def _mount_disk(self, cluster: str, name: str, size_gb: int) -> None:
        """The node's disk: a filesystem of its own, SIZE_GB at most (tmpfs: it fills up as a
        cloud node's volume does, ENOSPC and all, where a directory of this machine's disk
        would not; it holds only what is written)."""
        disk = self.node_disk(cluster, name)
        disk.mkdir(mode=0o755, parents=True, exist_ok=True)
        if not os.path.ismount(disk):
            sh("mount", "-t", "tmpfs", "-o", f"size={size_gb}g,mode=0755", f"drc-{name}",
               str(disk))  # fmt: skip

    def _unmount_disk(self, cluster: str, name: str, check: bool = True) -> None:
        disk = self.node_disk(cluster, name)
        if os.path.ismount(disk):
            sh("umount", "--lazy", str(disk), check=check)

    def _start_sshd(self, cluster: str, node: Node, home: Path) -> None:
        host_key = home / "ssh_host_ed25519_key"
        if not host_key.is_file():
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
        shutil.copyfile(f"{self.ssh_key(cluster)}.pub", home / "authorized_keys")
        config = home / "sshd_config"
        config.write_text(
            f"ListenAddress {node.private_ip}\nPort {SSH_PORT}\nHostKey {host_key}\n"
            f"PidFile {home / 'sshd.pid'}\nAuthorizedKeysFile {home / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n"
        )
        # Its own mount namespace (ip netns exec makes one) with the node's private disk
        # over NODE_ROOT: what sshd starts sees it, no other node does (cloud nodes share
        # no disk, and neither may these).
        disk = self.node_disk(cluster, node.name)
        mount_then_exec = 'disk=$1 root=$2; shift 2; mount --bind "$disk" "$root" && exec "$@"'
        sh("ip", "netns", "exec", node.name, "sh", "-c", mount_then_exec, "sh", str(disk),
           NODE_ROOT, SSHD, "-f", str(config), "-E", str(home / "sshd.log"))  # fmt: skip

    def start_sshd(self, cluster: str, name: str) -> None:
        """A node's sshd again (after it died or was stopped): the same address and keys."""
        home = self._dir(cluster) / "nodes" / name
        self._start_sshd(cluster, self._node(cluster, name, (home / "role").read_text()), home)

    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        deadline = time.monotonic() + min(timeout_s, 60)
        cluster = cluster_of(node.name)
        while time.monotonic() < deadline:
            if self._answers_ssh(node, cluster):
                return node
            time.sleep(0.2)
        raise ProvisionError(node.name, f"sshd on {node.private_ip} did not answer within "
                                  f"{min(timeout_s, 60):.0f} s")  # fmt: skip

    def _answers_ssh(self, node: Node, cluster: str) -> bool:
        try:
            with socket.create_connection((node.private_ip, SSH_PORT), timeout=1) as conn:
                if not conn.recv(64).startswith(b"SSH-"):
                    return False
        except OSError:
            return False
        # The banner is not enough: log in with the cluster's key, as Ansible will.
        proc = subprocess.run(
            ["ssh", "-i", self.ssh_key(cluster), "-o", "BatchMode=yes", "-o",
             "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
             "ConnectTimeout=5", "-o", "LogLevel=ERROR", f"root@{node.private_ip}", "true"],
            capture_output=True, timeout=30,
        )  # fmt: skip
        return proc.returncode == 0

    def list(self, cluster: str) -> list[Node]:
        nodes_dir = self._dir(cluster) / "nodes"
        if not nodes_dir.is_dir():
            return []
        alive = set(sh("ip", "netns", "list").stdout.split())
        nodes = []
        for home in sorted(nodes_dir.iterdir()):
            if home.name in alive and (home / "role").is_file():
                nodes.append(self._node(cluster, home.name, (home / "role").read_text()))
        return nodes

    def destroy(self, node: Node) -> None:
        cluster = cluster_of(node.name)
        self._close_ssh_master(cluster, node)
        pids = [int(p) for p in sh("ip", "netns", "pids", node.name, check=False).stdout.split()]
        # Only processes inside this node's namespace: sshd and what was started over SSH.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if Path(f"/proc/{p}").exists()]
                time.sleep(0.05)
            if not pids:
                break
        self._unmount_disk(cluster, node.name)
        sh("ip", "netns", "del", node.name, check=False)
        sh("ip", "link", "del", f"dv{self._tag(cluster)}{node_index(node.name)}", check=False)
        shutil.rmtree(self._dir(cluster) / "nodes" / node.name, ignore_errors=True)

    def group_vars(self, cluster: str) -> dict[str, str]:
        # The controller's venv and Spark wheel (read only); each node's state on its own
        # disk at NODE_ROOT, HDFS's included (its default path is outside NODE_ROOT).
        return {
            "ansible_python_interpreter": "/usr/bin/python3",
            "cluster_root": NODE_ROOT,
            "hadoop_root": f"{NODE_ROOT}/hdfs",
            # Spark as on cloud nodes, by the role's default (the pinned wheel's)
            "hadoop_install_method": "maven",  # no Apache download site here
            # Test hosts share this machine's cores and memory: small workers.
            "spark_worker_cores": "1",
            "spark_worker_memory": "1536m",
            "spark_executor_memory": "1g",
            "spark_driver_memory": "1g",
            "hadoop_namenode_heap": "512m",
            "hadoop_datanode_heap": "256m",
            # a lost DataNode avoided within seconds (the failure drills kill one)
            "hadoop_heartbeat_interval_s": "1",
            "hadoop_stale_datanode_ms": "3000",
            # a node lost whole is dead after 2 x 2 + 10 x 1 = 14 s and its blocks copied
            # within seconds (the node_lost drill)
            "hadoop_dead_recheck_ms": "2000",
            "hadoop_replication_work_multiplier": "50",
            "hadoop_replication_max_streams": "20",
            # of the node's 1 GiB disk (provision_spec.local); small blocks, since a block
            # being written holds its whole size of the disk (32 at once on a put)
            "hadoop_datanode_reserved_mb": "128",
            "hadoop_block_size_mb": "16",
            "hadoop_namenode_reserved_mb": "4",
            # and a lost Spark worker dropped by the master within seconds
            "spark_worker_timeout_s": "10",
            # One SSH login per node and playbook (closed by destroy: CONTROL_PERSIST_S),
            # its socket named by the node's address so that destroy finds it.
            "ansible_ssh_args": f"'-o ControlMaster=auto -o ControlPersist={CONTROL_PERSIST_S}s'",
            "ansible_control_path_dir": str(self._control_dir(cluster)),
            "ansible_control_path": "%(directory)s/%%h",
        }

    def node_disk(self, cluster: str, name: str) -> Path:
        """A node's private disk, as this machine's root namespace sees it (the node sees
        it at NODE_ROOT)."""
        return self._dir(cluster) / "nodes" / name / "disk"
