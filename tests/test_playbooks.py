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
