"""inkread: read handwriting.

    from inkread import Recognizer
    r = Recognizer.load("digits")
    r.predict("seven.png").label

    from inkread import LineReader
    LineReader.load("lines").read("word.png").text   # whole words and lines, joined-up writing too
    Recognizer.load("digits", touching="lines").read("crowded.png").text  # touching digits read whole

Importing inkread is cheap and never imports PyTorch; both readers run on ONNX Runtime.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Recognizer", "LineReader", "InkreadError", "__version__"]

from inkread.errors import InkreadError


def __getattr__(name: str):
    # Loaded on first use so that ``import inkread`` stays light (no onnxruntime until needed).
    if name == "Recognizer":
        from inkread.inference.recognizer import Recognizer

        return Recognizer
    if name == "LineReader":
        from inkread.inference.line_reader import LineReader

        return LineReader
    raise AttributeError(f"module 'inkread' has no attribute {name!r}")
