"""A cluster's own SSH key: made on the controller, kept beside the cluster's inventory
(0600, in a hidden directory that `-i inventories/NAME` never parses), removed with the
cluster. Only its public half ever reaches the cloud."""

import os
import shutil
import subprocess
from pathlib import Path

from provision.errors import ProvisionError

KEY_DIR = ".provision"  # also holds spec.json; hidden: Ansible skips it in an inventory dir


def key_path(cluster_dir: Path) -> Path:
    return Path(cluster_dir) / KEY_DIR / "ssh_key"


def ensure_key(cluster_dir: Path, kind: str, comment: str) -> tuple[Path, bool]:
    """(the private key, whether it was made now)."""
    key = key_path(cluster_dir)
    if key.is_file():
        os.chmod(key, 0o600)
        return key, False
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    bits = ["-b", "3072"] if kind == "rsa" else []
    proc = subprocess.run(["ssh-keygen", "-q", "-t", kind, *bits, "-N", "", "-C", comment,
                           "-f", str(key)], capture_output=True, text=True, timeout=60)  # fmt: skip
    if proc.returncode != 0:
        raise ProvisionError("ssh-keygen", proc.stderr.strip() or f"exit {proc.returncode}")
    os.chmod(key, 0o600)
    return key, True


def public_key(key: Path) -> str:
    return Path(f"{key}.pub").read_text().strip()


def remove_key(cluster_dir: Path) -> None:
    key = key_path(cluster_dir)
    for path in (key, Path(f"{key}.pub")):
        path.unlink(missing_ok=True)
    if key.parent.is_dir() and not any(key.parent.iterdir()):
        shutil.rmtree(key.parent)
