"""drc salt apply|stop: a provisioned cluster configured and started (or stopped) with Salt,
the seed's second configuration system, instead of the Ansible playbooks."""

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def inventory_path(arg: str, repo: Path = REPO) -> Path:
    """An inventory file, or a cluster's name: its inventories/NAME/hosts."""
    named = repo / "inventories" / arg / "hosts"
    if not Path(arg).is_file() and "/" not in arg and named.is_file():
        return named
    return Path(arg)


def cmd_salt(args: argparse.Namespace) -> int:
    from jobs.cluster.salt_ssh import PHASES, RUN_JOBS, STOP, SaltCluster

    state_dir = args.state_dir and Path(args.state_dir)
    cluster = SaltCluster(inventory_path(args.inventory), state_dir, tuple(args.extra_vars))
    if args.action == "stop":
        phases = STOP
    else:
        phases = (*PHASES, RUN_JOBS) if args.run_jobs else PHASES
    totals = cluster.apply(phases)
    print(f"salt {args.action}: {totals['states']} states, {totals['changed']} changed, "
          f"0 failed in {totals['seconds']:.1f} s")  # fmt: skip
    return 0


def register(sub) -> None:
    salt = sub.add_parser("salt", help="configure and start (or stop) a cluster with Salt")
    salt_sub = salt.add_subparsers(dest="action", required=True)
    apply = salt_sub.add_parser(
        "apply", help="java, venv, Spark, HDFS, data: configured, started, gated (salt-ssh)"
    )
    apply.add_argument("--run-jobs", action="store_true",
                       help="then drc pipeline on the master node, as run_jobs.yml")  # fmt: skip
    salt_sub.add_parser("stop", help="stop the Spark and HDFS daemons of every node")
    for p in salt_sub.choices.values():
        p.add_argument("inventory", help="inventories/NAME/hosts (start_cluster.yml's), or NAME")
        p.add_argument(
            "-e",
            "--extra-vars",
            dest="extra_vars",
            action="append",
            default=[],
            metavar="VARS",
            help="as ansible-playbook's -e: KEY=VALUE, JSON or @FILE",
        )
        p.add_argument("--state-dir", help="salt-ssh's config (default .cluster/salt/CLUSTER)")
        p.set_defaults(func=cmd_salt)
