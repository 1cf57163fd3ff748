"""drc stage put|get|verify|ls|unpack, synth, synth-features: data in and out of the stores,
and synthetic data sets."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from jobs.cli.common import sizes_arg
from jobs.dataset import SYNTH_SEED
from jobs.dataset.shared import shared_root


def cmd_stage(args: argparse.Namespace) -> int:
    from jobs.storage import transfer

    if args.action == "ls":
        objects = transfer.ls(args.url)
        for info in objects:
            print(f"{info.size:>12}  {info.etag or '-':<34}  {info.key}")
        print(f"{len(objects)} objects, {sum(i.size for i in objects)} bytes")
        return 0
    if args.action == "verify":
        checked = transfer.verify(args.url, Path(args.dest), jobs=args.jobs)
        for key in checked.missing + checked.different:
            print(f"{'missing' if key in checked.missing else 'differs'}: {key}")
        print(checked.summary())
        return 0 if not (checked.missing or checked.different) else 1
    if args.action == "put":
        from jobs.dataset import fs

        result = transfer.put(fs.local(args.local), args.url, jobs=args.jobs)  # file:// too
    else:
        result = transfer.get(args.url, Path(args.dest), jobs=args.jobs)
    for where, reason in result.failed:
        print(f"drc: error: {where}: {reason}", file=sys.stderr)
    print(result.summary())
    return 1 if result.failed else 0


def cmd_unpack(args: argparse.Namespace) -> int:
    from jobs.storage.unpack import expand_parts, unpack

    result = unpack(expand_parts(args.parts), Path(args.dest))
    for name, reason in result.refused:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(result.summary())
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from jobs.dataset.synth_images import generate

    start = time.perf_counter()
    n = generate(Path(args.out), args.count, args.width, args.height, args.seed, args.workers,
                 args.balanced)  # fmt: skip
    secs = time.perf_counter() - start
    print(
        f"{n} synthetic images ({args.width}x{args.height}) and trainLabels.csv in {args.out} "
        f"({secs:.1f} s)"
    )
    return 0


def cmd_synth_features(args: argparse.Namespace) -> int:
    from jobs.dataset.synth_features import generate

    start = time.perf_counter()
    summary = generate(Path(args.out), args.count, args.sizes, args.seed)
    print(f"{args.count} synthetic images at sizes {list(args.sizes)} in {args.out} "
          f"({time.perf_counter() - start:.1f} s); grades {summary['levels']}")  # fmt: skip
    return 0


def cmd_demo_set(args: argparse.Namespace) -> int:
    from jobs.dataset.demo_set import choose

    data = Path(args.data) if args.data else None
    chosen = choose(Path(args.out), data, Path(args.shared), args.eyes)
    print(f"demo photographs in {chosen.photos}: {chosen.source}; {chosen.done}")
    if args.vars:
        Path(args.vars).write_text(json.dumps(chosen.playbook_vars(), indent=1) + "\n")
    return 0


def register(sub) -> None:
    stage = sub.add_parser("stage", help="move data between stores and directories, verified")
    stage_sub = stage.add_subparsers(dest="action", required=True)
    url_help = "file:///dir, swift://container/prefix or s3://bucket/prefix"
    p = stage_sub.add_parser("put", help="upload a directory (large files as segments)")
    p.add_argument("local")
    p.add_argument("url", help=url_help)
    p = stage_sub.add_parser("get", help="download every object; re-run fetches only the rest")
    p.add_argument("url", help=url_help)
    p.add_argument("dest")
    p = stage_sub.add_parser("verify", help="compare a directory with the store")
    p.add_argument("url", help=url_help)
    p.add_argument("dest")
    p = stage_sub.add_parser("ls", help="list objects: size, ETag, name")
    p.add_argument("url", help=url_help)
    for p in stage_sub.choices.values():
        p.add_argument("--jobs", type=int, default=8, help="parallel transfers")
        p.set_defaults(func=cmd_stage)
    p = stage_sub.add_parser("unpack", help="extract a split zip (PART1 PART2 ...) as one")
    p.add_argument("parts", nargs="+", help="the parts in order, or one glob like 'train.zip.*'")
    p.add_argument("dest")
    p.set_defaults(func=cmd_unpack)

    p = sub.add_parser("synth", help="write synthetic fundus JPEGs and trainLabels.csv")
    p.add_argument("out")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--width", type=int, default=3888)
    p.add_argument("--height", type=int, default=2592)
    p.add_argument("--seed", type=int, default=SYNTH_SEED)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--balanced", action="store_true", help="equal grade shares (CNN tests)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("synth-features", help="write preprocess-layout Parquet directly")
    p.add_argument("out")
    p.add_argument("--count", type=int, default=35126)
    p.add_argument("--size", dest="sizes", type=sizes_arg, default=(128,))
    p.add_argument("--seed", type=int, default=SYNTH_SEED)
    p.set_defaults(func=cmd_synth_features)

    p = sub.add_parser("demo-set", help="the demo's photographs in OUT/KIND: a user's Kaggle "
                       "data, the shared samples + unseen real eyes, or synthetic")  # fmt: skip
    p.add_argument("out")
    p.add_argument("--data", help="Kaggle's photographs: a train/ folder with trainLabels.csv, "
                   "or the split zip (a folder with train.zip.001 ..., or one part)")  # fmt: skip
    p.add_argument("--eyes", type=int, default=600, help="eyes the CNN is scored on, at most")
    p.add_argument("--shared", default=str(shared_root() / "data"),
                   help="the shared data directory (kaggle-sample/, eyepacs-256/)")  # fmt: skip
    p.add_argument("--vars", help="write the playbook variables for this set here (JSON)")
    p.set_defaults(func=cmd_demo_set)
