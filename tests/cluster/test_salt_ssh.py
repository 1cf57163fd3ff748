"""drc salt apply's controller side, without nodes: the roster and pillar from an
inventory, salt-ssh's JSON read into per-host outcomes, the health gates' polling."""

import json
import sys
from pathlib import Path

import pytest

from jobs.cluster import health
from jobs.cluster.cluster_vars import REPO, resolve
from jobs.cluster.salt_ssh import SaltCluster, parse, roster
from jobs.errors import DrcError

INVENTORY = """[spark_master]
n1
[hdfs_namenode]
n1
[spark_workers]
n1
n2
[hdfs_datanodes]
n1
n2
[all]
n1 ansible_host=10.9.0.1 ansible_user=root spark_bind_address=10.9.0.1 cluster_root=/srv/x
n2 ansible_host=10.9.0.2 ansible_user=root spark_bind_address=10.9.0.2 cluster_root=/srv/x
[all:vars]
ansible_ssh_private_key_file=/keys/id_ed25519
cluster_name=unit
"""


@pytest.fixture
def inventory(tmp_path):
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all").symlink_to(REPO / "group_vars" / "all")
    path = tmp_path / "hosts"
    path.write_text(INVENTORY)
    return path


def test_the_roster_and_pillar_come_from_the_inventory(inventory, tmp_path):
    cluster = SaltCluster(inventory, tmp_path / "salt", ("hadoop_replication=1",))
    entries = json.loads((tmp_path / "salt" / "roster").read_text())
    assert entries["n2"]["host"] == "10.9.0.2" and entries["n2"]["priv"] == "/keys/id_ed25519"
    assert entries["n1"]["thin_dir"] == "/srv/x/salt-thin"  # the node's own disk
    pillar = json.loads((tmp_path / "salt" / "pillar" / "cluster.json").read_text())
    assert pillar["groups"]["hdfs_datanodes"] == ["n1", "n2"]
    assert pillar["hosts"]["n2"]["spark_master_url"] == "spark://10.9.0.1:7077"
    assert pillar["hosts"]["n2"]["hadoop_replication"] == "1"  # the extra var wins
    assert pillar["hosts"]["n1"]["spark_authenticate_enabled"] is True
    assert "spark_auth_secret" not in pillar["hosts"]["n1"]  # secrets: the ext_pillar only
    assert cluster.targets(cluster_phase("hdfs_namenode")) == ["n1"]
    master = json.loads((tmp_path / "salt" / "master").read_text())
    assert master["ext_pillar"][0]["cmd_json"].endswith("-e hadoop_replication=1")
    assert master["minion_data_cache"] is False


def cluster_phase(target):
    from jobs.cluster.salt_ssh import Phase

    return Phase("x", target, ("x",))


def test_ansible_stays_out_of_this_process(inventory):
    """Importing Ansible patches the interpreter (sys.intern), which torch's compiler then
    refuses: resolve runs it in a child process (this failed the CNN tests once)."""
    resolve(inventory)
    assert not [m for m in sys.modules if m == "ansible" or m.startswith("ansible.")]


def test_the_secrets_are_the_vaults(inventory):
    cluster = resolve(
        inventory, ('{"vault_spark_auth_secret": "from-the-vault-0123456789abcdef0"}',)
    )
    assert cluster.secrets["n1"]["spark_auth_secret"] == "from-the-vault-0123456789abcdef0"


def test_a_cluster_is_named_by_its_inventory_or_its_name(tmp_path):
    from jobs.cli.configure import inventory_path

    (tmp_path / "inventories" / "dr1").mkdir(parents=True)
    (tmp_path / "inventories" / "dr1" / "hosts").write_text("[spark_master]\n")
    assert inventory_path("dr1", tmp_path) == tmp_path / "inventories" / "dr1" / "hosts"
    assert inventory_path("other/hosts", tmp_path) == Path("other/hosts")  # a missing path
    assert inventory_path("dr2", tmp_path) == Path("dr2")  # says "no such inventory" later


def test_a_local_connection_is_refused_with_one_line():
    with pytest.raises(DrcError, match="ansible_connection=local"):
        roster(resolve(REPO / "hosts"))


def test_salt_ssh_output_becomes_one_outcome_per_host():
    ok = {"a": {"result": True, "changes": {"diff": "New"}, "__id__": "a"},
          "b": {"result": True, "changes": {}, "__id__": "b"}}  # fmt: skip
    bad = {"c": {"result": False, "comment": "Command failed", "__id__": "drc-hadoop-namenode",
                 "changes": {"stderr": "line 1\nport 8020 is taken"}}}  # fmt: skip
    output = json.dumps({"n1": ok, "n2": bad, "n3": {"retcode": 255, "stderr": "ssh: refused"}})
    out = parse(output, ["n1", "n2", "n3", "n4"])
    assert (out["n1"].states, out["n1"].changed, out["n1"].failed) == (2, 1, [])
    assert out["n2"].failed == ["drc-hadoop-namenode: Command failed | line 1 | port 8020 is taken"]
    assert out["n3"].failed == ["salt-ssh: ssh: refused"]
    assert "no answer" in out["n4"].failed[0]


def test_a_gate_polls_until_healthy_and_else_says_what_it_last_saw():
    answers = iter([(False, "1 of 3 workers"), (False, "2 of 3 workers"), (True, "3 of 3")])
    assert health.wait(lambda: next(answers), timeout_s=10, delay_s=0.01) == "3 of 3"
    with pytest.raises(DrcError, match="not healthy after 0 s: 1 of 3 workers"):
        health.wait(lambda: (False, "1 of 3 workers"), timeout_s=0, delay_s=0.01)


def test_the_spark_gate_reads_the_masters_page(monkeypatch):
    page = {"status": "ALIVE", "workers": [{"state": "ALIVE"}, {"state": "DEAD"}]}
    monkeypatch.setattr(health, "master_status", lambda ui: page)
    assert health.spark_state("http://m:8080", 1) == (
        True,
        "Spark master ALIVE, 1 of 1 workers ALIVE",
    )
    assert health.spark_state("http://m:8080", 2)[0] is False
