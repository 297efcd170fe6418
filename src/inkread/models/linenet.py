"""LineNet: reads a whole written line (a word, a few words) at once, trained with CTC.

A convolutional stack turns the (1, 40, W) line into a sequence of W/2 feature columns (each
sees about 40 px around it), and a bidirectional LSTM reads that sequence both ways, so that
each column is judged in the context of the letters around it: the case of an "o" or an "s" is
told by its size against its neighbours. Each column gives a distribution over the characters
plus CTC's blank (index 0); repeated characters between blanks collapse (Graves et al. 2006),
so the model needs no segmentation into characters at all. This is the shape of the Full Stack
Deep Learning line recognizer (LineCNN + LSTM + CTC), sized for a CPU.

Widths are halved only once, so a narrow letter still spans several columns: "ll" needs three
(l, blank, l) and an "l" at 32 px ink height is about 6 px wide.
"""

import torch
from torch import nn

from inkread.imaging.line import LINE_HEIGHT


def _conv(cin: int, cout: int, pool: tuple[int, int] | None) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.insert(1, nn.MaxPool2d(pool))  # pool before BN/ReLU: the same function, less work (see inknet.py)
    return nn.Sequential(*layers)


class LineNet(nn.Module):
    """Conv stack (height 40 -> 1, width / 2) - BiLSTM - Linear(characters + blank) per column."""

    def __init__(self, num_classes: int, width: int = 24, hidden: int = 128):
        super().__init__()
        self.features = nn.Sequential(
            _conv(1, width, (2, 2)),              # 40 x W   -> 20 x W/2
            _conv(width, 2 * width, (2, 1)),      # -> 10 x W/2
            _conv(2 * width, 2 * width, None),
            _conv(2 * width, 4 * width, (2, 1)),  # -> 5 x W/2
        )
        self.collapse = nn.Sequential(  # the 5 remaining rows into one column vector
            nn.Conv2d(4 * width, 4 * width, (LINE_HEIGHT // 8, 1), bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(inplace=True))
        self.lstm = nn.LSTM(4 * width, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.2)
        self.classify = nn.Linear(2 * hidden, num_classes + 1)  # + CTC blank at index 0

    def forward(self, x):
        """(N, 1, 40, W) ink-high images in 0..1 -> (N, W // 2, classes + 1) log-probabilities."""
        columns = self.collapse(self.features(x - 0.15)).squeeze(2).transpose(1, 2)  # (N, T, C)
        sequence, _ = self.lstm(columns.float())
        return torch.log_softmax(self.classify(self.dropout(sequence)), dim=-1)
