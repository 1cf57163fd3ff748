"""The sbt build of the Scala job, without running sbt: when it rebuilds, how a failed
build reads, how sbt is run (the integration tests run it for real)."""

from pathlib import Path

import pytest
import yaml

from jobs.cluster import scala_build
from jobs.errors import DrcError

REPO = Path(__file__).resolve().parents[2]

# What sbt 1.11 printed for a syntax error in this job (a build on this machine).
SBT_SYNTAX_ERROR = """\
[info] welcome to sbt 1.11.7 (Debian Java 17.0.15)
[info] compiling 1 Scala source to /home/hadoop/dr-cluster-scala/target/scala-2.13/classes ...
[error] /home/hadoop/dr-cluster-scala/src/main/scala/DrLogisticRegression.scala:40:61: \
';' expected but ')' found.
[error]     val maxIter = opts.getOrElse("--max-iter", "100").toInt )(
[error]                                                             ^
[error] one error found
[error] (Compile / compileIncremental) Compilation failed
"""


@pytest.fixture
def project(tmp_path) -> Path:
    return scala_build.copy_sources(tmp_path / "dr-cluster-scala")


def test_the_jar_is_current_only_for_the_sources_it_was_built_from(project):
    assert not scala_build.is_current(project)
    jar = scala_build.jar_path(project)
    jar.write_bytes(b"jar")
    scala_build.stamp_path(project).write_text(scala_build.source_digest(project))
    assert scala_build.is_current(project)
    source = project / "src/main/scala/DrLogisticRegression.scala"
    source.write_text(source.read_text() + "\n// edited\n")
    assert not scala_build.is_current(project)


def test_the_digest_covers_the_build_definition(project):
    before = scala_build.source_digest(project)
    (project / "project/build.properties").write_text("sbt.version=1.11.6\n")
    assert scala_build.source_digest(project) != before
    (project / "target").mkdir()  # build outputs are not sources
    (project / "target/x.class").write_bytes(b"x")
    (project / "project/build.properties").write_text(
        (scala_build.SOURCE_DIR / "project/build.properties").read_text()
    )
    assert scala_build.source_digest(project) == before


def test_a_compile_error_is_one_line_naming_the_file_and_line():
    error = scala_build.first_error(SBT_SYNTAX_ERROR, Path("/home/hadoop/dr-cluster-scala"))
    assert str(error) == (
        "src/main/scala/DrLogisticRegression.scala:40:61: ';' expected but ')' found."
    )
    assert "\n" not in str(error)


def test_any_other_failure_names_the_project_and_sbts_last_error():
    output = "[info] loading\n[error] Server access Error: Connection refused\n"
    error = scala_build.first_error(output, Path("/p"))
    assert str(error) == "/p: sbt package failed: Server access Error: Connection refused"


def test_sbt_resolves_from_the_repositories_file_only_and_keeps_its_caches_home():
    sbt = scala_build.Sbt(Path("/h/.sbt/launchers/sbt-launch.jar"), Path("/h"),
                          Path("/h/.sbt/repositories"), run_as="hadoop")  # fmt: skip
    cmd = sbt.command("package")
    assert cmd[:5] == ["setpriv", "--reuid=hadoop", "--regid=hadoop", "--init-groups", "--"]
    assert "-Dsbt.repository.config=/h/.sbt/repositories" in cmd
    assert "-Dsbt.override.build.repos=true" in cmd
    assert "-Dsbt.coursier.home=/h/.cache/coursier" in cmd
    assert "-Dsbt.boot.directory=/h/.sbt/boot" in cmd
    assert cmd[-3:] == ["-jar", "/h/.sbt/launchers/sbt-launch.jar", "package"]


def test_a_build_without_sparks_jars_says_so(project, tmp_path):
    sbt = scala_build.Sbt(tmp_path / "launch.jar", tmp_path, tmp_path / "repositories")
    with pytest.raises(DrcError, match="no Spark jars here"):
        scala_build.build(project, sbt, tmp_path / "no-spark")


def test_train_lr_without_the_jar_says_how_to_build_it(tmp_path):
    with pytest.raises(DrcError, match="the sbt role builds it"):
        scala_build.require_jar(tmp_path / "dr-cluster-lr.jar")


def test_the_cli_default_jar_is_where_the_sbt_role_puts_it():
    defaults = yaml.safe_load((REPO / "roles/sbt/defaults/main.yml").read_text())
    values = {"sbt_user": "hadoop"}
    for name in ("sbt_root", "sbt_project_dir", "sbt_jar"):
        text = defaults[name]
        for var, value in values.items():
            text = text.replace("{{ " + var + " }}", value)
        values[name] = text
    assert values["sbt_jar"] == str(scala_build.DEFAULT_JAR)
    run_jobs = yaml.safe_load((REPO / "roles/run_jobs/defaults/main.yml").read_text())
    assert "/dr-cluster-scala/dr-cluster-lr.jar" in run_jobs["run_jobs_scala_jar"]
    pinned = (scala_build.SOURCE_DIR / "project/build.properties").read_text()
    assert pinned.strip() == f"sbt.version={defaults['sbt_launch_version']}"
