// Multinomial logistic regression on the preprocess Parquet (uint8 pixels), the job the
// 2015 team had to write in Scala. Same features, split and model as `drc train-lr
// --solver ml`, so the two must agree on kappa.
//
// spark-submit --class DrLogisticRegression dr-lr.jar OUT_JSON DATA SIZE
//   [--reg 0.01] [--max-iter 100] [--validation 0.2] [--seed 42]

import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.{col, expr, udf}

import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Paths}

object DrLogisticRegression {
  private val Grades = 5

  def quadraticKappa(truth: Array[Int], predicted: Array[Int]): Double = {
    if (truth.sameElements(predicted)) return 1.0
    val observed = Array.ofDim[Double](Grades, Grades)
    truth.zip(predicted).foreach { case (t, p) => observed(t)(p) += 1 }
    val n = truth.length.toDouble
    val rows = observed.map(_.sum)
    val cols = (0 until Grades).map(j => observed.map(_(j)).sum)
    var num = 0.0
    var den = 0.0
    for (i <- 0 until Grades; j <- 0 until Grades) {
      val w = math.pow(i - j, 2) / math.pow(Grades - 1, 2)
      num += w * observed(i)(j)
      den += w * rows(i) * cols(j) / n
    }
    1.0 - num / den
  }

  def main(args: Array[String]): Unit = {
    val Array(outJson, data, size) = args.take(3)
    val opts = args.drop(3).grouped(2).collect { case Array(k, v) => k -> v }.toMap
    val reg = opts.getOrElse("--reg", "0.01").toDouble
    val maxIter = opts.getOrElse("--max-iter", "100").toInt
    val fraction = opts.getOrElse("--validation", "0.2").toDouble
    val seed = opts.getOrElse("--seed", "42").toInt

    val spark = SparkSession.builder().appName("dr-cluster train-lr (Scala)").getOrCreate()
    val toVector = udf { (pixels: Array[Byte]) =>
      Vectors.dense(pixels.map(b => (b & 0xff) / 255.0)): Vector
    }
    val start = System.nanoTime()
    // the same split as PySpark: Murmur3 of (subject, seed), 1000 buckets
    val df = spark.read.parquet(s"$data/size=$size")
      .where(col("level").isNotNull)
      .withColumn("validation", expr(s"pmod(hash(subject, $seed), 1000)") < math.round(fraction * 1000).toInt)
      .withColumn("features", toVector(col("pixels")))
      .withColumn("label", col("level").cast("double"))
    val train = df.where(!col("validation")).cache()
    val nTrain = train.count()
    val loaded = System.nanoTime()
    val model = new LogisticRegression()
      .setFamily("multinomial").setRegParam(reg).setElasticNetParam(0.0).setMaxIter(maxIter)
      .fit(train)
    val trained = System.nanoTime()
    // too few subjects to hold any out (the 4-photo demo): score the training images and say so
    val heldOut = df.where(col("validation"))
    val onTraining = heldOut.isEmpty
    val evalSet = if (onTraining) "training (no subject held out)" else "validation (subject split)"
    val scored = model.transform(if (onTraining) train else heldOut).select("label", "prediction").collect()
    val truth = scored.map(_.getDouble(0).toInt)
    val predicted = scored.map(_.getDouble(1).toInt)
    val kappa = quadraticKappa(truth, predicted)
    val done = System.nanoTime()
    def secs(a: Long, b: Long) = (b - a) / 1e9
    val json =
      s"""{"solver": "scala", "kappa": $kappa, "n_train": $nTrain, "n_scored": ${truth.length}, """ +
      s""""eval_set": "$evalSet", "iterations": ${model.summary.totalIterations}, "app_id": "${spark.sparkContext.applicationId}", """ +
      s""""timings_s": {"load": ${secs(start, loaded)}, "train": ${secs(loaded, trained)}, """ +
      s""""evaluate": ${secs(trained, done)}}}"""
    Files.write(Paths.get(outJson), json.getBytes(StandardCharsets.UTF_8))
    println(s"kappa $kappa on ${truth.length} images ($evalSet)")
    spark.stop()
  }
}
