"""spark-submit of the project's Spark applications, their reports, and the standalone
master's JSON status."""

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jobs.cluster import space
from jobs.dataset import fs, layout
from jobs.errors import DrcError

# The Spark applications' main file, named rather than imported: importing it would load
# pyspark, pyspark.ml, scipy and scikit-learn into the controller (1.6 s, measured).
SPARK_APPS = Path(__file__).resolve().parents[1] / "spark" / "apps.py"

# Apps whose JVMs only schedule Python tasks. In a fresh application the C2 compiler's
# start-up work cost the preprocess job's first second ~2 core-seconds of the 2 cores
# (measured: JVM CPU in the job 3.7 -> 1.9 s, the 2,000-image job 16.2 -> 15.4 s); code
# compiled by C1 alone schedules tasks just as well. Apps with JVM compute keep C2.
SCHEDULING_ONLY_APPS = {"preprocess", "features"}
C1_ONLY = tuple(
    f"spark.{side}.extraJavaOptions=-XX:TieredStopAtLevel=1" for side in ("driver", "executor")
)
STANDALONE_UI_PORT = 8080

# What a driver on a standalone master logs when it has registered, when the master grants
# it an executor, and every spark.starvation.timeout (15 s) while its job has none.
REGISTERED = "Connected to Spark cluster with app ID"
GRANTED = "Granted executor ID"
STARVED = "Initial job has not accepted any resources"


class WaitWatch:
    """A job queued behind other applications never sits silent: once the application has
    registered, every EVERY seconds without an executor (and whenever Spark's own
    starvation warning comes) the controller says it is waiting, then says when it got one."""

    def __init__(self, master: str, every: float = 10.0,
                 say: Callable[[str], None] = lambda s: print(s, flush=True)):  # fmt: skip
        self.master, self.every, self.say = master, every, say
        self.start = time.monotonic()
        self.granted = threading.Event()
        self.waited = False
        self.lock = threading.Lock()

    def line(self, line: str) -> None:
        if REGISTERED in line and not self.granted.is_set():
            threading.Thread(target=self._tick, daemon=True).start()
        elif STARVED in line:
            self._waiting()
        elif GRANTED in line and not self.granted.is_set():
            self.granted.set()
            with self.lock:
                if self.waited:
                    self.say(f"got an executor after {time.monotonic() - self.start:.0f} s")

    def close(self) -> None:
        self.granted.set()

    def _tick(self) -> None:
        while not self.granted.wait(self.every):
            self._waiting()

    def _waiting(self) -> None:
        with self.lock:
            if self.granted.is_set():
                return
            self.waited = True
            self.say(
                f"waiting for cores: {self.master} has given this application no executor "
                f"after {time.monotonic() - self.start:.0f} s; other applications hold the "
                "cluster's cores or memory (drc status lists them; spark.cores.max caps each)"
            )


@dataclass(frozen=True)
class ClusterTarget:
    master: str  # spark://host:port, local[N], ...
    master_ui: str | None = None  # the standalone master's web UI; None: derived from master
    conf_dir: str | None = None
    spark_conf: tuple[str, ...] = ()  # extra KEY=VALUE for spark-submit --conf

    @property
    def standalone(self) -> bool:
        return self.master.startswith("spark://")

    def status_ui(self) -> str | None:
        """The UI to ask about the application: a standalone master's only (local[N] and
        other masters have none to ask)."""
        if not self.standalone:
            return None
        if self.master_ui:
            return self.master_ui
        host = urllib.parse.urlsplit(self.master.split(",")[0]).hostname
        return f"http://{host}:{STANDALONE_UI_PORT}"


def spark_home() -> Path:
    """$SPARK_HOME, or the Spark that the pyspark wheel carries (found, not imported)."""
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise DrcError("pyspark", "not installed, and SPARK_HOME is not set")
    return Path(next(iter(spec.submodule_search_locations)))


def spark_conf(app: str, jar: Path | None, cluster: ClusterTarget) -> tuple[str, ...]:
    """The app's --conf pairs: C1-only JVMs for scheduling-only Python apps, then the
    caller's own (later pairs win in spark-submit)."""
    tuned = C1_ONLY if jar is None and app in SCHEDULING_ONLY_APPS else ()
    return (*tuned, *cluster.spark_conf)


def spark_submit(
    app: Path,
    app_args: list[str],
    master: str,
    log_path: Path,
    conf_dir: str | None = None,
    echo: Callable[[str], bool] = lambda line: False,
    main_class: str | None = None,
    spark_conf: tuple[str, ...] = (),
) -> None:
    """Run one application (a .py file, or a jar with `main_class`) on the cluster. Its log
    goes to a file, the lines `echo` accepts also to the console, a failure becomes one line."""
    cmd = [
        str(spark_home() / "bin" / "spark-submit"),
        "--master", master,
        "--conf", f"spark.pyspark.python={sys.executable}",
        "--conf", f"spark.pyspark.driver.python={sys.executable}",
        *[arg for kv in spark_conf for arg in ("--conf", kv)],
        *(["--class", main_class] if main_class else []),
        str(app), *app_args,
    ]  # fmt: skip
    env = dict(os.environ)
    if conf_dir:
        env["SPARK_CONF_DIR"] = conf_dir
    log_path.parent.mkdir(parents=True, exist_ok=True)
    watch = WaitWatch(master)
    try:
        with (
            log_path.open("w") as log,
            subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
            ) as proc,
        ):
            try:
                for line in proc.stdout:
                    log.write(line)
                    watch.line(line)
                    if echo(line):
                        print(line.rstrip(), flush=True)
            except OSError:
                proc.terminate()  # the log cannot be written (its disk is full): stop the job
                raise
            finally:
                watch.close()
    except OSError as exc:
        raise DrcError(log_path, f"cannot write the job's log ({exc.strerror}); "
                                 "the job was stopped") from exc  # fmt: skip
    if proc.returncode != 0:
        raise DrcError(
            log_path,
            f"spark-submit to {master} failed (exit {proc.returncode}); "
            f"last error: {_last_error_line(log_path)}",
        )


def _last_error_line(log_path: Path) -> str:
    lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line[:300]
    return lines[-1][:300] if lines else "(empty log)"


def submit_app(app: str, config: dict | None, out: layout.PathLike, cluster: ClusterTarget,
               jar: tuple[Path, str, list[str]] | None = None) -> dict:  # fmt: skip
    """spark-submit one of the Spark apps with its config (or the Scala job: `jar` is (jar,
    main class, arguments after the result file's path)), then write
    OUT/{app}-report.json: the app's result and how it ran. Returns that report."""
    layout.run_dir(out).mkdir(parents=True, exist_ok=True)
    result_path = layout.app_result(out, app).resolve()
    result_path.unlink(missing_ok=True)
    start = time.perf_counter()
    if jar is None:
        target, args, main_class = SPARK_APPS, [app, str(result_path), json.dumps(config)], None
    else:
        target, main_class, args = jar[0], jar[1], [str(result_path), *jar[2]]
    namenode_ui = fs.namenode_ui(*_strings(config), *(jar[2] if jar else ()))
    # the driver's node: its disks, and its name in a disk-full line
    local = [layout.run_dir(out), *space.spark_scratch(cluster.conf_dir)]
    node = space.own_address(cluster.master)
    try:
        spark_submit(
            target, args, cluster.master, layout.submit_log(out, app), cluster.conf_dir,
            echo=lambda line: line.startswith(("preprocess:", "features:")),
            main_class=main_class, spark_conf=spark_conf(app, jar and jar[0], cluster),
        )  # fmt: skip
    except DrcError as exc:
        # Out of space somewhere: that is the line to read first (which node, which disk).
        full = space.full_lines(namenode_ui, local, node)
        if full:
            raise DrcError("disk full", f"{'; '.join(full)}; {app} failed: {exc}") from exc
        raise
    # done, but new blocks skipped a full disk, or the driver's own disk is nearly out
    for line in space.full_lines(namenode_ui, local, node):
        print(f"{app}: warning: disk full: {line}", flush=True)
    report = json.loads(result_path.read_text())
    report["submit_s"] = time.perf_counter() - start
    ui = cluster.status_ui()
    if ui:
        report["app_state"] = application_state(master_status(ui), report["app_id"])
        report["app_ui"] = f"{ui.rstrip('/')}/app/?appId={report['app_id']}"
    layout.app_report(out, app).write_text(json.dumps(report, indent=2))
    return report


def _strings(value) -> list[str]:
    """Every string in a config (the paths an app reads and writes among them)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def master_status(master_ui: str, timeout: float = 5.0) -> dict:
    """The standalone master's /json/ page: workers, active and completed applications."""
    url = master_ui.rstrip("/") + "/json/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DrcError(url, f"Spark master does not answer ({exc})") from exc


def application_state(status: dict, app_id: str) -> str | None:
    for key in ("activeapps", "completedapps"):
        for app in status.get(key, []):
            if app.get("id") == app_id:
                return app.get("state")
    return None
