"""The interface every provider implements (softlayer, aws, local)."""

from abc import ABC, abstractmethod

from provision.model import Node, NodeSpec

# A node's own state and data (Spark, HDFS, the staged data set): the same path on every
# node, each its own disk.
NODE_ROOT = "/srv/dr-cluster"


class Provider(ABC):
    name: str

    @abstractmethod
    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        """Order one node, tagged with the cluster and its role. Called in parallel."""

    @abstractmethod
    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        """Block until the node is provisioned and answers SSH; the node with its addresses."""

    @abstractmethod
    def list(self, cluster: str) -> list[Node]:
        """The cluster's nodes, found by tag (so a re-run or a cleanup finds them all)."""

    @abstractmethod
    def destroy(self, node: Node) -> None:
        """Release one node (stop the billing)."""

    def ssh_key(self, cluster: str) -> str | None:
        """Private key Ansible uses for this cluster, when the provider made one."""
        return None

    def group_vars(self, cluster: str) -> dict[str, str]:
        """Inventory variables for the whole cluster. Cloud nodes: their own disks and a
        checksummed Apache Spark; the data set is staged on the master and put into HDFS."""
        return {
            "ansible_python_interpreter": "/usr/bin/python3",
            "cluster_root": NODE_ROOT,
            "drc_src": "/opt/dr-cluster",
            "drc_python": "python3",
        }

    def host_vars(self, cluster: str, node: Node) -> dict[str, str]:
        return {}

    def prepare(self, cluster: str) -> None:  # noqa: B027 - optional hook
        """Cluster-wide set-up before nodes are created (keys, networks)."""

    def finish_destroy(self, cluster: str) -> None:  # noqa: B027 - optional hook
        """Cluster-wide teardown after every node is gone."""
