"""`python -m provision up|down|list`: what start_cluster.yml and stop_cluster.yml run."""

import argparse
import json
import sys
from pathlib import Path

from provision import core, inventory
from provision.errors import ProvisionError
from provision.model import NodeSpec
from provision.providers import PROVIDERS, REPO, get_provider, keys


def inventory_path(args) -> Path:
    return Path(args.inventory_dir) / args.cluster / "hosts"


def load_spec(args) -> NodeSpec:
    """--spec, or the one start_cluster.yml kept beside the inventory (down and list need
    its region and keys; "." is where clusters launched before #29 have it), or defaults."""
    kept = [inventory_path(args).parent / where / "spec.json" for where in (keys.KEY_DIR, ".")]
    path = (
        Path(args.spec)
        if getattr(args, "spec", None)
        else next((p for p in kept if p.is_file()), kept[0])
    )
    return NodeSpec.from_dict(json.loads(path.read_text()) if path.is_file() else {})


def cmd_up(args, provider) -> int:
    spec = load_spec(args)
    try:
        result = core.launch(provider, args.cluster, args.nodes, spec, min_nodes=args.min_nodes,
                             confirm_shrink=args.confirm_shrink,
                             replace_lost=args.replace_lost,
                             lost_after_s=args.lost_after)  # fmt: skip
    except KeyboardInterrupt:
        left = [n.name for n in provider.list(args.cluster)]
        core.log(f"interrupted; nodes tagged {args.cluster}: {', '.join(left) or 'none'}. "
                 f"Release them with: python -m provision down --provider {provider.name} "
                 f"--cluster {args.cluster}")  # fmt: skip
        return 130
    text = inventory.render(
        args.cluster,
        provider.name,
        result.nodes,
        provider.ssh_key(args.cluster),
        {n.name: provider.host_vars(args.cluster, n) for n in result.nodes},
        provider.group_vars(args.cluster),
        cnn_nodes=args.cnn_nodes,
    )
    path = inventory.write(inventory_path(args), text, REPO / "group_vars")
    summary = {
        "cluster": args.cluster,
        "provider": provider.name,
        "nodes": [n.name for n in result.nodes],
        "created": result.created,
        "removed": result.removed,
        "replaced": result.replaced,
        "failed": result.failed,
        "unreleased": result.unreleased,
        "inventory": str(path),
        "seconds": round(result.seconds, 1),
    }
    print(json.dumps(summary))
    return 0


def cmd_down(args, provider) -> int:
    released = core.destroy(provider, args.cluster)
    inventory.remove(inventory_path(args).parent)
    print(json.dumps({"cluster": args.cluster, "released": released}))
    return 0


def cmd_list(args, provider) -> int:
    for node in provider.list(args.cluster):
        print(f"{node.name}\t{node.role}\t{node.public_ip}\t{node.private_ip}\t{node.id}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m provision", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("up", cmd_up), ("down", cmd_down), ("list", cmd_list)):
        p = sub.add_parser(name)
        p.add_argument("--provider", choices=sorted(PROVIDERS), default="local")
        p.add_argument("--cluster", default="drc")
        p.add_argument("--inventory-dir", default=str(REPO / "inventories"))
        p.add_argument("--state-root", help="local provider: where keys and node state live")
        p.set_defaults(func=func)
        if name == "up":
            p.add_argument("--nodes", type=int, required=True, help="NUM_NODES: master + workers")
            p.add_argument("--min-nodes", type=int, help="accept a partial cluster this large")
            p.add_argument("--confirm-shrink", action="store_true")
            p.add_argument("--replace-lost", action="store_true",
                           help="release and make again the nodes that do not answer")  # fmt: skip
            p.add_argument("--lost-after", type=float, default=60,
                           help="seconds without an answer that make a node lost")  # fmt: skip
            p.add_argument("--spec", help="JSON file of node shape (cores, ram_gb, disks_gb ...)")
            p.add_argument(
                "--cnn-nodes",
                choices=inventory.CNN_NODES,
                default="all",
                help="which nodes get torch and train the CNN (cnn_workers)",
            )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        provider = get_provider(args.provider, state_root=args.state_root, spec=load_spec(args),
                                cluster_dir=inventory_path(args).parent)  # fmt: skip
        return args.func(args, provider)
    except ProvisionError as exc:
        print(f"provision: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
