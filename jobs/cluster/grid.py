"""The 2015 performance grid on the current cluster: LR time over executor settings.

Runs `train-lr` once per (executor cores, executor memory) setting, writes the seed's CSV
columns, and draws time against the number of executors with the seed's measurements of
the same image size beside it (the seed's clusters were 3-7 nodes; shapes that match
this cluster's node count are drawn in colour, the rest in grey for scale).
"""

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

SEED_COLUMNS = ["Image Size", "Data Size (GB)", "Nodes", "Cores", "RAM (GB)", "Num. executors",
                "Executor RAM (GB)", "Executor cores", "Time (min)"]  # fmt: skip
OOM_MARKERS = ("OutOfMemoryError", "out of memory", "Container killed", "exit code 137")


@dataclass(frozen=True)
class GridPoint:
    executor_cores: int
    executor_memory_gb: int
    executors: int


def grid_points(total_cores: int, cores: list[int], memory_gb: list[int]) -> list[GridPoint]:
    return [
        GridPoint(c, m, total_cores // c)
        for c, m in itertools.product(cores, memory_gb)
        if c <= total_cores
    ]


def spark_conf(point: GridPoint) -> tuple[str, ...]:
    return (f"spark.executor.cores={point.executor_cores}",
            f"spark.cores.max={point.executors * point.executor_cores}",
            f"spark.executor.memory={point.executor_memory_gb}g")  # fmt: skip


def is_oom(log_text: str) -> bool:
    return any(marker in log_text for marker in OOM_MARKERS)


def row(size: int, data_gb: float, nodes: int, cores: int, ram_gb: float, point: GridPoint,
        minutes: float | None) -> dict:  # fmt: skip
    return dict(zip(SEED_COLUMNS, [f"{size}x{size}", round(data_gb, 2), nodes, cores, ram_gb,
                                   point.executors, point.executor_memory_gb,
                                   point.executor_cores,
                                   "out of memory" if minutes is None else round(minutes, 2)],
                    strict=True))  # fmt: skip


def read_seed(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SEED_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _minutes(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def plot(ours: list[dict], seed: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = ours[0]["Image Size"]
    nodes = float(ours[0]["Nodes"])
    fig, ax = plt.subplots(figsize=(8, 5))
    shapes: dict[tuple, list[dict]] = {}
    for r in seed:
        if r["Image Size"] == size:
            shapes.setdefault((float(r["Nodes"]), float(r["Cores"]), float(r["RAM (GB)"])),
                              []).append(r)  # fmt: skip
    top = max([_minutes(r["Time (min)"]) or 0 for r in seed if r["Image Size"] == size] + [1])
    for (n, c, ram), rows in sorted(shapes.items()):
        rows = sorted(rows, key=lambda r: float(r["Num. executors"]))
        xs = [float(r["Num. executors"]) for r in rows if _minutes(r["Time (min)"]) is not None]
        ys = [_minutes(r["Time (min)"]) for r in rows if _minutes(r["Time (min)"]) is not None]
        match = n == nodes
        ax.plot(
            xs,
            ys,
            "o-" if match else ".-",
            color=None if match else "0.75",
            lw=1,
            label=f"2015: {n:g} nodes x {c:g} cores x {ram:g} GB" if match else None,
        )
        oom = [float(r["Num. executors"]) for r in rows if _minutes(r["Time (min)"]) is None]
        ax.plot(oom, [top * 1.1] * len(oom), "x", color="0.5")
    mem_values = sorted({r["Executor RAM (GB)"] for r in ours})
    for mem in mem_values:
        rows = sorted((r for r in ours if r["Executor RAM (GB)"] == mem),
                      key=lambda r: r["Num. executors"])  # fmt: skip
        ok = [r for r in rows if _minutes(r["Time (min)"]) is not None]
        ax.plot([r["Num. executors"] for r in ok], [_minutes(r["Time (min)"]) for r in ok],
                "s-", lw=2, label=f"dr-cluster: {nodes:g} node x {ours[0]['Cores']} cores, "
                                  f"{mem} GB executors")  # fmt: skip
        bad = [r for r in rows if _minutes(r["Time (min)"]) is None]
        ax.plot([r["Num. executors"] for r in bad], [top * 1.1] * len(bad), "rx", ms=10)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("executors")
    ax.set_ylabel("LR time, load to kappa (min)")
    ax.set_title(f"Logistic regression {size}: time against executors (x = out of memory; "
                 "grey = 2015 shapes)", fontsize=9)  # fmt: skip
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
