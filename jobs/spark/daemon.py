"""PySpark's worker daemon, with pyspark imported from its installed package.

Named by `spark.python.daemon.module` (the spark role's spark-defaults.conf). Spark starts
the daemon at an application's first Python task, so its import time is on every job's
critical path; see jobs.spark.pyspark_path for why the zip costs 0.5 s there.
"""

from jobs.spark.pyspark_path import prefer_installed_pyspark

prefer_installed_pyspark()

from pyspark import daemon  # noqa: E402  (after the path is set)

if __name__ == "__main__":
    daemon.manager()
