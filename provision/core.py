"""Provider-agnostic cluster life cycle: launch (create, grow, shrink), wait, destroy.

Every per-node step runs in parallel and the first failure is re-raised only after all
steps have finished, so we always know what exists. Nodes made by a run that then fails
are released unless the cluster still reaches `min_nodes`: nothing is left billed silently.
Every error is logged, and what could not be released is named (the node, and the command
that releases it); a cluster left without nodes loses its cluster-wide resources too.
"""

import sys
import time
from dataclasses import dataclass, field

from provision.errors import ProvisionError
from provision.model import MASTER, Node, NodeSpec, check_cluster_name, node_names
from provision.parallel import run_parallel
from provision.providers.base import Provider


@dataclass
class LaunchResult:
    nodes: list[Node]
    created: list[str]
    removed: list[str]
    failed: list[str]  # wanted but not in the cluster: not created, or released
    seconds: float
    unreleased: list[str] = field(default_factory=list)  # released by nobody: see the log
    replaced: list[str] = field(default_factory=list)  # lost (no answer), released, made anew


def log(message: str) -> None:
    print(f"provision: {message}", file=sys.stderr, flush=True)


def _sort(nodes: list[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (n.role != MASTER, n.name))


def _release(provider: Provider, cluster: str, nodes: list[Node]) -> list[str]:
    """Release nodes in parallel; every failure logged with what to do. The names left."""
    results = run_parallel(lambda n: (n.name, _try(provider.destroy, n)), nodes)[0]
    left = [name for name, error in results if error is not None]
    for name, error in results:
        if error is not None:
            log(f"CLEANUP FAILED for {name}, release it by hand (python -m provision down "
                f"--provider {provider.name} --cluster {cluster}): {error}")  # fmt: skip
    return left


def _release_or_raise(provider: Provider, cluster: str, existing: dict[str, Node],
                      names: list[str]) -> list[str]:  # fmt: skip
    """Release NAMES (taken out of EXISTING); NAMES, or ProvisionError naming those left."""
    left = _release(provider, cluster, [existing.pop(n) for n in names])
    if left:
        raise ProvisionError(cluster, f"could not release {', '.join(left)} (see above)")
    return names


def _try(fn, *args) -> Exception | None:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        return exc
    return None


def _abandon(provider: Provider, cluster: str) -> None:
    """A cluster with no node left gives back what it held as a whole (a security group,
    a key): as down would."""
    try:
        if not provider.list(cluster):
            provider.finish_destroy(cluster)
    except Exception as exc:  # noqa: BLE001 - the launch's own error is the one raised
        log(f"CLEANUP FAILED for {cluster}'s cluster-wide resources, run python -m provision "
            f"down --provider {provider.name} --cluster {cluster}: {exc}")  # fmt: skip


def launch(
    provider: Provider,
    cluster: str,
    count: int,
    spec: NodeSpec,
    *,
    min_nodes: int | None = None,
    confirm_shrink: bool = False,
    replace_lost: bool = False,
    lost_after_s: float = 60,
    timeout_s: float = 1800,
) -> LaunchResult:
    start = time.monotonic()
    check_cluster_name(cluster)
    if count < 1:
        raise ProvisionError("NUM_NODES", f"{count}: a cluster needs at least 1 node (the master)")
    min_nodes = count if min_nodes is None else min_nodes
    if not 1 <= min_nodes <= count:
        raise ProvisionError("min_nodes", f"{min_nodes} must lie in 1..NUM_NODES ({count})")
    try:
        provider.prepare(cluster)
    except Exception:
        _abandon(provider, cluster)
        raise
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
        removed = _release_or_raise(provider, cluster, existing, surplus)

    replaced = []
    if replace_lost and existing:
        # A node of the cluster that no longer answers (a VM gone whole) is released and
        # made again under its name: the playbooks then join it to the running cluster.
        answered, silent = run_parallel(lambda n: provider.wait_ready(n, lost_after_s),
                                        list(existing.values()))  # fmt: skip
        lost = sorted(set(existing) - {n.name for n in answered})
        for error in silent:
            log(f"no answer: {error}")
        # Never the master (a new one would start an empty HDFS: restore_namenode.yml first),
        # nor more than half the cluster (more likely this side's key or network than lost VMs).
        if any(existing[n].role == MASTER for n in lost) or 2 * len(lost) > len(existing):
            raise ProvisionError(cluster, f"{', '.join(lost)} of {len(existing)} nodes do not "
                                 "answer: not replacing the master or most of the cluster; "
                                 "check the key and network, or release them by hand")  # fmt: skip
        if lost:
            log(f"{', '.join(lost)} did not answer within {lost_after_s:.0f} s: replacing them")
            replaced = _release_or_raise(provider, cluster, existing, lost)

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
    for error in errors:
        log(f"FAILED: {error}")
    master_ok = any(n.role == MASTER for n in ready)
    if errors and (len(ready) < min_nodes or not master_ok):
        log(f"{len(ready)}/{count} nodes ready (min_nodes={min_nodes}): releasing the "
            f"{len(made)} nodes this run created")  # fmt: skip
        left = _release(provider, cluster, made)
        _abandon(provider, cluster)
        kept = f"; NOT released: {', '.join(left)}" if left else ""
        summary = f"{len(made)} created, {len(made) - len(left)} released{kept}"
        raise ProvisionError(
            cluster, f"launch failed ({summary}; {len(errors)} errors, the first: {errors[0]})"
        ) from errors[0]
    left = []
    if failures:
        log(f"continuing with {len(ready)}/{count} nodes (min_nodes={min_nodes}); releasing "
            f"{', '.join(n.name for n in failures)}")  # fmt: skip
        left = _release(provider, cluster, failures)
    return LaunchResult(
        nodes=_sort(ready),
        created=[n.name for n in made if n.name in ready_names],
        removed=removed,
        failed=sorted(wanted_names - ready_names),
        seconds=time.monotonic() - start,
        unreleased=left,
        replaced=[n for n in replaced if n in ready_names],
    )


def destroy(provider: Provider, cluster: str) -> list[str]:
    check_cluster_name(cluster)
    nodes = provider.list(cluster)
    left = _release(provider, cluster, nodes)
    if left:
        raise ProvisionError(cluster, f"could not release {', '.join(left)} (see above)")
    provider.finish_destroy(cluster)
    return [n.name for n in nodes]
