"""The seed CNN: the baseline every figure is compared with.

It is the network all five student projects we grew from describe (and the Keras MNIST example):
Conv(32,3x3,ReLU) - MaxPool2 - Conv(64,3x3,ReLU) - MaxPool2 - Flatten - Dense(128,ReLU) -
Dropout(0.5) - Dense(classes). 225,034 parameters for 10 classes. Trained with Adam (lr 1e-3),
cross-entropy, batch 128, 10 epochs, no augmentation.
"""

from torch import nn


class SeedCNN(nn.Module):
    """The seed projects' CNN, unchanged (valid convolutions, no normalization)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),   # 28 -> 26 -> 13
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),  # 13 -> 11 -> 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
