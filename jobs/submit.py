"""spark-submit of the project's Spark applications, and the master's JSON status."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from jobs.errors import DrcError


def spark_home() -> Path:
    """$SPARK_HOME, or the Spark that the pyspark wheel carries."""
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    import pyspark

    return Path(pyspark.__file__).parent


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
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
        ) as proc,
    ):
        for line in proc.stdout:
            log.write(line)
            if echo(line):
                print(line.rstrip(), flush=True)
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
