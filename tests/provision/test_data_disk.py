"""roles/data_disk on a real block device (#29 (4)): the data disk the clouds attach was
never formatted or mounted, and HDFS wrote to the root disk. A loop device stands for it;
the role runs on this machine inside a private mount namespace (its mount vanishes with
the namespace) with its own fstab, so nothing of this machine's changes. Then the roles'
templates, rendered for that node and for a namespace test host, put HDFS's directories
and Spark's scratch on the disk, and only where there is one."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from provision import inventory
from tests.support.ansible import BIN, REPO, run_ansible

pytestmark = pytest.mark.integration

PLAY = "- name: The data disk\n  hosts: all\n  gather_facts: false\n  roles: [data_disk]\n"
SIZE_GB = 3  # an unusual size: the one blank disk of it on this machine is ours


def changed(out: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[-1]))


@pytest.fixture
def loop_device(tmp_path):
    if os.geteuid() != 0 or not all(map(shutil.which, ("losetup", "unshare", "mkfs.ext4"))):
        pytest.skip("needs root, losetup, unshare and mkfs.ext4")
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(SIZE_GB * 2**30)  # sparse
    device = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], check=False)


def test_the_data_disk_is_formatted_mounted_by_uuid_and_idempotent(tmp_path, loop_device):
    mount, fstab, label = tmp_path / "data", tmp_path / "fstab", f"drct{os.getpid() % 10**6}"
    host = (f"node ansible_connection=local ansible_python_interpreter={sys.executable} "
            f"data_disk_label={label} data_disk_mount={mount} data_disk_fstab={fstab}")  # fmt: skip
    groups = ("spark_master", "spark_workers", "hdfs_namenode", "hdfs_datanodes")

    def write_inventory(name: str, node_vars: str) -> str:
        text = "".join(f"[{g}]\n{host} {node_vars}\n\n" for g in groups)
        return str(inventory.write(tmp_path / name / "hosts", text, REPO / "group_vars"))

    # found by size (a cloud without stable disk names; the named path does not exist),
    # then again, then by its device path: formatted and mounted once
    by_size = write_inventory("by-size", f"data_disk_device=/dev/disk/by-id/absent "
                                         f"data_disk_size_gb={SIZE_GB}")  # fmt: skip
    by_path = write_inventory("by-path", f"data_disk_device={loop_device}")
    (tmp_path / "play.yml").write_text(PLAY)
    play = f"{BIN}/ansible-playbook -i {{}} {tmp_path / 'play.yml'}"
    script = "; ".join([
        f"{play.format(by_size)} > {tmp_path}/run1 2>&1; echo $? >> {tmp_path}/run1",
        f"{play.format(by_size)} > {tmp_path}/run2 2>&1; echo $? >> {tmp_path}/run2",
        f"{play.format(by_path)} > {tmp_path}/run3 2>&1; echo $? >> {tmp_path}/run3",
        f"findmnt --noheadings --output SOURCE,UUID,FSTYPE --mountpoint {mount} > {tmp_path}/mnt",
        f"echo written > {mount}/probe",
    ])  # fmt: skip
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                   cwd=REPO, env=env, timeout=600, check=True)  # fmt: skip
    runs = [(tmp_path / f"run{i}").read_text() for i in (1, 2, 3)]
    for out in runs:
        assert out.rstrip().endswith("\n0"), out[-3000:]
    assert changed(runs[0]) >= 3  # formatted, listed in fstab, mounted
    assert changed(runs[1]) == 0 and changed(runs[2]) == 0, runs[1][-2000:] + runs[2][-2000:]

    source, uuid, fstype = (tmp_path / "mnt").read_text().split()
    assert source == loop_device and fstype == "ext4"
    assert fstab.read_text() == f"UUID={uuid} {mount} ext4 defaults,noatime,nofail 0 2\n"
    probe = subprocess.run(["blkid", "-p", "-o", "export", loop_device], capture_output=True,
                           text=True).stdout  # fmt: skip
    assert f"LABEL={label}\n" in probe and f"UUID={uuid}\n" in probe
    # the file went to the disk, not to the directory under it: gone with the namespace
    assert not (mount / "probe").exists()

    # HDFS's name and data directories and Spark's scratch on the disk; a namespace host
    # (no data disk) keeps its private directories
    hosts = {
        "disk": by_path,
        "netns": write_inventory(
            "netns", "hadoop_root=/srv/dr-cluster/hdfs node_root=/srv/dr-cluster"
        ),
    }
    for name, inv in hosts.items():
        out = tmp_path / f"rendered-{name}"
        proc = run_ansible("ansible-playbook", "tests/support/render_config.yml",
                           inventory=inv, extra={"render_out": str(out),
                                                 "provision_state_root": str(tmp_path / "st")},
                           timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:]
        hdfs = (out / "node" / "hdfs-site.xml").read_text()
        local_dirs = re.search(r"SPARK_LOCAL_DIRS=(\S+)", (out / "node" / "spark-env.sh")
                               .read_text()).group(1)  # fmt: skip
        root = f"{mount}" if name == "disk" else "/srv/dr-cluster"
        assert f"<value>{root}/hdfs/name</value>" in hdfs
        assert f"<value>{root}/hdfs/data</value>" in hdfs
        assert local_dirs == f"{root}/spark/tmp"
