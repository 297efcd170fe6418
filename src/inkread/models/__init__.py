"""Model architectures, picked by name: ``build_model("inknet", num_classes=10)``."""

from __future__ import annotations

from inkread.errors import InkreadError

ARCHITECTURES = ("inknet", "inknet-wide", "seed")


def build_model(arch: str, num_classes: int):
    """A fresh PyTorch model of the named architecture."""
    from inkread.models.inknet import InkNet
    from inkread.models.seed import SeedCNN

    if arch == "inknet":
        return InkNet(num_classes)
    if arch == "inknet-wide":
        return InkNet(num_classes, width=32, hidden=256)
    if arch == "seed":
        return SeedCNN(num_classes)
    raise InkreadError(f"unknown architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}")


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
