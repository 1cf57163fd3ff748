"""requirements.lock split by what runs where, every pin copied from the lock (make lock):

  runtime.txt     every node: the Spark jobs (preprocess, LR, Parquet), staging (Swift, S3)
                  and the HDFS client
  cnn.txt         on top of runtime.txt, the hosts that train or grade with the CNN (the
                  python_env role's python_env_cnn): torch and the pretrained backbone
  controller.txt  on top of both, the controller and developers: Ansible, Salt (salt-ssh
                  runs here only), the cloud APIs, tests and lint

The roots are pyproject.toml's ([project] dependencies: runtime; the optional groups `cnn`,
`controller` and `dev`); each kind holds its roots' whole dependency tree, as the installed
distributions' metadata declares it, less what an earlier kind already holds.

python requirements/split.py [--check]   (--check: the files are what they would be written)
"""

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
# kind -> pyproject.toml's groups of roots ("" is [project] dependencies); in install order
KINDS = {"runtime": ("",), "cnn": ("cnn",), "controller": ("controller", "dev")}
HEADERS = {
    "runtime": "every node: the Spark jobs, staging and the HDFS client",
    "cnn": "with runtime.txt, the hosts that train or grade with the CNN",
    "controller": "with runtime.txt and cnn.txt, the controller's and developers' tools",
}


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """Canonical name -> the lock's line (`Name==version`)."""
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return {canonicalize_name(ln.split("==")[0]): ln for ln in lines if ln and ln[0] != "#"}


def roots(pyproject: Path = REPO / "pyproject.toml") -> dict[str, list[Requirement]]:
    project = tomllib.loads(pyproject.read_text())["project"]
    groups = {"": project["dependencies"], **project.get("optional-dependencies", {})}
    return {kind: [Requirement(r) for g in names for r in groups[g]]
            for kind, names in KINDS.items()}  # fmt: skip


def closure(reqs: list[Requirement]) -> set[str]:
    """The distributions REQS need, extras and this platform's markers applied."""
    seen: set[tuple[str, frozenset]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in reqs]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            declared = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: another platform's (the lock decides below)
        for line in declared:
            req = Requirement(line)
            wanted = not req.marker or any(
                req.marker.evaluate({"extra": e}) for e in (sorted(extras) or [""])
            )
            if wanted:
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {name for name, _ in seen}


def split(lock: dict[str, str], kinds: dict[str, list[Requirement]]) -> dict[str, list[str]]:
    """Each kind's lock lines. Needed packages the lock does not pin are left to pip (torch's
    CUDA wheels, which its PyPI build pulls and its CPU build does not); a pinned package no
    kind needs is an error: drop it from the lock or add its root to pyproject.toml."""
    taken: set[str] = set()
    out = {}
    for kind, reqs in kinds.items():
        mine = (closure(reqs) & lock.keys()) - taken
        taken |= mine
        out[kind] = sorted((lock[n] for n in mine), key=str.lower)
    unused = sorted(lock.keys() - taken)
    if unused:
        raise SystemExit(f"requirements.lock pins what no kind needs: {', '.join(unused)}")
    return out


def render(kind: str, lines: list[str]) -> str:
    return (f"# {HEADERS[kind]}.\n# Written by `make lock` (requirements/split.py) from "
            f"requirements.lock: do not edit.\n" + "\n".join(lines) + "\n")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python requirements/split.py")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for kind, lines in split(read_lock(), roots()).items():
        path, text = LOCK.parent / "requirements" / f"{kind}.txt", render(kind, lines)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"{path.relative_to(REPO)}: {len(lines)} packages")
    if stale:
        print(f"stale: {', '.join(stale)} (make lock)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
