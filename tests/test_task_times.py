"""callback_plugins/task_times.py: each task's wall time, written where DRC_TASK_TIMES says
(what bench/provision_local.py lists as the slowest tasks of a bring-up)."""

import json

from tests.support.ansible import run_ansible

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: A short task
      ansible.builtin.command: "true"
      changed_when: false
    - name: A task of about half a second
      ansible.builtin.command: sleep 0.5
      changed_when: false
"""


def test_each_task_is_timed_only_when_asked(tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    times = tmp_path / "times.json"
    proc = run_ansible("ansible-playbook", str(play), env={"DRC_TASK_TIMES": str(times)},
                       timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    tasks = {t["task"]: t["seconds"] for t in json.loads(times.read_text())["tasks"]}
    assert set(tasks) == {"A short task", "A task of about half a second"}
    assert tasks["A task of about half a second"] >= 0.5 > tasks["A short task"] - 0.5
    times.unlink()
    assert run_ansible("ansible-playbook", str(play), timeout=120).returncode == 0
    assert not times.exists()
