"""Provider-agnostic cluster life cycle: launch (create, grow, shrink), wait, destroy.

Every per-node step runs in parallel and the first failure is re-raised only after all
steps have finished, so we always know what exists. Nodes made by a run that then fails
are released unless the cluster still reaches `min_nodes`: nothing is left billed silently.
"""

import sys
import time
from dataclasses import dataclass

from provision.errors import ProvisionError
from provision.model import MASTER, Node, NodeSpec, check_cluster_name, node_names
from provision.parallel import run_parallel
from provision.providers.base import Provider


@dataclass
class LaunchResult:
    nodes: list[Node]
    created: list[str]
    removed: list[str]
    failed: list[str]
    seconds: float


def log(message: str) -> None:
    print(f"provision: {message}", file=sys.stderr, flush=True)


def _sort(nodes: list[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (n.role != MASTER, n.name))


def launch(
    provider: Provider,
    cluster: str,
    count: int,
    spec: NodeSpec,
    *,
    min_nodes: int | None = None,
    confirm_shrink: bool = False,
    timeout_s: float = 1800,
) -> LaunchResult:
    start = time.monotonic()
    check_cluster_name(cluster)
    if count < 1:
        raise ProvisionError("NUM_NODES", f"{count}: a cluster needs at least 1 node (the master)")
    min_nodes = count if min_nodes is None else min_nodes
    if not 1 <= min_nodes <= count:
        raise ProvisionError("min_nodes", f"{min_nodes} must lie in 1..NUM_NODES ({count})")
    provider.prepare(cluster)
    existing = {n.name: n for n in provider.list(cluster)}
    wanted = node_names(cluster, count)
    wanted_names = {name for name, _ in wanted}
    surplus = sorted(set(existing) - wanted_names)
    if surplus and not confirm_shrink:
        raise ProvisionError(cluster, f"has {len(existing)} nodes, NUM_NODES={count} would remove "
                                f"{', '.join(surplus)}: add -e confirm_shrink=true")  # fmt: skip
    removed = []
    if surplus:
        log(f"removing {len(surplus)} surplus workers: {', '.join(surplus)}")
        _, errors = run_parallel(provider.destroy, [existing.pop(n) for n in surplus])
        if errors:
            raise errors[0]
        removed = surplus

    missing = [(name, role) for name, role in wanted if name not in existing]
    if missing:
        log(f"creating {len(missing)} nodes on {provider.name}: {', '.join(n for n, _ in missing)}")
    made, create_errors = run_parallel(lambda nr: provider.create(cluster, nr[0], nr[1], spec),
                                       missing)  # fmt: skip
    # Every node, old and new, must answer before the cluster is usable.
    candidates = list(existing.values()) + made
    ready, wait_errors = run_parallel(lambda n: provider.wait_ready(n, timeout_s), candidates)
    ready_names = {n.name for n in ready}
    failures = [n for n in candidates if n.name not in ready_names]
    errors = create_errors + wait_errors
    master_ok = any(n.role == MASTER for n in ready)
    if errors and (len(ready) < min_nodes or not master_ok):
        new_names = {n.name for n in made}
        log(f"{len(ready)}/{count} nodes ready (min_nodes={min_nodes}): releasing the "
            f"{len(made)} nodes this run created")  # fmt: skip
        _, cleanup_errors = run_parallel(provider.destroy, made)
        for exc in cleanup_errors:
            log(f"CLEANUP FAILED, release by hand: {exc}")
        raise ProvisionError(cluster, f"launch failed ({len(new_names)} created and released): "
                                f"{errors[0]}") from errors[0]  # fmt: skip
    if failures:
        log(f"continuing with {len(ready)}/{count} nodes (min_nodes={min_nodes}); releasing "
            f"{', '.join(n.name for n in failures)}")  # fmt: skip
        run_parallel(provider.destroy, failures)
    return LaunchResult(
        nodes=_sort(ready),
        created=[n.name for n in made if n.name in ready_names],
        removed=removed,
        failed=[n.name for n in failures],
        seconds=time.monotonic() - start,
    )


def destroy(provider: Provider, cluster: str) -> list[str]:
    check_cluster_name(cluster)
    nodes = provider.list(cluster)
    _, errors = run_parallel(provider.destroy, nodes)
    if errors:
        raise ProvisionError(cluster, f"could not release every node: {errors[0]}") from errors[0]
    provider.finish_destroy(cluster)
    return [n.name for n in nodes]
