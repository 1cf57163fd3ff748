"""Directories and small text files on a node in one module run: what a role would otherwise
do with a `file` loop and a `template` loop, each item its own round trip to the node.

Used by the roles for their configuration: a warm bring-up (nothing to change) is dominated
by these round trips, ~0.6 s per item on each host (bench/provision_local.py).
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: drc_files
short_description: Create directories and write text files, only where they differ
description:
  - Directories first (each missing parent created with the same owner and mode, as
    ansible.builtin.file does), then files, each written
    atomically (a temporary file in the same directory, then renamed) and only when its
    content differs; owner, group and mode are set where they differ.
  - Reports changed when any path was created, written or had its attributes set, and
    lists those paths in C(changed_paths). Supports check mode.
options:
  directories:
    description: Directories to create.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {type: path, required: true, description: The directory.}
      mode: {type: raw, description: Its mode, as for ansible.builtin.file.}
      owner: {type: str, description: Its owner; defaults to the module's owner.}
      group: {type: str, description: Its group; defaults to the module's group.}
  files:
    description: Text files to write (UTF-8); their directories must exist or be listed above.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {type: path, required: true, description: The file.}
      content: {type: str, required: true, description: What it holds.}
      mode: {type: raw, required: true, description: Its mode, as for ansible.builtin.file.}
      owner: {type: str, description: Its owner; defaults to the module's owner.}
      group: {type: str, description: Its group; defaults to the module's group.}
  owner:
    description: The owner of every path that names none.
    type: str
  group:
    description: The group of every path that names none.
    type: str
"""

EXAMPLES = r"""
- name: Render the configuration
  drc_files:
    owner: hadoop
    directories:
      - {path: /srv/app/conf, mode: "0755"}
    files:
      - path: /srv/app/conf/app.conf
        content: "{{ lookup('ansible.builtin.template', 'app.conf.j2') }}"
        mode: "0644"
"""

RETURN = r"""
changed_paths:
  description: The paths created, written, or whose owner, group or mode were set.
  type: list
  elements: str
  returned: always
"""

_PATH = {
    "path": {"type": "path", "required": True},
    "mode": {"type": "raw"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
}


def _attributes(item: dict, owner: str | None, group: str | None) -> dict:
    """The dict AnsibleModule.set_fs_attributes_if_different reads."""
    return {
        "path": item["path"],
        "mode": item.get("mode"),
        "owner": item.get("owner") or owner,
        "group": item.get("group") or group,
        "secontext": [None, None, None],  # SELinux left as the system sets it
        "attributes": None,
    }


def _differs(path: str, content: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read() != content
    except FileNotFoundError:
        return True


def _write(module: AnsibleModule, item: dict, content: bytes, owner, group) -> None:
    """Atomically, with its owner and mode set before it holds anything: a reader sees the
    old file or the new one, never half of it, and a secret is never readable by others."""
    path = item["path"]
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        module.fail_json(msg=f"{path}: its directory {parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".drc-files-")  # mode 0600, empty
    try:
        with os.fdopen(fd, "wb") as f:
            if os.path.exists(path):  # an owner not given stays as it was
                was = os.stat(path)
                os.chown(tmp, was.st_uid, was.st_gid)
            wanted = _attributes({**item, "path": tmp}, owner, group)
            module.set_fs_attributes_if_different(wanted, True)
            f.write(content)  # the open descriptor writes whatever the new mode says
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _make_directory(module: AnsibleModule, item: dict, owner, group) -> None:
    """PATH and each missing parent, each with the item's owner and mode (as the file
    module does); another host making the same directory at the same moment (hosts that
    share a filesystem) is no error."""
    missing, path = [], item["path"]
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                module.fail_json(msg=f"{path}: exists and is not a directory")
        wanted = _attributes({**item, "path": path}, owner, group)
        module.set_fs_attributes_if_different(wanted, True)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": _PATH},
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    **_PATH,
                    "mode": {"type": "raw", "required": True},
                    "content": {"type": "str", "required": True, "no_log": True},
                },
            },
            "owner": {"type": "str"},
            "group": {"type": "str"},
        },
        supports_check_mode=True,
    )
    owner, group = module.params["owner"], module.params["group"]
    changed_paths = []

    for item in module.params["directories"]:
        path, created = item["path"], False
        if not os.path.isdir(path):
            if os.path.exists(path):
                module.fail_json(msg=f"{path}: exists and is not a directory")
            created = True
            if not module.check_mode:
                _make_directory(module, item, owner, group)
        if created and module.check_mode:
            changed_paths.append(path)
            continue
        if module.set_fs_attributes_if_different(_attributes(item, owner, group), created):
            changed_paths.append(path)

    for item in module.params["files"]:
        path = item["path"]
        content = item["content"].encode("utf-8")
        written = _differs(path, content)
        if written and module.check_mode:
            changed_paths.append(path)
            continue
        if written:
            _write(module, item, content, owner, group)
            changed_paths.append(path)
        elif module.set_fs_attributes_if_different(_attributes(item, owner, group), False):
            changed_paths.append(path)

    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths)


if __name__ == "__main__":
    main()
