"""The `drc` entry point: the parser of every command group, and one clear error line."""

import argparse
import sys

from jobs.cli import cnn, configure, data, lr, pipeline
from jobs.errors import DrcError

GROUPS = (pipeline, lr, cnn, data, configure)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DrcError as exc:
        print(f"drc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("drc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
