// The Scala logistic regression job, built on the master by `sbt package` (role sbt, or
// `drc build-scala`). Spark is provided by the cluster, and the job compiles against the
// very jars the nodes run: $SPARK_HOME/jars, the pyspark wheel's Spark 4.3 (which is not on
// Maven Central), so the job and the cluster cannot differ in version.
name := "dr-cluster-lr"
version := "0.1.0"
scalaVersion := "2.13.18" // the wheel's scala-library

Compile / unmanagedJars ++= {
  val home = sys.env.getOrElse("SPARK_HOME", sys.error("SPARK_HOME is not set: the build compiles against its jars"))
  (file(home) / "jars" * "*.jar").classpath
}
