import itertools

import pytest

from jobs.cluster.sizing import seed_rule_executors, size_cluster

# the 18 cluster shapes of the 2015 grid: 3/5/7 nodes x 8/16 cores x 8/12/16 GB
SEED_SHAPES = list(itertools.product([3, 5, 7], [8, 16], [8, 12, 16]))


@pytest.mark.parametrize("manager", ["standalone", "yarn"])
@pytest.mark.parametrize("nodes, cores, ram", SEED_SHAPES + [(1, 2, 24), (1, 1, 4), (100, 64, 512)])
def test_sizing_stays_within_the_cluster(nodes, cores, ram, manager):
    s = size_cluster(nodes, cores, ram, data_gb=13.6, manager=manager)
    assert s.executors >= 1 and s.executor_cores >= 1
    assert s.executors * s.executor_cores <= nodes * cores
    per_node = -(-s.executors // nodes)
    assert per_node * s.executor_cores <= cores
    assert per_node * (s.executor_memory_mb + s.overhead_mb) <= ram * 1024
    assert s.executor_memory_mb >= 512
    assert s.shuffle_partitions >= s.executors * s.executor_cores


def test_flags_name_the_manager():
    assert "--num-executors" in size_cluster(3, 8, 8, manager="yarn").flags()
    assert "--total-executor-cores" in size_cluster(3, 8, 8).flags()


def test_seed_rule():
    assert seed_rule_executors(7, 16) == 17
    assert seed_rule_executors(3, 8) == 11


@pytest.mark.parametrize("args", [(0, 8, 8), (3, 0, 8), (3, 8, 0), (3, 8, 1.5)])
def test_bad_shapes_are_refused(args):
    with pytest.raises(ValueError):
        size_cluster(*args)


def test_unknown_manager():
    with pytest.raises(ValueError, match="mesos"):
        size_cluster(3, 8, 8, manager="mesos")
