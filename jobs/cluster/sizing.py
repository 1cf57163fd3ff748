"""Executor sizing for a Spark cluster: flags for spark-submit, and the reasons.

Rules (the usual ones, stated so they can be argued with):
- each node keeps 1 core and 1 GB (plus 10 % of RAM above 8 GB) for the OS and daemons;
- up to 5 cores per executor: more makes one JVM's heap and GC the bottleneck, fewer
  wastes memory on per-executor overhead and broadcast copies;
- memory overhead max(384 MB, 10 %), plus room for the Python workers of PySpark jobs;
- YARN runs the application master in one executor slot, standalone does not;
- shuffle partitions: 3 tasks per core, more when the data is big (~128 MB a task).
"""

import math
from dataclasses import dataclass

MIN_OVERHEAD_MB = 384
MAX_EXECUTOR_CORES = 5


@dataclass(frozen=True)
class Sizing:
    manager: str
    executors: int
    executor_cores: int
    executor_memory_mb: int
    overhead_mb: int
    driver_memory_mb: int
    shuffle_partitions: int
    reasons: tuple[str, ...]

    def flags(self) -> str:
        parts = [
            f"--num-executors {self.executors}" if self.manager == "yarn"
            else f"--total-executor-cores {self.executors * self.executor_cores}",
            f"--executor-cores {self.executor_cores}",
            f"--executor-memory {self.executor_memory_mb}m",
            f"--conf spark.executor.memoryOverhead={self.overhead_mb}m",
            f"--driver-memory {self.driver_memory_mb}m",
            f"--conf spark.sql.shuffle.partitions={self.shuffle_partitions}",
        ]  # fmt: skip
        return " ".join(parts)


def seed_rule_executors(nodes: int, cores: int) -> int:
    """The 2015 team's rule of thumb: floor(N*M/(N-1)) - 1 executors."""
    return math.floor(nodes * cores / (nodes - 1)) - 1 if nodes > 1 else cores - 1


def size_cluster(
    nodes: int, cores: int, ram_gb: float, data_gb: float = 0.0, manager: str = "standalone",
    python_mb: int = 1024,
) -> Sizing:  # fmt: skip
    if nodes < 1 or cores < 1 or ram_gb <= 0:
        raise ValueError("nodes, cores and RAM must be positive")
    if manager not in ("standalone", "yarn"):
        raise ValueError(f"unknown cluster manager {manager!r} (standalone, yarn)")
    reserved_gb = 1 + max(0.0, 0.1 * (ram_gb - 8))
    usable_cores = max(1, cores - 1) if cores > 1 else 1
    usable_mb = int((ram_gb - reserved_gb) * 1024)
    if usable_mb < 1024:
        raise ValueError(f"{ram_gb} GB per node leaves under 1 GB for Spark")
    reasons = [f"{nodes} node(s) x {cores} cores x {ram_gb:g} GB; keep 1 core and "
               f"{reserved_gb:.1f} GB per node for the OS and daemons"]  # fmt: skip

    per_node = max(1, math.ceil(usable_cores / MAX_EXECUTOR_CORES))
    executor_cores = usable_cores // per_node
    # each executor's share of the node, minus overhead and its Python workers
    share_mb = usable_mb // per_node
    overhead = max(MIN_OVERHEAD_MB, int(0.1 * share_mb)) + min(python_mb, share_mb // 4)
    heap = share_mb - overhead
    if heap < 512:
        per_node, executor_cores = 1, usable_cores
        share_mb = usable_mb
        overhead = max(MIN_OVERHEAD_MB, int(0.1 * share_mb)) + min(python_mb, share_mb // 4)
        heap = share_mb - overhead
    idle = usable_cores - per_node * executor_cores
    reasons.append(f"{per_node} executor(s) per node with {executor_cores} cores: at most "
                   f"{MAX_EXECUTOR_CORES} cores per JVM"
                   + (f"; {idle} core(s) per node stay idle" if idle else ""))  # fmt: skip
    reasons.append(f"{share_mb} MB per executor = heap {heap} MB + overhead {overhead} MB "
                   f"(max(384 MB, 10 %) + Python workers)")  # fmt: skip

    executors = per_node * nodes
    driver_mb = min(4096, max(1024, usable_mb // 4))
    if manager == "yarn":
        executors = max(1, executors - 1)
        reasons.append("YARN: one executor slot goes to the application master")
    else:
        reasons.append(f"standalone, client mode: the driver ({driver_mb} MB) runs on the "
                       "submitting node, outside the workers' memory")  # fmt: skip
    total_cores = executors * executor_cores
    partitions = max(3 * total_cores, math.ceil(data_gb * 1024 / 128))
    reasons.append(
        f"{partitions} shuffle partitions: 3 per core"
        + (f", and ~128 MB each for {data_gb:g} GB" if data_gb else "")
    )
    if data_gb:
        storage_gb = executors * heap * 0.6 * 0.5 / 1024
        verdict = "fits" if data_gb <= storage_gb else "does not fit: it will spill to disk"
        reasons.append(f"cached data {data_gb:g} GB vs ~{storage_gb:.1f} GB storage memory: "
                       f"{verdict}")  # fmt: skip
    return Sizing(manager, executors, executor_cores, heap, overhead, driver_mb, partitions,
                  tuple(reasons))  # fmt: skip
