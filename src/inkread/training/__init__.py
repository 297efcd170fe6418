"""Training: ``train(TrainConfig(dataset="mnist", out="runs/digits"))`` writes a model bundle."""

from inkread.training.config import TrainConfig
from inkread.training.loop import train

__all__ = ["TrainConfig", "train"]
