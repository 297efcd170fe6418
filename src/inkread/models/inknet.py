"""InkNet: our default architecture, chosen for accuracy per CPU-second (see benchmarks/).

A small VGG-style network with batch norm: three conv stages (24, 48, 96 channels) with max
pooling, then a 128-unit dense layer. About 4.6 M multiply-adds per image (the seed CNN: 2.6 M),
and batch norm lets it train at a high learning rate, which is where most of its
speed-to-accuracy comes from. The input scaling (MNIST mean/std) is part of the network so that
exported ONNX files take plain 0..1 images.

Each stage pools *before* batch norm and ReLU (conv - pool - BN - ReLU). Max-pooling commutes
with a per-channel increasing function, so this computes the same family of functions as the
usual conv - BN - ReLU - pool, but the element-wise layers (and their backward passes) run on a
quarter of the pixels: on a CPU that makes a training step about 1.7x faster.
"""

import torch
from torch import nn

# MNIST pixel statistics (0..1 scale); close enough for EMNIST too, and batch norm absorbs the rest.
INPUT_MEAN = 0.1307
INPUT_STD = 0.3081


def _stage(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """Conv - MaxPool2 - BatchNorm - ReLU: halves the resolution."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.MaxPool2d(2),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class InkNet(nn.Module):
    """Conv5(24)-Pool-Conv3(48)-Pool-Conv3(96)-Pool-Dense(128)-Dropout-Dense(classes), with batch norm after each pool."""

    def __init__(self, num_classes: int = 10, width: int = 24, hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        self.register_buffer("mean", torch.tensor(INPUT_MEAN))
        self.register_buffer("std", torch.tensor(INPUT_STD))
        self.features = nn.Sequential(
            _stage(1, width, 5),              # 28 -> 14
            _stage(width, 2 * width, 3),      # 14 -> 7
            _stage(2 * width, 4 * width, 3),  # 7 -> 3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(4 * width * 3 * 3, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features((x - self.mean) / self.std))
