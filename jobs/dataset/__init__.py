"""The data set: labels, the output layout, the subject split, synthetic data (no Spark)."""

SYNTH_SEED = 2015  # the default seed of the synthetic data sets
