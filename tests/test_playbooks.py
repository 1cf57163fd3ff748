"""The Ansible side parses, and no secret lies in git in clear."""

import pytest

from tests.support.ansible import run_ansible

PLAYBOOKS = [
    "site.yml",
    "start_cluster.yml",
    "main.yml",
    "hadoop.yml",
    "run_jobs.yml",
    "stop_cluster.yml",
    "scrub_hdfs.yml",
    "checkpoint_namenode.yml",
    "restore_namenode.yml",
]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax(repo, playbook):
    proc = run_ansible("ansible-playbook", "--syntax-check", f"playbooks/{playbook}", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vault_is_encrypted_and_opens_with_the_example_password(repo):
    vault = repo / "group_vars/all/vault.yml"
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    proc = run_ansible("ansible-vault", "view", str(vault), env={"DRC_VAULT_PASSWORD": ""},
                       timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "vault_softlayer_api_key" in proc.stdout


def test_vault_password_file_option_works(repo, tmp_path):
    password = tmp_path / "pass"
    password.write_text("dr-cluster-example\n")
    proc = run_ansible("ansible-vault", "view", "--vault-password-file", str(password),
                       "group_vars/all/vault.yml", env={"DRC_VAULT_PASSWORD": "wrong"})  # fmt: skip
    assert proc.returncode == 0 and "vault_swift_key" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-e", "NUM_NODES=0"], "NUM_NODES=0"),
        (["-e", "provider=gce"], "provider=gce"),
        (["-e", "NUM_NODES=50"], "max_nodes (20"),
        (["-e", "provider=softlayer"], "credentials missing"),
    ],
)
def test_start_cluster_refuses_what_it_cannot_provision(repo, extra, message):
    proc = run_ansible("ansible-playbook", "playbooks/start_cluster.yml", *extra, timeout=120)
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-2000:]
    assert "CHANGE-ME" not in proc.stdout


def test_a_three_node_cluster_is_rendered_locked_down(tmp_path):
    """The roles' real templates and defaults for a cloud-shaped 3-node inventory: Spark
    demands the cluster's secret and encrypts, no REST server, every daemon and UI on the
    node's private address, HDFS with permissions on and no wildcard address."""
    import re

    secret = "s3cret-for-this-test-only-0123456789abcdef"
    nodes = {"dr-master": "10.9.0.1", "dr-worker-01": "10.9.0.2", "dr-worker-02": "10.9.0.3"}
    hosts = "\n".join(f"{name} ansible_connection=local spark_bind_address={ip}"
                      for name, ip in nodes.items())  # fmt: skip
    inventory = tmp_path / "hosts"
    inventory.write_text(
        f"[spark_master]\ndr-master\n[hdfs_namenode]\ndr-master\n"
        f"[spark_workers]\n{chr(10).join(nodes)}\n[hdfs_datanodes]\n{chr(10).join(nodes)}\n"
        f"[all]\n{hosts}\n"
    )
    out = tmp_path / "rendered"
    proc = run_ansible("ansible-playbook", "tests/support/render_config.yml", inventory=inventory,
                       extra={"render_out": str(out), "vault_spark_auth_secret": secret,
                              "provision_state_root": str(tmp_path / "state")})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert secret not in proc.stdout + proc.stderr
    for name, ip in nodes.items():
        conf = dict(line.split(None, 1) for line in (out / name / "spark-defaults.conf")
                    .read_text().splitlines() if line and not line.startswith("#"))  # fmt: skip
        assert conf["spark.authenticate"] == "true" and conf["spark.authenticate.secret"] == secret
        assert conf["spark.network.crypto.enabled"] == "true"
        assert conf["spark.master.rest.enabled"] == "false"
        assert conf["spark.master"] == "spark://10.9.0.1:7077"
        env = (out / name / "spark-env.sh").read_text()
        assert f"SPARK_LOCAL_IP={ip}\n" in env  # the daemons and their UIs bind here only
        hdfs = dict(re.findall(r"<name>([^<]+)</name><value>([^<]*)</value>",
                               (out / name / "hdfs-site.xml").read_text()))  # fmt: skip
        assert hdfs["dfs.permissions.enabled"] == "true" and hdfs["dfs.replication"] == "3"
        # with 3 replicas a close need not wait for a block report (~0.5 s a file otherwise)
        assert hdfs["dfs.namenode.file.close.num-committed-allowed"] == "1"
        assert hdfs["dfs.namenode.rpc-address"] == "10.9.0.1:8020"
        for key in (
            "dfs.datanode.address",
            "dfs.datanode.http.address",
            "dfs.datanode.ipc.address",
        ):
            assert hdfs[key].split(":")[0] == ip, (key, hdfs[key])
        assert "0.0.0.0" not in (out / name / "hdfs-site.xml").read_text()
        core = (out / name / "core-site.xml").read_text()
        assert "<value>hdfs://10.9.0.1:8020</value>" in core


def test_stop_cluster_refuses_a_named_cluster_without_its_inventory(tmp_path):
    """-e cluster=NAME without -i would stop the default inventory's daemons: refused, in one
    line naming the inventory to use (and nothing else runs)."""
    named = tmp_path / "inventories" / "dr7" / "hosts"
    named.parent.mkdir(parents=True)
    named.write_text("[spark_master]\n")
    proc = run_ansible("ansible-playbook", "playbooks/stop_cluster.yml",
                       extra={"cluster": "dr7", "provider": "local",
                              "provision_inventory_dir": str(tmp_path / "inventories"),
                              "provision_state_root": str(tmp_path / "state")})  # fmt: skip
    assert proc.returncode != 0
    assert f"cluster dr7 has its own inventory: ansible-playbook -i {named}" in proc.stdout
    assert "Stop workers, then master" not in proc.stdout


def test_a_second_make_demo_refuses_while_one_runs(repo):
    """Two demos at once would share one state: the second says so and touches nothing."""
    import fcntl
    import os
    import signal
    import subprocess

    (repo / ".cluster").mkdir(exist_ok=True)
    with open(repo / ".cluster" / ".demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running make demo holds it
        make = subprocess.Popen(["make", "-s", "demo"], cwd=repo, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
        try:
            output, _ = make.communicate(timeout=120)
        finally:
            if make.poll() is None:  # it ran the demo: stop what this test started
                os.killpg(make.pid, signal.SIGKILL)
    assert make.returncode != 0
    assert "another make demo is running" in output and "PLAY" not in output, output
