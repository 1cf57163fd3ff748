"""What a cluster is made of, whatever the provider."""

import re
from dataclasses import dataclass, field

from provision.errors import ProvisionError

MASTER, WORKER = "master", "worker"
_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")


@dataclass(frozen=True)
class Node:
    name: str  # e.g. drc-master, drc-worker-02
    role: str  # MASTER or WORKER
    public_ip: str
    private_ip: str
    ssh_user: str = "root"
    id: str = ""  # the provider's own id (SoftLayer guest id, EC2 instance id, netns)


@dataclass(frozen=True)
class NodeSpec:
    """One machine shape and the cluster's cloud settings. Each provider reads the fields it
    knows (group_vars/all/cluster.yml, provision_spec, documents them)."""

    cores: int = 4
    ram_gb: int = 16
    disks_gb: tuple[int, ...] = (100, 500)  # the second disk holds HDFS (roles/data_disk)
    # The login Ansible uses: "" = the provider's own (SoftLayer root, AWS's Debian admin).
    ssh_user: str = ""
    # The private key of a key the user registered (key_name / ssh_key_ids); with none
    # of those, each cluster gets a key of its own, kept beside its inventory.
    ssh_key_file: str = ""
    # SoftLayer
    datacenter: str = "dal13"
    os_image: str = "DEBIAN_12_64"
    ssh_key_ids: tuple[int, ...] = ()
    hourly: bool = True
    domain: str = "dr-cluster.local"
    flavor: str = ""  # e.g. B1_16X64X100: sets cores and memory (cores/ram_gb are then unused)
    # AWS
    region: str = ""
    instance_type: str = "m5.xlarge"
    image_id: str = ""
    key_name: str = ""
    subnet_id: str = ""
    security_group_ids: tuple[str, ...] = ()
    # Who may reach SSH and the web UIs: "" = this launcher's public address (a private
    # subnet: its VPC's range, since the launcher must then sit inside it).
    admin_cidr: str = ""
    admin_ports: tuple[int, ...] = (22, 4040, 8080, 8081, 9864, 9870)
    spot: bool = False
    imds_v2: bool = True  # instance metadata only with a session token
    iam_instance_profile: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict) -> "NodeSpec":
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ProvisionError(
                "provision spec", f"unknown fields {unknown} (known: {sorted(known)})"
            )
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**fixed)


def check_cluster_name(name: str) -> str:
    if not _CLUSTER_NAME.match(name):
        raise ProvisionError(
            name, "cluster name must be 1-24 of a-z, 0-9, '-', starting with a letter"
        )
    return name


def node_names(cluster: str, count: int) -> list[tuple[str, str]]:
    """(name, role) of a cluster of `count` nodes: one master, count-1 workers."""
    names = [(f"{cluster}-master", MASTER)]
    names += [(f"{cluster}-worker-{i:02d}", WORKER) for i in range(1, count)]
    return names
