"""The CNN: PyTorch on CPU or GPU, alone or distributed over the Spark cluster."""
