"""The Ansible side parses, and no secret lies in git in clear."""

import os
import subprocess

import pytest

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
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"))
    proc = subprocess.run(
        [str(repo / ".venv/bin/ansible-playbook"), "--syntax-check", f"playbooks/{playbook}"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vault_is_encrypted_and_opens_with_the_example_password(repo):
    vault = repo / "group_vars/all/vault.yml"
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"))
    env.pop("DRC_VAULT_PASSWORD", None)
    proc = subprocess.run(
        [str(repo / ".venv/bin/ansible-vault"), "view", str(vault)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "vault_softlayer_api_key" in proc.stdout


def test_vault_password_file_option_works(repo, tmp_path):
    password = tmp_path / "pass"
    password.write_text("dr-cluster-example\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"), DRC_VAULT_PASSWORD="wrong")
    proc = subprocess.run(
        [str(repo / ".venv/bin/ansible-vault"), "view", "--vault-password-file", str(password),
         "group_vars/all/vault.yml"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
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
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"))
    proc = subprocess.run(
        [str(repo / ".venv/bin/ansible-playbook"), "playbooks/start_cluster.yml", *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-2000:]
    assert "CHANGE-ME" not in proc.stdout
