"""`drc train-lr` on the controller: submit the Python app or the Scala job for an LRConfig."""

from pathlib import Path

from jobs.cluster import scala_build
from jobs.cluster.submit import ClusterTarget, submit_app
from jobs.dataset import layout
from jobs.lr.config import LRConfig


def scala_args(cfg: LRConfig) -> list[str]:
    """The Scala job's arguments after its result file: DATA SIZE and the options it has."""
    return [cfg.data, str(cfg.size), "--reg", str(cfg.reg), "--max-iter", str(cfg.max_iter),
            "--validation", str(cfg.validation), "--seed", str(cfg.seed)]  # fmt: skip


def submit(cfg: LRConfig, cluster: ClusterTarget) -> dict:
    cfg.check_data()
    cfg = cfg.resolved()
    if cfg.solver == "scala":
        jar = scala_build.build_jar(layout.build_dir(Path(cfg.data)))
        return submit_app("train-lr", None, Path(cfg.out), cluster,
                          jar=(jar, scala_build.MAIN_CLASS, scala_args(cfg)))  # fmt: skip
    return submit_app("train-lr", cfg.to_dict(), Path(cfg.out), cluster)
