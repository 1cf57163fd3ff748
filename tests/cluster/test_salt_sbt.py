"""The Salt path builds the Scala job as the sbt role does: the `sbt` state renders on the
first master only, from the role's own settings (the pillar `drc salt apply` resolves),
with the same launcher, repositories file, sources and jar. Rendered by salt-call, nothing
applied; the integration test (tests/integration/test_salt.py) builds the jar on nodes."""

import pytest
import yaml

from jobs.cluster.cluster_vars import REPO
from jobs.cluster.salt_ssh import PHASES
from tests.support.salt_render import TWO_NODES, show_sls

INVENTORY = TWO_NODES


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict]:
    """Each host's `sbt` state as salt-call renders it (state.show_sls)."""
    return show_sls(tmp_path_factory.mktemp("salt-sbt"), INVENTORY, "sbt", ("n1", "n2"))


def test_the_sbt_state_builds_on_the_first_master_only(rendered):
    assert rendered["n2"] == {}  # a worker builds nothing
    states = rendered["n1"]
    build = next(v for v in states["drc-sbt-build"]["cmd"] if isinstance(v, dict) and "name" in v)
    role = yaml.safe_load((REPO / "roles/sbt/defaults/main.yml").read_text())
    home = "/home/hadoop"
    launcher = f"{home}/.sbt/launchers/sbt-launch-{role['sbt_launch_version']}.jar"
    for part in ("bin/drc build-scala /home/hadoop/dr-cluster-scala", f"--launcher {launcher}",
                 f"--repositories {home}/.sbt/repositories", "--run-as hadoop"):  # fmt: skip
        assert part in build["name"], build["name"]
    fetch = str(states["drc-sbt-launcher"]["cmd"])
    assert role["sbt_launch_sha256"][role["sbt_launch_version"]] in fetch
    sources = {str(v) for key in ("drc-sbt-source-1", "drc-sbt-source-2", "drc-sbt-source-src")
               for v in states[key]["file"]}  # fmt: skip
    assert "{'source': 'salt://jobs/scala/src'}" in sources  # the role's sbt_source_dir
    assert "{'source': 'salt://jobs/scala/build.sbt'}" in sources
    assert "{'pkgs': ['maven']}" in str(states["drc-sbt-maven"]["pkg"])  # the role's list


def test_drc_salt_apply_builds_after_configuring_and_before_starting():
    names = [p.name for p in PHASES]
    assert names.index("configure") < names.index("sbt") < names.index("hdfs")
    (sbt,) = [p for p in PHASES if p.name == "sbt"]
    assert sbt.target == "spark_master" and sbt.states == ("sbt",)
