"""Multinomial logistic regression, the seed's model: `config` (LRConfig), `kernels` (loss and
gradient on uint8 rows), `blocks` (the uint8 block files and their sums), `model` (the
estimator: fit / predict / save / load), `ml` (pyspark.ml's), `app` (the Spark side)."""
