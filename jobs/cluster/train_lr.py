"""`drc train-lr` on the controller: submit the Python app or the Scala job for an LRConfig."""

from pathlib import Path

from jobs.cluster import scala_build
from jobs.cluster.submit import ClusterTarget, submit_app
from jobs.lr.config import LRConfig


def scala_args(cfg: LRConfig) -> list[str]:
    """The Scala job's arguments after its result file: DATA SIZE and the options it has."""
    return [cfg.data, str(cfg.size), "--reg", str(cfg.reg), "--max-iter", str(cfg.max_iter),
            "--validation", str(cfg.validation), "--seed", str(cfg.seed)]  # fmt: skip


def submit(cfg: LRConfig, cluster: ClusterTarget, jar: Path = scala_build.DEFAULT_JAR,
           reports: str | None = None) -> dict:  # fmt: skip
    """Submit train-lr (the scala solver: JAR, the sbt-built job); its report and log go to
    REPORTS (default: OUT's run directory)."""
    cfg.check_data()
    cfg = cfg.resolved()
    reports = reports or cfg.out
    if cfg.solver == "scala":
        jar = scala_build.require_jar(jar)
        return submit_app("train-lr", None, reports, cluster,
                          jar=(jar, scala_build.MAIN_CLASS, scala_args(cfg)))  # fmt: skip
    return submit_app("train-lr", cfg.to_dict(), reports, cluster)
