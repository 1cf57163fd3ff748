"""Where a playbook's time goes: each task's wall time (first host start to last host end),
written as JSON to $DRC_TASK_TIMES when that is set; silent and idle otherwise.

    DRC_TASK_TIMES=/tmp/times.json ansible-playbook ...

bench/provision_local.py reads it to list the slowest tasks of a bring-up.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: each task's wall time, as JSON, to the file DRC_TASK_TIMES names
description: Appends nothing to the output; written at the end of the run.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super().__init__()
        self._out = os.environ.get("DRC_TASK_TIMES")
        self._tasks: list[dict] = []
        self._current: dict | None = None
        self._play = ""

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _start(self, task):
        self._close()
        role = task._role.get_name() if task._role else ""
        self._current = {"play": self._play, "task": task.get_name(), "role": role,
                         "start": time.monotonic()}  # fmt: skip

    def _close(self):
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("start"), 3)
            self._tasks.append(self._current)
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._out:
            self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        if self._out:
            self._start(task)

    def v2_playbook_on_stats(self, stats):
        if not self._out:
            return
        self._close()
        with open(self._out, "w") as out:
            json.dump({"tasks": self._tasks, "seconds": round(sum(t["seconds"] for t in
                       self._tasks), 1)}, out, indent=1)  # fmt: skip
