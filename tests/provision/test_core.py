"""The provider-agnostic life cycle, with an in-memory provider: grow, shrink, partial
failure, cleanup, parallelism; and the inventory it leads to."""

import threading
import time

import pytest

from provision import core, inventory
from provision.errors import ProvisionError
from provision.model import MASTER, WORKER, Node, NodeSpec
from provision.providers.base import Provider


class MemoryProvider(Provider):
    name = "memory"

    def __init__(self, fail_create=(), fail_wait=(), delay_s=0.0, fail_destroy=()):
        self.nodes: dict[str, Node] = {}
        self.fail_create, self.fail_wait, self.delay_s = set(fail_create), set(fail_wait), delay_s
        self.fail_destroy = set(fail_destroy)
        self.destroyed: list[str] = []
        self.finished: list[str] = []  # clusters whose cluster-wide resources were removed
        self.running = self.peak = 0
        self._lock = threading.Lock()

    def _busy(self):
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.delay_s)
        with self._lock:
            self.running -= 1

    def create(self, cluster, name, role, spec):
        self._busy()
        if name in self.fail_create:
            raise ProvisionError(name, "out of capacity")
        node = Node(name, role, "", "", id=name)
        self.nodes[name] = node
        return node

    def wait_ready(self, node, timeout_s):
        self._busy()
        if node.name in self.fail_wait:
            raise ProvisionError(node.name, "never became ready")
        index = len(node.name)  # any stable address will do
        return Node(node.name, node.role, f"192.0.2.{index}", f"10.0.0.{index}", id=node.id)

    def list(self, cluster):
        return [n for n in self.nodes.values() if n.name.startswith(f"{cluster}-")]

    def destroy(self, node):
        if node.name in self.fail_destroy:
            raise ProvisionError(node.name, "cancel refused")
        self.nodes.pop(node.name, None)
        self.destroyed.append(node.name)

    def finish_destroy(self, cluster):
        self.finished.append(cluster)


def test_launch_grow_and_rerun():
    provider = MemoryProvider()
    first = core.launch(provider, "dr", 3, NodeSpec())
    assert [n.name for n in first.nodes] == ["dr-master", "dr-worker-01", "dr-worker-02"]
    assert first.nodes[0].role == MASTER and {n.role for n in first.nodes[1:]} == {WORKER}
    again = core.launch(provider, "dr", 3, NodeSpec())
    assert again.created == [] and len(again.nodes) == 3
    grown = core.launch(provider, "dr", 5, NodeSpec())
    assert grown.created == ["dr-worker-03", "dr-worker-04"]


def test_shrink_needs_confirmation():
    provider = MemoryProvider()
    core.launch(provider, "dr", 4, NodeSpec())
    with pytest.raises(ProvisionError, match="confirm_shrink=true"):
        core.launch(provider, "dr", 2, NodeSpec())
    assert len(provider.list("dr")) == 4
    shrunk = core.launch(provider, "dr", 2, NodeSpec(), confirm_shrink=True)
    assert shrunk.removed == ["dr-worker-02", "dr-worker-03"]
    assert sorted(provider.nodes) == ["dr-master", "dr-worker-01"]


def test_a_lost_node_is_replaced_under_its_name_only_when_asked():
    provider = MemoryProvider()
    core.launch(provider, "dr", 3, NodeSpec())
    provider.fail_wait = {"dr-worker-02"}  # the VM vanished: it answers no more
    with pytest.raises(ProvisionError, match="launch failed"):
        core.launch(provider, "dr", 3, NodeSpec())  # not asked: nothing released
    assert "dr-worker-02" in provider.nodes and provider.destroyed == []

    class Reborn(MemoryProvider):  # a node made anew answers
        def create(self, cluster, name, role, spec):
            self.fail_wait.discard(name)
            return super().create(cluster, name, role, spec)

    reborn = Reborn(fail_wait={"dr-worker-02"})
    reborn.nodes = dict(provider.nodes)
    result = core.launch(reborn, "dr", 3, NodeSpec(), replace_lost=True, lost_after_s=1)
    assert result.replaced == ["dr-worker-02"] and result.created == ["dr-worker-02"]
    assert reborn.destroyed == ["dr-worker-02"]
    assert [n.name for n in result.nodes] == ["dr-master", "dr-worker-01", "dr-worker-02"]


def test_a_lost_master_or_most_of_the_cluster_is_never_replaced():
    for silent in ({"dr-master"}, {"dr-worker-01", "dr-worker-02"}):
        provider = MemoryProvider()
        core.launch(provider, "dr", 3, NodeSpec())
        provider.fail_wait = set(silent)
        with pytest.raises(ProvisionError, match="not replacing the master or most"):
            core.launch(provider, "dr", 3, NodeSpec(), replace_lost=True, lost_after_s=1)
        assert provider.destroyed == [] and len(provider.nodes) == 3


def test_partial_failure_releases_everything_this_run_made():
    provider = MemoryProvider(fail_create={"dr-worker-02"}, fail_wait={"dr-worker-03"})
    with pytest.raises(ProvisionError, match="launch failed"):
        core.launch(provider, "dr", 5, NodeSpec())
    assert provider.nodes == {}  # no billed orphan
    assert sorted(provider.destroyed) == ["dr-master", "dr-worker-01", "dr-worker-03",
                                          "dr-worker-04"]  # fmt: skip


def test_min_nodes_accepts_a_partial_cluster_and_drops_the_stragglers():
    provider = MemoryProvider(fail_create={"dr-worker-02"}, fail_wait={"dr-worker-03"})
    result = core.launch(provider, "dr", 5, NodeSpec(), min_nodes=3)
    assert [n.name for n in result.nodes] == ["dr-master", "dr-worker-01", "dr-worker-04"]
    assert result.failed == ["dr-worker-02", "dr-worker-03"]  # not created, or released
    assert sorted(provider.nodes) == ["dr-master", "dr-worker-01", "dr-worker-04"]


def test_a_cluster_without_its_master_always_fails():
    provider = MemoryProvider(fail_wait={"dr-master"})
    with pytest.raises(ProvisionError, match="launch failed"):
        core.launch(provider, "dr", 3, NodeSpec(), min_nodes=1)
    assert provider.nodes == {}


def test_nodes_are_created_in_parallel():
    provider = MemoryProvider(delay_s=0.05)
    core.launch(provider, "dr", 8, NodeSpec())
    assert provider.peak == 8


@pytest.mark.parametrize(
    ("count", "kwargs", "message"),
    [(0, {}, "at least 1 node"), (3, {"min_nodes": 4}, "min_nodes")],
)
def test_bad_requests_are_refused(count, kwargs, message):
    with pytest.raises(ProvisionError, match=message):
        core.launch(MemoryProvider(), "dr", count, NodeSpec(), **kwargs)


def test_bad_cluster_name_and_spec_field():
    with pytest.raises(ProvisionError, match="cluster name"):
        core.launch(MemoryProvider(), "Bad_Name", 1, NodeSpec())
    with pytest.raises(ProvisionError, match="unknown fields"):
        NodeSpec.from_dict({"cpus": 4})


def test_destroy_releases_every_tagged_node():
    provider = MemoryProvider()
    core.launch(provider, "dr", 3, NodeSpec())
    core.launch(provider, "other", 1, NodeSpec())
    assert sorted(core.destroy(provider, "dr")) == ["dr-master", "dr-worker-01", "dr-worker-02"]
    assert list(provider.nodes) == ["other-master"]


def test_inventory_groups_and_per_host_overrides(tmp_path):
    nodes = [Node("dr-master", MASTER, "192.0.2.1", "10.0.0.1"),
             Node("dr-worker-01", WORKER, "192.0.2.2", "10.0.0.2")]  # fmt: skip
    text = inventory.render("dr", "memory", nodes, "/keys/id", {"dr-master": {"node_root": "/n"}},
                            {"cluster_root": "/srv/dr"})  # fmt: skip
    sections = {}
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        if lines and lines[0].startswith("["):
            sections[lines[0].strip("[]")] = [ln.split()[0] for ln in lines[1:]]
    assert sections["spark_master"] == ["dr-master"] == sections["hdfs_namenode"]
    assert sections["spark_workers"] == ["dr-master", "dr-worker-01"] == sections["hdfs_datanodes"]
    assert "dr-master ansible_host=192.0.2.1 ansible_user=root spark_bind_address=10.0.0.1 " \
           "cluster_root=/srv/dr node_root=/n" in text  # fmt: skip
    assert "ansible_ssh_private_key_file=/keys/id" in text and "cluster_provider=memory" in text
    (tmp_path / "gv" / "all").mkdir(parents=True)
    (tmp_path / "gv" / "all" / "main.yml").write_text("x: 1\n")
    path = inventory.write(tmp_path / "dr" / "hosts", text, tmp_path / "gv")
    own = tmp_path / "dr" / "group_vars" / "all"
    assert path.read_text() == text and (own / "main.yml").read_text() == "x: 1\n"
    # the cluster's own secrets sit beside the project's vars and survive a rewrite
    (own / inventory.CLUSTER_SECRETS).write_text("secret: 1\n")
    (tmp_path / "gv" / "all" / "new.yml").write_text("y: 2\n")
    inventory.write(path, text, tmp_path / "gv")
    assert sorted(p.name for p in own.iterdir()) == ["main.yml", "new.yml", "secrets.yml"]
    inventory.remove(tmp_path / "dr")
    assert not (tmp_path / "dr").exists()


def test_the_inventory_names_the_nodes_that_train_the_cnn():
    nodes = [Node("dr-master", MASTER, "192.0.2.1", "10.0.0.1"),
             Node("dr-worker-01", WORKER, "192.0.2.2", "10.0.0.2")]  # fmt: skip

    def trainers(cnn_nodes: str) -> list[str]:
        text = inventory.render("dr", "memory", nodes, None, {}, {}, cnn_nodes=cnn_nodes)
        lines = text.split("[cnn_workers]\n", 1)[1].splitlines()
        return [ln.split()[0] for ln in lines[: lines.index("")]]

    assert trainers("all") == ["dr-master", "dr-worker-01"]  # the default: any worker may train
    assert trainers("master") == ["dr-master"]
    assert trainers("none") == []
    with pytest.raises(ValueError, match="cnn_nodes='some'"):
        trainers("some")


def test_a_partial_launch_reports_every_error_and_every_node(capsys):
    """#29 (5): failed creates were not counted in `failed`, release errors were dropped and
    the errors never logged: a node left billed could go unmentioned."""
    provider = MemoryProvider(fail_create={"dr-worker-02"}, fail_wait={"dr-worker-03"},
                              fail_destroy={"dr-worker-03"})  # fmt: skip
    result = core.launch(provider, "dr", 5, NodeSpec(), min_nodes=3)
    assert result.failed == ["dr-worker-02", "dr-worker-03"]
    assert result.unreleased == ["dr-worker-03"]
    log = capsys.readouterr().err
    assert "dr-worker-02: out of capacity" in log and "dr-worker-03: never became ready" in log
    assert "CLEANUP FAILED for dr-worker-03" in log and "cancel refused" in log


def test_a_failed_launch_names_what_it_could_not_release(capsys):
    provider = MemoryProvider(fail_wait={"dr-master"}, fail_destroy={"dr-worker-01"})
    with pytest.raises(ProvisionError, match="2 created, 1 released; NOT released: dr-worker-01"):
        core.launch(provider, "dr", 2, NodeSpec())
    assert "CLEANUP FAILED for dr-worker-01" in capsys.readouterr().err
    assert provider.finished == []  # a node is left: the cluster's own resources stay with it


def test_a_failed_launch_that_leaves_no_node_removes_the_clusters_resources():
    provider = MemoryProvider(fail_wait={"dr-master"})
    with pytest.raises(ProvisionError, match="launch failed"):
        core.launch(provider, "dr", 2, NodeSpec())
    assert provider.finished == ["dr"]


def test_the_inventory_reaches_a_node_without_a_public_address():
    """#29 (5): a private subnet's node was written as `ansible_host=` (empty)."""
    text = inventory.render("dr", "aws", [Node("dr-master", MASTER, "", "10.0.1.5", "admin")],
                            None, {}, {})  # fmt: skip
    assert "dr-master ansible_host=10.0.1.5 ansible_user=admin spark_bind_address=10.0.1.5" in text
