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

The last stage sees a 7x7 map, and its 2x2 pooling keeps only the first 6 rows and columns of the
convolution's output; that convolution is padded on the top and left only, so the row and column
the pooling would drop are never computed (the same function, about 5-10% less work per step).
"""

import torch
import torch.nn.functional as F
from torch import nn

# MNIST pixel statistics (0..1 scale); close enough for EMNIST too, and batch norm absorbs the rest.
INPUT_MEAN = 0.1307
INPUT_STD = 0.3081


class _ConvKeptByPool(nn.Conv2d):
    """A 'same' convolution of an odd-sized map, less the last row and column (which a 2x2 pool drops).

    Padding the top and left by kernel // 2 and the bottom and right by one less gives exactly the
    outputs of the padded convolution that the pooling keeps. The weights are an ordinary Conv2d's.
    """

    def __init__(self, cin: int, cout: int, kernel: int):
        super().__init__(cin, cout, kernel, padding=0, bias=False)
        half = kernel // 2
        self.pad = (half, half - 1, half, half - 1)  # left, right, top, bottom

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))


def _stage(cin: int, cout: int, kernel: int, odd_input: bool = False) -> nn.Sequential:
    """Conv - MaxPool2 - BatchNorm - ReLU: halves the resolution (rounding down on an odd input)."""
    if odd_input:
        conv = _ConvKeptByPool(cin, cout, kernel)
    else:
        conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
    return nn.Sequential(conv, nn.MaxPool2d(2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class InkNet(nn.Module):
    """Conv5(24)-Pool-Conv3(48)-Pool-Conv3(96)-Pool-Dense(128)-Dropout-Dense(classes), with batch norm after each pool."""

    def __init__(self, num_classes: int = 10, width: int = 24, hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        self.register_buffer("mean", torch.tensor(INPUT_MEAN))
        self.register_buffer("std", torch.tensor(INPUT_STD))
        self.features = nn.Sequential(
            _stage(1, width, 5),              # 28 -> 14
            _stage(width, 2 * width, 3),      # 14 -> 7
            _stage(2 * width, 4 * width, 3, odd_input=True),  # 7 -> 3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(4 * width * 3 * 3, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features((x - self.mean) / self.std))
