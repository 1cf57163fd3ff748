// The Scala logistic regression job. On cloud nodes: `sbt package` (the sbt role installs sbt).
// Here, without sbt: `drc train-lr --solver scala` compiles it with the Scala compiler that
// ships inside the pyspark wheel (jobs/scala_build.py).
name := "dr-cluster-lr"
version := "0.1.0"
scalaVersion := "2.13.18"

libraryDependencies ++= Seq(
  "org.apache.spark" %% "spark-sql"   % "4.0.1" % "provided",
  "org.apache.spark" %% "spark-mllib" % "4.0.1" % "provided"
)
