"""inkread: read handwriting.

    from inkread import Recognizer
    r = Recognizer.load("digits")
    r.predict("seven.png").label

Importing inkread is cheap and never imports PyTorch; ``Recognizer`` runs on ONNX Runtime.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Recognizer", "InkreadError", "__version__"]

from inkread.errors import InkreadError


def __getattr__(name: str):
    # Loaded on first use so that ``import inkread`` stays light (no onnxruntime until needed).
    if name == "Recognizer":
        from inkread.inference.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'inkread' has no attribute {name!r}")
