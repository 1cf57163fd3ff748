"""The controller's side: submit the Spark applications, run the pipeline, build the Scala
job, size executors, the 2015 grid, the results table. Never imports pyspark, numba or
torch (a test checks): `drc` starts in a fraction of a second."""
