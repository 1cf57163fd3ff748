"""`drc stage` against a real OpenStack Swift: its own API (SLO segments) and its S3 API
(multipart). Round trip, interrupted get, corruption, and clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jobs.storage import open_store, transfer
from tests.support.processes import kill_when

pytestmark = pytest.mark.integration

BIG = 60_000_000
SEGMENT = 16 << 20  # the 60 MB file goes up as 4 segments / parts


def make_tree(root: Path, sample_dir: Path) -> dict[str, bytes]:
    """198 JPEGs of various sizes (4 real Kaggle ones among them) and one 60 MB file."""
    rng = np.random.default_rng(5)
    root.mkdir()
    (root / "images").mkdir()
    for src in sorted(sample_dir.glob("*.jpeg")):
        (root / "images" / src.name).write_bytes(src.read_bytes())
    for i in range(194):
        side = int(rng.integers(32, 400))
        pixels = rng.integers(0, 256, (side, side + i % 7, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"{1000 + i}_left.jpeg", quality=90)
    (root / "trainLabels.csv").write_text("image,level\n10_left,0\n")
    (root / "sub").mkdir()
    (root / "sub" / "big.bin").write_bytes(rng.integers(0, 256, BIG, dtype=np.uint8).tobytes())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def stage_env(swift_env, monkeypatch_module):
    for name, value in swift_env.items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.setattr("jobs.storage.swift.SEGMENT_SIZE", SEGMENT)
    monkeypatch_module.setattr("jobs.storage.s3.PART_SIZE", SEGMENT)
    return swift_env


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def source(tmp_path_factory, sample_dir) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("src") / "set"
    return root, make_tree(root, sample_dir)


@pytest.mark.parametrize("url", ["swift://dr-data/train", "s3://dr-s3/train"])
def test_round_trip_is_byte_identical(stage_env, source, tmp_path, url):
    root, files = source
    put = transfer.put(root, url)
    assert (put.objects, put.transferred, put.failed) == (200, 200, [])
    listing = transfer.ls(url)
    assert len(listing) == 200
    assert sum(o.size for o in listing) == sum(len(b) for b in files.values())
    store = open_store(url)
    assert store.meta("sub/big.bin").segmented  # SLO / multipart, not one 60 MB PUT

    got = transfer.get(url, tmp_path / "got")
    assert (got.transferred, got.present, got.failed, got.size_only) == (200, 0, [], 0)
    assert tree(tmp_path / "got") == files

    again = transfer.put(root, url)
    assert (again.transferred, again.present) == (0, 200)


def run_drc(*args, env, **kwargs) -> subprocess.CompletedProcess:
    drc = Path(sys.executable).with_name("drc")
    return subprocess.run([str(drc), *args], env=env, capture_output=True, text=True,
                          timeout=300, **kwargs)  # fmt: skip


def test_interrupted_get_resumes_with_only_the_missing(stage_env, source, tmp_path):
    root, files = source
    url = "swift://dr-resume/train"
    transfer.put(root, url)
    dest = tmp_path / "got"
    env = dict(os.environ, **stage_env)
    drc = Path(sys.executable).with_name("drc")
    # One transfer at a time, so "half the bytes" means half the objects done or under way.
    proc = subprocess.Popen([str(drc), "stage", "get", url, str(dest), "--jobs", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    total = sum(len(b) for b in files.values())

    def half_the_bytes_moved() -> bool:
        moved = 0
        for path in dest.rglob("*") if dest.exists() else []:
            try:  # a .partial may be renamed between the listing and the stat
                moved += path.stat().st_size if path.is_file() else 0
            except FileNotFoundError:
                continue
        return moved >= total // 2

    kill_when(proc, half_the_bytes_moved, timeout_s=120, poll_s=0.005)
    complete = {k for k in files if (dest / k).is_file()}
    assert 0 < len(complete) < len(files)
    assert (dest / "sub" / ".big.bin.partial").is_file()  # killed inside the 60 MB object

    rerun = run_drc("stage", "get", url, str(dest), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(files) - len(complete)} transferred" in rerun.stdout
    assert f"{len(complete)} already present and verified" in rerun.stdout
    assert tree(dest) == files
    assert not list(dest.rglob(".*.partial"))


def test_flipped_byte_is_found_and_refetched(stage_env, source, tmp_path):
    root, files = source
    url = "s3://dr-flip/train"
    transfer.put(root, url)
    dest = tmp_path / "got"
    transfer.get(url, dest)
    victim = dest / "images" / "1003_left.jpeg"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))

    checked = transfer.verify(url, dest)
    assert (checked.ok, checked.different, checked.missing) == (199, ["images/1003_left.jpeg"], [])
    env = dict(os.environ, **stage_env)
    bad = run_drc("stage", "verify", url, str(dest), env=env)
    assert bad.returncode == 1 and "differs: images/1003_left.jpeg" in bad.stdout

    repaired = transfer.get(url, dest)
    assert (repaired.transferred, repaired.present) == (1, 199)
    assert tree(dest) == files


@pytest.mark.parametrize(
    ("url", "override", "expected"),
    [
        ("swift://dr-data/train", {"ST_KEY": "not-the-key"}, "authentication failed"),
        ("swift://no-such-container/x", {}, "not found"),
        ("swift://dr-data/train", {"ST_AUTH": "http://127.0.0.1:9/auth/v1.0"}, "cannot reach"),
        ("s3://dr-s3/train", {"AWS_SECRET_ACCESS_KEY": "not-the-key"}, "authentication failed"),
        ("s3://no-such-bucket/x", {}, "not found"),
        ("s3://dr-s3/train", {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "cannot reach"),
    ],
)
def test_store_errors_are_one_clear_line(stage_env, tmp_path, url, override, expected):
    env = {**os.environ, **stage_env, **override}
    proc = run_drc("stage", "get", url, str(tmp_path / "got"), env=env)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and url in lines[0], proc.stderr
    for secret in ("testing", "not-the-key"):
        assert secret not in proc.stdout + proc.stderr


def test_stage_data_role_pulls_from_swift_without_leaking_the_key(
    stage_env, source, tmp_path, repo
):
    root, files = source
    url = "swift://dr-role/train"
    transfer.put(root, url)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({
        "data_url": url, "data_dir": str(tmp_path / "data"),
        "swift_auth_url": stage_env["ST_AUTH"], "vault_swift_user": stage_env["ST_USER"],
        "vault_swift_key": stage_env["ST_KEY"],
        "data_one_hop": False,  # the 2015 flow: staged on the master's disk
    }))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "AWS_"))}
    env["ANSIBLE_CONFIG"] = str(repo / "ansible.cfg")
    playbook = Path(sys.executable).with_name("ansible-playbook")

    def run() -> str:
        proc = subprocess.run([str(playbook), "-e", f"@{extra}", "--tags", "stage",
                               "playbooks/main.yml"], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert stage_env["ST_KEY"] not in proc.stdout + proc.stderr
        return proc.stdout

    first = run()
    assert "200 transferred" in first
    assert tree(tmp_path / "data") == files
    second = run()
    assert "0 transferred" in second and "changed=0" in second
