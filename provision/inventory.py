"""The Ansible inventory of a provisioned cluster: the same groups on every provider, so
main.yml and hadoop.yml run unchanged."""

import os
import shutil
from pathlib import Path

from provision.model import MASTER, Node

# Which nodes train or grade with the CNN (the cnn_workers group: torch in their venv, the
# python_env role). "all" by default: `drc train-cnn --distributed` puts its processes on
# whichever executors Spark gives it, so every worker needs torch; "master" (grading and
# one-process training) or "none" leaves the other nodes without it.
CNN_NODES = ("all", "master", "none")


def render(
    cluster: str,
    provider: str,
    nodes: list[Node],
    ssh_key: str | None,
    host_vars: dict[str, dict],
    group_vars: dict[str, str],
    cnn_nodes: str = "all",
) -> str:
    def line(node: Node) -> str:
        # Per host, not [all:vars]: the project's group_vars/all outranks an inventory's
        # [all:vars], and these must win (cluster_root, drc_src ...).
        fields = {
            # a node in a private subnet has no public address: reach it on its own
            "ansible_host": node.public_ip or node.private_ip,
            "ansible_user": node.ssh_user,
            "spark_bind_address": node.private_ip,
            **group_vars,
            **host_vars.get(node.name, {}),
        }
        return node.name + "".join(f" {k}={v}" for k, v in fields.items())

    if cnn_nodes not in CNN_NODES:
        raise ValueError(f"cnn_nodes={cnn_nodes!r}: one of {', '.join(CNN_NODES)}")
    masters = [n for n in nodes if n.role == MASTER]
    workers = nodes  # the master node runs a worker too: no core sits idle
    cnn = {"all": nodes, "master": masters, "none": []}[cnn_nodes]
    out = [f"# Cluster {cluster}: written by provision; regenerated on every launch.", ""]
    for group, members in (
        ("spark_master", masters),
        ("spark_workers", workers),
        ("hdfs_namenode", masters),
        ("hdfs_datanodes", workers),
        ("cnn_workers", cnn),
    ):
        out += [f"[{group}]", *(line(n) for n in members), ""]
    all_vars = {
        "cluster_name": cluster,
        "cluster_provider": provider,
        "ansible_ssh_common_args": "'-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        **({"ansible_ssh_private_key_file": ssh_key} if ssh_key else {}),
    }
    out += ["[all:vars]", *(f"{k}={v}" for k, v in all_vars.items()), ""]
    return "\n".join(out)


CLUSTER_SECRETS = "secrets.yml"  # the cluster's own vault, beside the project's group_vars


def write(path: Path, text: str, group_vars_dir: Path) -> Path:
    """The inventory file, beside group_vars/all/: a link to each of the project's
    group_vars/all files (every cluster shares them; Ansible reads group_vars next to the
    inventory) and room for the cluster's own encrypted secrets (CLUSTER_SECRETS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    own = path.parent / "group_vars" / "all"
    if (path.parent / "group_vars").is_symlink():  # the layout before the cluster's secrets
        (path.parent / "group_vars").unlink()
    own.mkdir(parents=True, exist_ok=True)
    shared = sorted(Path(group_vars_dir).resolve().joinpath("all").iterdir())
    for link in own.iterdir():  # links to files the project no longer has
        if link.is_symlink() and not link.exists():
            link.unlink()
    for source in shared:
        link = own / source.name
        if source.name != CLUSTER_SECRETS and not link.is_symlink():
            link.symlink_to(source)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)
    return path


def remove(directory: Path) -> None:
    """The cluster's inventory directory: hosts, .provision/spec.json, group_vars (its links
    and the cluster's secrets: they end with the cluster). A key made for the cluster goes
    with the cloud's copy (the provider's finish_destroy)."""
    directory = Path(directory)
    for name in ("hosts", "spec.json", ".provision/spec.json"):  # spec.json: the old place
        (directory / name).unlink(missing_ok=True)
    hidden = directory / ".provision"
    if hidden.is_dir() and not any(hidden.iterdir()):
        hidden.rmdir()
    group_vars = directory / "group_vars"
    if group_vars.is_symlink():
        group_vars.unlink()
    elif group_vars.is_dir():
        shutil.rmtree(group_vars)
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
