"""The Scala job's sbt build on this machine, cold and warm: what the sbt role does on a
fresh master (fetch the pinned launcher through Debian's maven, `sbt package` with empty
caches: sbt, Scala and the compiler bridge downloaded from Maven Central), a warm rebuild
after a source change (caches full: nothing downloaded), and a converge with nothing to do.

Runs in a fresh temporary home (not the hadoop user's), as the current user.

    .venv/bin/python bench/sbt.py
"""

import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from jobs.cluster import scala_build
from jobs.cluster.submit import spark_home

REPO = Path(__file__).resolve().parent.parent


def fetch_launcher(home: Path, version: str, sha256: str, plugin: str) -> Path:
    """As the role does: Maven resolves it, the pinned SHA-256 decides."""
    out = home / ".sbt" / "launchers"
    out.mkdir(parents=True)
    subprocess.run(
        ["mvn", "-B", "-q", f"-Dmaven.repo.local={home / 'm2'}",
         f"org.apache.maven.plugins:maven-dependency-plugin:{plugin}:copy",
         f"-Dartifact=org.scala-sbt:sbt-launch:{version}", f"-DoutputDirectory={out}"],
        check=True,
    )  # fmt: skip
    jar = out / f"sbt-launch-{version}.jar"
    digest = subprocess.run(["sha256sum", str(jar)], check=True, capture_output=True,
                            text=True).stdout.split()[0]  # fmt: skip
    assert digest == sha256, f"{jar}: SHA-256 {digest} is not the pinned {sha256}"
    return jar


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    defaults = yaml.safe_load((REPO / "roles/sbt/defaults/main.yml").read_text())
    version = defaults["sbt_launch_version"]
    with tempfile.TemporaryDirectory(prefix="drc-sbt-bench-") as tmp:
        home = Path(tmp)
        start = time.perf_counter()
        launcher = fetch_launcher(home, version, defaults["sbt_launch_sha256"][version],
                                  defaults["sbt_maven_dependency_plugin"])  # fmt: skip
        fetch_s = time.perf_counter() - start
        repositories = home / ".sbt" / "repositories"
        repositories.write_text("[repositories]\n  local\n  maven-central\n")
        sbt = scala_build.Sbt(launcher, home, repositories)
        project = home / "dr-cluster-scala"
        scala_build.copy_sources(project)
        _, cold_s = scala_build.build(project, sbt, spark_home())
        caches_mb = du_mb(home / ".sbt" / "boot") + du_mb(home / ".cache" / "coursier")
        source = project / "src/main/scala/DrLogisticRegression.scala"
        source.write_text(source.read_text() + "\n// a change\n")
        _, warm_s = scala_build.build(project, sbt, spark_home())
        start = time.perf_counter()
        _, nothing = scala_build.build(project, sbt, spark_home())
        noop_s = time.perf_counter() - start
        assert nothing is None
    result = {
        "what": "sbt package of jobs/scala (1 source, Spark provided from the pyspark wheel's "
        "jars), through drc build-scala",
        "sbt_launch": version,
        "launcher_fetch_s": round(fetch_s, 1),
        "cold_build_s": round(cold_s, 1),
        "cold_total_s": round(fetch_s + cold_s, 1),
        "caches_mb": round(caches_mb),
        "warm_rebuild_s": round(warm_s, 1),
        "up_to_date_check_s": round(noop_s, 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    out = REPO / "bench/results/sbt.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
