"""The same training on the Spark cluster's executors, through TorchDistributor
(gloo on CPU, NCCL on GPU). Rank 0 writes checkpoints and metrics.json, which the driver
reads back: the distributor's return value is not relied on. Rank 0 runs on any node, so
on nodes that share no disk OUT must be an hdfs:// URL."""

import json
from dataclasses import asdict, dataclass, field

from jobs.cnn.train import METRICS, TrainConfig
from jobs.config import JsonConfig
from jobs.dataset import fs


@dataclass(frozen=True)
class DistributedConfig(JsonConfig):
    """What the train-cnn Spark app receives: the training config and how to spread it."""

    train: dict = field(default_factory=dict)  # TrainConfig's fields
    processes: int = 2
    use_gpu: bool = False


def _entry(config: dict) -> dict:
    from jobs.cnn.train import TrainConfig, train

    cfg = TrainConfig.from_dict(config)
    cfg.workers = 0  # inside a Spark task: no extra worker processes
    return train(cfg, log=lambda line: print(line, flush=True))


def train_distributed(job: DistributedConfig) -> dict:
    from pyspark.ml.torch.distributor import TorchDistributor

    cfg, processes = TrainConfig.from_dict(job.train), job.processes
    # Each process gets batch_size / processes images: the same global batch as one process.
    config = asdict(cfg) | {"batch_size": max(1, cfg.batch_size // processes)}
    TorchDistributor(num_processes=processes, local_mode=False, use_gpu=job.use_gpu).run(
        _entry, config
    )
    return json.loads(fs.read_text(fs.join(cfg.out, METRICS)))
