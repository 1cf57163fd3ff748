"""`drc salt apply`: a provisioned cluster configured and started with Salt instead of Ansible.

Masterless, with salt-ssh from this controller: like Ansible, it needs nothing on a node
but sshd and python3 (salt-ssh ships its own Salt, the "thin", on each run), reads the
same `inventories/NAME/hosts` (the roster is written from it) and keeps the controller the
one place that holds the vault. (`salt-call --local` on each node would need Salt and the
states copied there first, by some other tool.)

The pillar is what the Ansible roles would use on each host, resolved from the same
defaults, inventory and extra vars (jobs.cluster.cluster_vars); the states render the roles'
own templates. The vault's values reach the pillar at run time through an ext_pillar
command that prints them (`python -m jobs.cluster.salt_ssh secrets INVENTORY`): they are
never written to this machine's disk, an argument list or a log.

The run goes phase by phase, like main.yml then hadoop.yml, each a salt-ssh call on the
hosts it concerns, with the playbooks' health gates between them. Every state is
idempotent: a run that failed half-way (a node unreachable, a daemon refusing) is finished
by running the same command again.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jobs.cluster.cluster_vars import REPO, ClusterVars, resolve, resolve_here
from jobs.errors import DrcError

SALT_TREE = REPO / "salt"
# What the states may fetch with salt://: the roles (templates, files) and the project's
# code (a node with its own copy). Links, so the file server never walks .venv or .cluster.
FILE_ROOT_LINKS = ("roles", "jobs", "provision", "pyproject.toml", "requirements.lock",
                   "requirements")  # fmt: skip
# The Jinja settings of Ansible's template module, so that both paths render alike.
JINJA_ENV = {"trim_blocks": True, "lstrip_blocks": False}
APPLY_TIMEOUT_S = 3600.0  # one phase, all hosts: bounds a hung node


@dataclass(frozen=True)
class Phase:
    name: str
    target: str  # "all", or a group whose first host runs it
    states: tuple[str, ...]


PHASES = (
    Phase("configure", "all", ("firewall", "java", "python_env", "spark", "hadoop")),
    Phase("sbt", "spark_master", ("sbt",)),  # the Scala job's jar, where spark-submit runs
    Phase("hdfs", "all", ("hadoop.start",)),
    Phase("hdfs-check", "hdfs_namenode", ("hadoop.check",)),
    Phase("stage", "hdfs_namenode", ("stage_data", "hadoop.put")),
    Phase("spark", "all", ("spark.start",)),
    Phase("spark-check", "spark_master", ("spark.check",)),
    Phase("firewall-check", "all", ("firewall.check",)),
)
RUN_JOBS = Phase("run-jobs", "spark_master", ("run_jobs",))
STOP = (Phase("spark-stop", "all", ("spark.stop",)), Phase("hdfs-stop", "all", ("hadoop.stop",)))


@dataclass
class Outcome:
    """One host's result in one phase."""

    states: int = 0
    changed: int = 0
    failed: list[str] | None = None  # "state id: comment" of each failed state

    def line(self, host: str) -> str:
        failed = len(self.failed or [])
        return f"{host}: {self.states} states, {self.changed} changed, {failed} failed"


def roster(cluster: ClusterVars) -> dict:
    """salt-ssh's roster from the inventory's connection settings."""
    entries = {}
    for host, conn in cluster.connection.items():
        if conn.get("ansible_connection") == "local":
            raise DrcError(
                host,
                "uses ansible_connection=local: salt-ssh reaches nodes "
                "over SSH only (the embedded one-machine inventory is Ansible's)",
            )
        entry = {
            "host": conn.get("ansible_host", host),
            "user": conn.get("ansible_user", "root"),
            "port": int(conn.get("ansible_port", 22)),
            # the node's own disk (namespace test hosts share /var/tmp)
            "thin_dir": f"{cluster.hosts[host]['node_root']}/salt-thin",
            # the system's Python, not a login shell's shims
            "set_path": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ssh_options": [
                "StrictHostKeyChecking=no",
                "UserKnownHostsFile=/dev/null",
                "LogLevel=ERROR",
                "ControlMaster=no",
            ],  # fmt: skip
        }
        if conn.get("ansible_ssh_private_key_file"):
            entry["priv"] = conn["ansible_ssh_private_key_file"]
        entries[host] = entry
    return entries


def master_config(state_dir: Path, inventory: Path, extra_vars: tuple[str, ...]) -> dict:
    secrets_cmd = [sys.executable, "-m", "jobs.cluster.salt_ssh", "secrets", str(inventory)]
    for extra in extra_vars:
        secrets_cmd += ["-e", extra]
    return {
        "root_dir": str(state_dir / "root"),
        "cachedir": str(state_dir / "root" / "cache"),
        "pki_dir": str(state_dir / "root" / "pki"),
        "sock_dir": str(state_dir / "root" / "sock"),
        "log_file": str(state_dir / "salt.log"),
        "ssh_log_file": str(state_dir / "salt-ssh.log"),
        "log_level_logfile": "warning",
        "roster_file": str(state_dir / "roster"),
        "file_roots": {"base": [str(SALT_TREE / "states"), str(state_dir / "files")]},
        "pillar_roots": {"base": [str(SALT_TREE / "pillar"), str(state_dir / "pillar")]},
        "ext_pillar": [{"cmd_json": shlex.join(secrets_cmd)}],
        "minion_data_cache": False,  # no copy of the pillar (secrets) under cachedir
        "ssh_minion_opts": {"jinja_env": JINJA_ENV},
        "state_output": "changes",
    }


def write_config(state_dir: Path, inventory: Path, cluster: ClusterVars,
                 extra_vars: tuple[str, ...]) -> Path:  # fmt: skip
    """salt-ssh's configuration directory for this cluster: master, roster, the resolved
    pillar (no secret) and the file root's links."""
    state_dir = Path(state_dir)
    for sub in ("pillar", "files", "root"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in FILE_ROOT_LINKS:
        link = state_dir / "files" / name
        if not link.is_symlink():
            link.symlink_to(REPO / name)
    pillar = {"hosts": cluster.hosts, "groups": cluster.groups, "hostvars": cluster.hostvars(),
              "managed": cluster.managed}  # fmt: skip
    files = {
        "master": master_config(state_dir, inventory, extra_vars),
        "roster": roster(cluster),
        "pillar/cluster.json": pillar,
    }
    for name, content in files.items():
        partial = state_dir / f"{name}.partial"
        partial.write_text(json.dumps(content, indent=1, sort_keys=True) + "\n")
        os.replace(partial, state_dir / name)
    return state_dir


def _failure(key: str, ret: dict) -> str:
    """A failed state in a few lines: its id, Salt's comment, the end of its stderr."""
    changes = ret.get("changes") if isinstance(ret.get("changes"), dict) else {}
    stderr = str(changes.get("stderr") or "").strip().splitlines()[-3:]
    comment = str(ret.get("comment", "")).strip()
    if len(comment) > 300:
        comment = comment[:150] + " ... " + comment[-150:]
    return f"{ret.get('__id__', key)}: " + " | ".join([comment, *stderr])


def _reason(text: str) -> str:
    """A rendering error's own line (Salt quotes the template around it), else the end."""
    found = re.search(r"Rendering SLS '[^']+' failed: [^\n]*?(?=\\n|\n|$)", text)
    return found.group(0) if found else text.strip()[-600:]


def parse(output: str, hosts: list[str]) -> dict[str, Outcome]:
    """salt-ssh --static --out json: each host's states, or the error it met."""
    try:
        data = json.loads(output) if output.strip() else {}
    except ValueError:
        data = {}
    outcomes = {}
    for host in hosts:
        ret = data.get(host)
        if (
            isinstance(ret, dict)
            and ret
            and all(isinstance(v, dict) and "result" in v for v in ret.values())
        ):
            failed = [_failure(k, v) for k, v in ret.items() if v.get("result") is False]
            changed = sum(1 for v in ret.values() if v.get("changes"))
            outcomes[host] = Outcome(states=len(ret), changed=changed, failed=failed)
        else:
            if isinstance(ret, dict):  # an error: rendering, ssh, the thin
                reason = ret.get("stderr") or ret.get("stdout") or ret.get("_error") or ret
            else:
                reason = ret if ret else "no answer (unreachable, or salt-ssh failed)"
            outcomes[host] = Outcome(failed=[f"salt-ssh: {_reason(str(reason))}"])
    return outcomes


class SaltCluster:
    """One cluster's salt-ssh: its inventory, resolved settings and configuration dir."""

    def __init__(self, inventory: Path, state_dir: Path | None = None,
                 extra_vars: tuple[str, ...] = ()):  # fmt: skip
        self.inventory = Path(inventory).resolve()
        self.extra_vars = tuple(extra_vars)
        self.cluster = resolve(self.inventory, self.extra_vars)
        name = next(iter(self.cluster.hosts.values())).get("cluster_name", "drc")
        self.state_dir = Path(state_dir or REPO / ".cluster" / "salt" / name).resolve()
        write_config(self.state_dir, self.inventory, self.cluster, self.extra_vars)

    def targets(self, phase: Phase) -> list[str]:
        if phase.target == "all":
            return list(self.cluster.hosts)
        return self.cluster.groups[phase.target][:1]

    def salt_ssh(self, hosts: list[str], *args: str) -> subprocess.CompletedProcess:
        salt_ssh = Path(sys.executable).parent / "salt-ssh"
        if not salt_ssh.is_file():
            raise DrcError(salt_ssh, "not installed (salt is pinned in requirements.lock)")
        argv = [str(salt_ssh), "-c", str(self.state_dir), "--no-host-keys", "--static",
                "--out", "json", "--log-level", "quiet", "-L", ",".join(hosts), *args]  # fmt: skip
        try:
            return subprocess.run(argv, cwd=REPO, capture_output=True, text=True,
                                  timeout=APPLY_TIMEOUT_S)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise DrcError(",".join(hosts), f"salt-ssh {args[0]} did not finish in "
                                            f"{APPLY_TIMEOUT_S:.0f} s") from exc  # fmt: skip

    def run_phase(self, phase: Phase, log=print) -> dict[str, Outcome]:
        hosts = self.targets(phase)
        start = time.monotonic()
        proc = self.salt_ssh(hosts, "state.apply", ",".join(phase.states))
        outcomes = parse(proc.stdout, hosts)
        seconds = time.monotonic() - start
        for host in hosts:
            log(f"{phase.name}: {outcomes[host].line(host)} ({seconds:.1f} s)")
        failed = {h: o.failed for h, o in outcomes.items() if o.failed}
        if failed:
            lines = [f"  {host}: {each}" for host, errors in failed.items() for each in errors]
            raise DrcError(f"salt {phase.name}", f"failed on {', '.join(failed)}; run the same "
                           f"command again to finish (every state is idempotent):\n"
                           + "\n".join(lines))  # fmt: skip
        return outcomes

    def apply(self, phases=PHASES, log=print) -> dict:
        """Run the phases in order; the totals of states and changes, and the time."""
        start = time.monotonic()
        totals = {"states": 0, "changed": 0}
        for phase in phases:
            for outcome in self.run_phase(phase, log).values():
                totals["states"] += outcome.states
                totals["changed"] += outcome.changed
        totals["seconds"] = round(time.monotonic() - start, 1)
        return totals


def print_secrets(inventory: str, extra_vars: tuple[str, ...]) -> None:
    """The ext_pillar's command: the vault's part of each host's pillar, on stdout only."""
    cluster = resolve_here(Path(inventory), extra_vars)  # already a process of its own
    json.dump({"drc_secrets_by_host": cluster.secrets}, sys.stdout)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m jobs.cluster.salt_ssh")
    parser.add_argument("command", choices=["secrets"])
    parser.add_argument("inventory")
    parser.add_argument("-e", dest="extra_vars", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        print_secrets(args.inventory, tuple(args.extra_vars))
    except DrcError as exc:
        print(f"salt secrets: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
