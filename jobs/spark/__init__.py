"""What runs inside Spark: `apps` (the applications' entry point), `daemon` (the Python
worker daemon), `pyspark_path` (import pyspark from its installed package)."""
