"""Which disk is full: the NameNode's live DataNodes, each DataNode's own volume report (two
real HTTP servers answering as HDFS's JMX does), and local disks."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from jobs.cluster import space

MIB = 1 << 20


def serve(beans_by_query: dict[str, dict]) -> tuple[HTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            bean = next((b for q, b in beans_by_query.items() if q in self.path), None)
            body = json.dumps({"beans": [bean] if bean else []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_port}"


@pytest.fixture
def hdfs():
    full_dn, full_addr = serve({"DataNodeInfo": {"VolumeInfo": json.dumps({
        "/srv/dr-cluster/hdfs/data/current": {"freeSpace": 3 * MIB, "usedSpace": 900 * MIB,
                                              "reservedSpace": 128 * MIB}})}})  # fmt: skip
    roomy_dn, roomy_addr = serve({"DataNodeInfo": {"VolumeInfo": json.dumps({
        "/srv/dr-cluster/hdfs/data/current": {"freeSpace": 700 * MIB, "usedSpace": 10 * MIB,
                                              "reservedSpace": 128 * MIB}})}})  # fmt: skip
    live = {"a:9866": {"xferaddr": "10.213.1.12:9866", "infoAddr": full_addr,
                       "remaining": 3 * MIB},
            "b:9866": {"xferaddr": "10.213.1.13:9866", "infoAddr": roomy_addr,
                       "remaining": 700 * MIB}}  # fmt: skip
    nn, nn_addr = serve({"NameNodeInfo": {"LiveNodes": json.dumps(live)}})
    yield f"http://{nn_addr}"
    for server in (full_dn, roomy_dn, nn):
        server.shutdown()


def test_a_full_datanode_volume_is_named_with_its_node_and_disk(hdfs):
    volumes = space.datanode_volumes(hdfs)
    assert [(v.node, v.disk, v.full) for v in volumes] == [
        ("10.213.1.12", "/srv/dr-cluster/hdfs/data", True),
        ("10.213.1.13", "/srv/dr-cluster/hdfs/data", False),
    ]
    (line,) = space.full_lines(hdfs)
    assert line == ("10.213.1.12 /srv/dr-cluster/hdfs/data: FULL, 3 MiB free for writes (a block "
                    "needs 128 MiB, 128 MiB kept for the rest)")  # fmt: skip
    assert space.main(["--namenode-ui", hdfs]) == 1
    # a finished job asks only the DataNode the NameNode knows to be short
    assert [v.node for v in space.datanode_volumes(hdfs, short_only=True)] == ["10.213.1.12"]


def test_local_disks_and_an_unreachable_namenode(tmp_path):
    (volume,) = space.local_volumes([tmp_path / "not" / "yet"])  # its nearest existing parent
    assert volume.node == "local" and volume.free > 0 and not volume.full
    assert space.full_lines("http://127.0.0.1:9", [tmp_path]) == []  # nothing to say, no crash


def test_the_nodes_spark_scratch_is_read_from_its_spark_env(tmp_path):
    (tmp_path / "spark-env.sh").write_text(
        "export JAVA_HOME=/usr/lib/jvm/x\nSPARK_LOCAL_DIRS=/srv/d/spark/tmp\n"
        "SPARK_WORKER_DIR=/srv/d/spark/work\nSPARK_LOG_DIR=/srv/d/spark/logs\n"
    )
    assert space.spark_scratch(tmp_path) == ["/srv/d/spark/tmp", "/srv/d/spark/work"]
    assert space.spark_scratch(tmp_path / "missing") == [] == space.spark_scratch(None)
