"""Build the Scala job's jar with sbt (the launcher the `sbt` role installs): `sbt package`
runs only when a source changed since the jar was built, and a failed build leaves the
previous jar where it was."""

import hashlib
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from jobs.errors import DrcError

SOURCE_DIR = Path(__file__).resolve().parents[1] / "scala"
MAIN_CLASS = "DrLogisticRegression"
JAR_NAME = "dr-cluster-lr.jar"  # what spark-submit is given: the project's root, stable name
STAMP_SUFFIX = ".sources"  # beside the jar: the digest of the sources it was built from
DEFAULT_JAR = Path("/home/hadoop/dr-cluster-scala") / JAR_NAME  # the sbt role's default
BUILD_TIMEOUT_S = 900  # a cold build downloads sbt and Scala (~150 MB)
# sbt prints a compile error as `[error] /path/File.scala:LINE:COL: message`
COMPILE_ERROR = re.compile(r"^\[error\] (/\S+\.(?:scala|java|sbt)):(\d+):(?:(\d+):)? (.+)$")


@dataclass(frozen=True)
class Sbt:
    """How to run sbt: the launcher jar and the one directory holding its caches (boot,
    coursier, ivy, global settings), resolving from the repositories file only."""

    launcher: Path
    home: Path
    repositories: Path
    java: Path = Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
    heap: str = "1g"
    run_as: str | None = None  # a system user to run the JVM as (through setpriv)

    @property
    def tmp(self) -> Path:
        return self.home / ".sbt" / "tmp"

    def command(self, *tasks: str) -> list[str]:
        props = {
            "sbt.boot.directory": self.home / ".sbt" / "boot",
            "sbt.global.base": self.home / ".sbt" / "1.0",
            "sbt.ivy.home": self.home / ".ivy2",
            "sbt.coursier.home": self.home / ".cache" / "coursier",
            "sbt.repository.config": self.repositories,
            "sbt.override.build.repos": "true",  # the build's own resolvers are ignored
            "sbt.server.autostart": "false",
            "sbt.ci": "true",
            "sbt.log.noformat": "true",
            "user.home": self.home,
            "java.io.tmpdir": self.tmp,  # the launcher's sockets: not a shared /tmp/.sbt
        }
        cmd = [str(self.java), f"-Xmx{self.heap}", *(f"-D{k}={v}" for k, v in props.items()),
               "-jar", str(self.launcher), *tasks]  # fmt: skip
        if self.run_as:
            cmd = ["setpriv", f"--reuid={self.run_as}", f"--regid={self.run_as}",
                   "--init-groups", "--", *cmd]  # fmt: skip
        return cmd


SOURCES = ("build.sbt", "project/build.properties", "src")  # what a project copy holds


def copy_sources(project: Path) -> Path:
    """A fresh sbt project at PROJECT from jobs/scala (what the sbt role copies)."""
    for name in SOURCES:
        src, dest = SOURCE_DIR / name, project / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, dest)
    return project


def stamp_path(project: Path) -> Path:
    return jar_path(project).with_name(JAR_NAME + STAMP_SUFFIX)


def source_files(project: Path) -> list[Path]:
    """What the jar is built from: the build definition and every source."""
    files = [project / "build.sbt", project / "project" / "build.properties"]
    files += sorted(p for p in (project / "src").rglob("*") if p.is_file())
    return [f for f in files if f.exists()]


def source_digest(project: Path) -> str:
    digest = hashlib.sha256()
    for f in source_files(project):
        digest.update(str(f.relative_to(project)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def jar_path(project: Path) -> Path:
    return project / JAR_NAME


def is_current(project: Path) -> bool:
    jar, stamp = jar_path(project), stamp_path(project)
    return jar.exists() and stamp.exists() and stamp.read_text() == source_digest(project)


def first_error(output: str, project: Path) -> DrcError:
    """One line for a failed build: the first compile error's file:line and message, else
    sbt's last error line."""
    lines = output.splitlines()
    for line in lines:
        m = COMPILE_ERROR.match(line)
        if m:
            path, row, col, message = m.groups()
            where = Path(path)
            if where.is_relative_to(project):
                where = where.relative_to(project)
            return DrcError(f"{where}:{row}" + (f":{col}" if col else ""), message.strip())
    errors = [ln.removeprefix("[error]").strip() for ln in lines if ln.startswith("[error]")]
    last = errors[-1] if errors else (lines[-1] if lines else "no output")
    return DrcError(project, f"sbt package failed: {last}")


def build(project: Path, sbt: Sbt, spark_home: Path) -> tuple[Path, float | None]:
    """`sbt package` in PROJECT against SPARK_HOME's jars, unless the jar is current.
    Returns the jar and the build's seconds (None: nothing to do)."""
    jar = jar_path(project)
    if is_current(project):
        return jar, None
    if not (project / "build.sbt").exists():
        raise DrcError(project / "build.sbt", "no sbt build here")
    if not sorted((spark_home / "jars").glob("spark-core_*.jar")):
        raise DrcError(spark_home / "jars", "no Spark jars here to compile against")
    digest = source_digest(project)  # before the build: a source edited meanwhile rebuilds
    sbt.tmp.mkdir(parents=True, exist_ok=True)
    if sbt.run_as:
        shutil.chown(sbt.tmp, sbt.run_as, sbt.run_as)
    start = time.perf_counter()
    env = {"SPARK_HOME": str(spark_home), "HOME": str(sbt.home), "PATH": "/usr/bin:/bin",
           "LANG": "C.UTF-8"}  # fmt: skip
    try:
        proc = subprocess.run(
            sbt.command("package"), cwd=project, env=env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        raise DrcError(project, f"sbt package ran past {BUILD_TIMEOUT_S} s") from e
    if proc.returncode != 0:
        raise first_error(proc.stdout, project)
    built = sorted((project / "target").glob("scala-*/*.jar"), key=lambda p: p.stat().st_mtime)
    if not built:
        raise DrcError(project / "target", "sbt package succeeded but wrote no jar")
    partial = jar.with_name(f".{JAR_NAME}.partial")
    shutil.copyfile(built[-1], partial)
    stamp = stamp_path(project)
    stamp.write_text(digest)
    for path in (partial, stamp):  # the build user's, like everything else in its project
        if sbt.run_as:
            shutil.chown(path, sbt.run_as, sbt.run_as)
    partial.replace(jar)  # the previous jar stays until this one is whole
    return jar, time.perf_counter() - start


def require_jar(jar: Path) -> Path:
    if not jar.is_file():
        raise DrcError(jar, "no Scala job jar here: the sbt role builds it on the master "
                            "(playbooks/main.yml), or `drc build-scala`")  # fmt: skip
    return jar
