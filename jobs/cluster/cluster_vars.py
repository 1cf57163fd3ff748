"""Each host's settings as the Ansible roles see them, for Salt's pillar: the same inventory,
group_vars, role defaults and vault, resolved by Ansible's own variable engine on the
controller (nothing runs on a node), so the two configuration paths cannot drift apart.

Secrets (the vault's values and what is made of them) are kept apart: `resolve` returns
them separately, never in the settings that are written to disk.
"""

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jobs.errors import DrcError

REPO = Path(__file__).resolve().parents[2]
VAULT_PASSWORD = REPO / "provision" / "vault_password.sh"
# The roles whose settings the Salt states read (their defaults and vars).
ROLES = ("firewall", "java", "python_env", "spark", "hadoop", "sbt", "stage_data", "run_jobs")
# Settings made of vault values: only in the secret part of the pillar.
SECRET_VARS = frozenset({
    "spark_auth_secret",
    "stage_data_swift_user",
    "stage_data_swift_key",
    "stage_data_s3_access_key_id",
    "stage_data_s3_secret_access_key",
})  # fmt: skip
# Ansible's connection settings and the vault's raw values: nothing a node's files read.
_SKIP_PREFIXES = ("ansible_", "vault_")
# The hosts' own addresses, the only other-host settings the templates read.
_HOSTVARS = ("spark_bind_address",)


@dataclass(frozen=True)
class ClusterVars:
    hosts: dict[str, dict]  # host -> its resolved settings (no secret)
    secrets: dict[str, dict]  # host -> its secret settings
    groups: dict[str, list[str]]  # spark_master, spark_workers, hdfs_namenode, hdfs_datanodes
    connection: dict[str, dict]  # host -> ansible_host, ansible_user, key file, ssh args
    managed: str  # the `ansible_managed` line both paths write at the top of each file

    def hostvars(self) -> dict[str, dict]:
        return {h: {k: v[k] for k in _HOSTVARS if k in v} for h, v in self.hosts.items()}


@functools.cache
def _setup() -> list:
    """Ansible's plugins and the vault's secrets (the project's password script), once per
    process: Ansible allows one vault context."""
    from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader()
    return CLI.setup_vault_secrets(DataLoader(), vault_ids=[], ask_vault_pass=False,
                                   vault_password_files=[str(VAULT_PASSWORD)])  # fmt: skip


def _ansible(extra_vars: tuple[str, ...]):
    """Ansible's loader, with the vault's secrets and these extra vars."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    os.environ.setdefault("ANSIBLE_DEPRECATION_WARNINGS", "false")
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict
    from ansible.parsing.dataloader import DataLoader

    context.CLIARGS = ImmutableDict(vault_password_files=[str(VAULT_PASSWORD)], vault_ids=[],
                                    ask_vault_pass=False, extra_vars=extra_vars)  # fmt: skip
    from ansible.utils import vars as ansible_vars

    secrets = _setup()
    ansible_vars.load_extra_vars.extra_vars = None  # Ansible keeps the first call's
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    loader.set_basedir(str(REPO / "playbooks"))  # playbook_dir, as for the playbooks
    return loader


@functools.cache
def _setting_names() -> frozenset[str]:
    """What a node's configuration may read: the cluster settings (group_vars/all/main.yml;
    not cluster.yml, the provisioner's, whose credentials stay on the controller) and the
    roles' defaults and vars (with what the inventory sets for a host: `_names`)."""
    import yaml

    files = [REPO / "group_vars" / "all" / "main.yml"]
    for role in ROLES:
        files += [REPO / "roles" / role / part / "main.yml" for part in ("defaults", "vars")]
    names = set()
    for path in files:
        if path.is_file():
            names.update(yaml.safe_load(path.read_text()) or {})
    return frozenset(names)


def _names(host) -> set[str]:
    names = _setting_names() | set(host.get_vars())
    return {n for n in names if not n.startswith(_SKIP_PREFIXES)}


def _plain(value):
    """Ansible's tagged values as plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return str(value)


def resolve(inventory: Path, extra_vars: tuple[str, ...] = ()) -> ClusterVars:
    """Every host's settings: group_vars, role defaults and vars, inventory, extra vars
    (`-e` syntax: "k=v", JSON or "@file"), with Ansible's precedence and templating.
    Ansible runs in a child process (its JSON on a pipe): importing it patches this
    interpreter (sys.intern) in a way torch's compiler then refuses."""
    argv = [sys.executable, "-m", "jobs.cluster.cluster_vars", str(inventory)]
    for extra in extra_vars:
        argv += ["-e", extra]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no output"]
        raise DrcError("salt pillar", lines[-1])
    return ClusterVars(**json.loads(proc.stdout))


def resolve_here(inventory: Path, extra_vars: tuple[str, ...] = ()) -> ClusterVars:
    """`resolve` in this process (Ansible imported here)."""
    inventory = Path(inventory).resolve()
    if not inventory.is_file():
        raise DrcError(inventory, "no such inventory")
    cwd = os.getcwd()
    os.chdir(REPO)  # roles_path and vault script are relative to the project
    try:
        loader = _ansible(tuple(extra_vars))
        from ansible.errors import AnsibleError
        from ansible.inventory.manager import InventoryManager
        from ansible.playbook.play import Play
        from ansible.template import Templar
        from ansible.vars.hostvars import HostVars
        from ansible.vars.manager import VariableManager

        inv = InventoryManager(loader=loader, sources=[str(inventory)])
        manager = VariableManager(loader=loader, inventory=inv)
        manager._hostvars = HostVars(inventory=inv, variable_manager=manager, loader=loader)
        play = Play.load({"hosts": "all", "gather_facts": False, "roles": list(ROLES)},
                         variable_manager=manager, loader=loader)  # fmt: skip
        groups = {g: [h.name for h in inv.groups[g].get_hosts()] for g in
                  ("spark_master", "spark_workers", "hdfs_namenode", "hdfs_datanodes")
                  if g in inv.groups}  # fmt: skip
        hosts, secrets, connection = {}, {}, {}
        for host in inv.get_hosts():
            variables = manager.get_vars(play=play, host=host)
            templar = Templar(loader=loader, variables=variables)
            own, hidden = {}, {}
            for name in sorted(_names(host) & set(variables)):
                try:
                    value = _plain(templar.template(variables[name]))
                except AnsibleError as exc:
                    raise DrcError(f"{inventory} {host.name}", f"{name}: {exc.message}") from exc
                (hidden if name in SECRET_VARS else own)[name] = value
            own["inventory_hostname"] = host.name
            hosts[host.name], secrets[host.name] = own, hidden
            connection[host.name] = {
                key: _plain(templar.template(variables[key]))
                for key in ("ansible_host", "ansible_user", "ansible_connection",
                            "ansible_ssh_private_key_file", "ansible_port")
                if key in variables
            }  # fmt: skip
    finally:
        os.chdir(cwd)
    missing = [g for g in ("spark_master", "spark_workers", "hdfs_namenode", "hdfs_datanodes")
               if not groups.get(g)]  # fmt: skip
    if missing:
        raise DrcError(inventory, f"no host in group(s) {', '.join(missing)}")
    from ansible import constants

    return ClusterVars(hosts=hosts, secrets=secrets, groups=groups, connection=connection,
                       managed=str(constants.DEFAULT_MANAGED_STR))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """python -m jobs.cluster.cluster_vars INVENTORY [-e VARS]...: the JSON on stdout."""
    import argparse
    import dataclasses

    parser = argparse.ArgumentParser(prog="python -m jobs.cluster.cluster_vars")
    parser.add_argument("inventory")
    parser.add_argument("-e", dest="extra_vars", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        cluster = resolve_here(Path(args.inventory), tuple(args.extra_vars))
    except DrcError as exc:
        print(exc, file=sys.stderr)
        return 2
    json.dump(dataclasses.asdict(cluster), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
