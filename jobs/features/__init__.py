"""Deep features on Spark: the pretrained backbone's pooled features of every image."""
