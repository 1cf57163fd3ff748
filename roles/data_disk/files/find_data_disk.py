#!/usr/bin/env python3
"""Which disk is this node's data disk, and what is on it? Reads only; prints JSON.

--device PATH: that disk (a stable path), when it exists; else, with --size-gb N, the whole
disk of that size carrying --label, or else the one that is blank (no partition table, no
filesystem, not mounted). Several candidates or none: an error naming them."""

import argparse
import json
import os
import subprocess
import sys


def fail(message: str) -> None:
    print(json.dumps({"error": message}))
    sys.exit(1)


def probe(device: str) -> dict:
    """What is on the disk itself (blkid -p reads the disk, not a cache)."""
    proc = subprocess.run(["blkid", "-p", "-o", "export", device], capture_output=True, text=True)
    if proc.returncode not in (0, 2):  # 2: nothing found, i.e. blank
        fail(f"blkid {device}: {proc.stderr.strip()}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def by_size(size_gb: int, label: str) -> str:
    out = subprocess.run(["lsblk", "--json", "--bytes", "--paths", "--output",
                          "NAME,SIZE,TYPE,MOUNTPOINT"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip

    def gb(d: dict) -> tuple[int, int]:  # clouds say GB for GiB (AWS) or for GB
        return round(int(d["size"]) / 2**30), round(int(d["size"]) / 10**9)

    devices = json.loads(out)["blockdevices"]
    disks = [d for d in devices if d["type"] in ("disk", "loop") and size_gb in gb(d)]
    # What is on each, read from the disk: lsblk's own columns come from udev's database,
    # which a machine without udevd lacks.
    held = {d["name"]: probe(d["name"]) for d in disks}
    ours = [name for name, found in held.items() if found.get("LABEL") == label]
    blank = [d["name"] for d in disks if not (held[d["name"]] or d.get("children")
                                              or d.get("mountpoint"))]  # fmt: skip
    for found in (ours, blank):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            fail(f"several {size_gb} GB disks qualify ({', '.join(found)}): set data_disk_device")
    used = [f"{name} ({found.get('TYPE') or found.get('PTTYPE') or 'in use'})"
            for name, found in held.items()]  # fmt: skip
    fail(f"no blank {size_gb} GB disk, none labelled {label}: "
         f"{', '.join(used) or 'none of that size'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="")
    parser.add_argument("--size-gb", type=int, default=0)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    if args.device and os.path.exists(args.device):
        device = os.path.realpath(args.device)
    elif args.size_gb > 0:
        device = by_size(args.size_gb, args.label)
    else:
        fail(f"{args.device}: no such disk")
    print(json.dumps({"device": device, **probe(device)}))


if __name__ == "__main__":
    main()
