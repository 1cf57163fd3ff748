"""stop_cluster.yml through a cluster's inventory directory (#29 (6)): `-i inventories/NAME`
is what loads that directory's group_vars, and it was refused."""

import sys

from provision import inventory
from tests.support.ansible import REPO, run_ansible


def test_stop_cluster_accepts_the_inventory_directory(tmp_path):
    """A named (local-provider) cluster whose one node is this machine, with nothing
    running: stopped and released through -i DIR; its inventory directory is removed."""
    named = tmp_path / "inventories" / "dr7"
    (tmp_path / "node" / "spark" / "pids").mkdir(parents=True)  # no daemon ever ran there
    (named / ".provision").mkdir(parents=True)
    (named / ".provision" / "spec.json").write_text('{"cores": 4}\n')  # not an inventory
    node = (f"dr7-master ansible_connection=local ansible_python_interpreter={sys.executable}"
            f" cluster_name=dr7 cluster_provider=local cluster_root={tmp_path}/node")  # fmt: skip
    text = "".join(f"[{group}]\n{node}\n\n" for group in (
        "spark_master", "spark_workers", "hdfs_namenode", "hdfs_datanodes"))  # fmt: skip
    inventory.write(named / "hosts", text, REPO / "group_vars")  # as provision up does
    proc = run_ansible("ansible-playbook", "playbooks/stop_cluster.yml", inventory=named,
                       extra={"cluster": "dr7", "provider": "local",
                              "provision_inventory_dir": str(tmp_path / "inventories"),
                              "provision_state_root": str(tmp_path / "state")},
                       timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "has its own inventory" not in proc.stdout
    assert "Destroy the cluster and remove its inventory" in proc.stdout
    for stray in ("inventory source", "not a valid group definition"):  # nothing else parsed
        assert stray not in proc.stdout + proc.stderr
    assert not named.exists()
