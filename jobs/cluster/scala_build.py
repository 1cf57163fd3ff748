"""Build the Scala job's jar with the Scala compiler shipped in the pyspark wheel (no sbt)."""

import hashlib
import os
import subprocess
from pathlib import Path

from jobs.cluster.submit import spark_home
from jobs.errors import DrcError

SOURCE = (
    Path(__file__).resolve().parents[1]
    / "scala"
    / "src"
    / "main"
    / "scala"
    / "DrLogisticRegression.scala"
)
MAIN_CLASS = "DrLogisticRegression"


def build_jar(build_dir: Path) -> Path:
    """Compile once per source version; returns the jar."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    jar = build_dir / f"dr-lr-{digest}.jar"
    if jar.exists():
        return jar
    jars = spark_home() / "jars"
    compiler = sorted(jars.glob("scala-compiler-*.jar"))
    if not compiler:
        raise DrcError(jars, "no scala-compiler jar here to build the Scala job with")
    version = compiler[0].name.removeprefix("scala-compiler-").removesuffix(".jar")
    tool_cp = ":".join(str(jars / f"scala-{p}-{version}.jar") for p in ("compiler", "library",
                                                                         "reflect"))  # fmt: skip
    build_dir.mkdir(parents=True, exist_ok=True)
    partial = build_dir / f".{jar.name}.partial.jar"
    java = Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")) / "bin" / "java"
    proc = subprocess.run(
        [str(java), "-cp", tool_cp, "scala.tools.nsc.Main", "-classpath", f"{jars}/*",
         "-d", str(partial), str(SOURCE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise DrcError(SOURCE, f"scalac failed: {proc.stderr.strip().splitlines()[-1:]}")
    partial.replace(jar)
    return jar
