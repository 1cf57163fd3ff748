"""The hadoop role's tarball method against a mirror on loopback serving a small fake
release: a pinned checksum that matches installs it; one that does not fails and leaves
nothing extracted."""

import hashlib
import io
import socket
import subprocess
import sys
import tarfile
import time

import pytest

from tests.support.ansible import run_ansible
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

VERSION = "9.9.9"
PLAY = """
- name: Install Hadoop from the tarball mirror
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role's tarball install
      ansible.builtin.include_role:
        name: hadoop
        tasks_from: install_tarball
"""


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A directory laid out like an Apache mirror, served over HTTP on loopback."""
    root = tmp_path_factory.mktemp("mirror")
    release = root / f"hadoop-{VERSION}"
    release.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"fake hdfs jar\n"
        info = tarfile.TarInfo(f"hadoop-{VERSION}/share/hadoop/hdfs/hadoop-hdfs-{VERSION}.jar")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (release / f"hadoop-{VERSION}.tar.gz").write_bytes(buf.getvalue())
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                               str(port), "--directory", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", hashlib.sha256(buf.getvalue()).hexdigest()
    server.terminate()
    server.wait(timeout=10)


def install(tmp_path, mirror_url: str, sha256: str) -> subprocess.CompletedProcess:
    (tmp_path / "install.yml").write_text(PLAY)
    extra = {"cluster_root": str(tmp_path), "hadoop_version": VERSION,
             "hadoop_mirrors": [mirror_url, mirror_url], "hadoop_sha256": {VERSION: sha256},
             "hadoop_install_dir": str(tmp_path / "opt"), "hadoop_download_retries": 1}  # fmt: skip
    (tmp_path / "opt").mkdir(exist_ok=True)
    return run_ansible("ansible-playbook", str(tmp_path / "install.yml"), extra=extra, timeout=300)


def test_a_matching_checksum_installs_the_release(tmp_path, mirror):
    url, sha256 = mirror
    proc = install(tmp_path, url, sha256)
    assert proc.returncode == 0, proc.stdout[-3000:]
    jar = (
        tmp_path / "opt" / f"hadoop-{VERSION}" / "share/hadoop/hdfs" / f"hadoop-hdfs-{VERSION}.jar"
    )
    assert jar.read_bytes() == b"fake hdfs jar\n"


def test_a_wrong_checksum_fails_and_extracts_nothing(tmp_path, mirror):
    url, _ = mirror
    proc = install(tmp_path, url, "0" * 64)
    assert proc.returncode != 0
    assert "checksum" in proc.stdout.lower(), proc.stdout[-3000:]
    assert not (tmp_path / "opt" / f"hadoop-{VERSION}").exists()
    assert not (tmp_path / "opt" / f"hadoop-{VERSION}.tar.gz").exists()
