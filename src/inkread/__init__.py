"""inkread: read handwriting.

    from inkread import Recognizer
    r = Recognizer.load("digits")
    r.predict("seven.png").label

    from inkread import LineReader
    LineReader.load("lines").read("word.png").text   # whole words and lines, joined-up writing too
    Recognizer.load("digits", touching="lines").read("crowded.png").text  # touching digits read whole

Importing inkread is cheap and never imports PyTorch; both readers run on ONNX Runtime.
"""

__version__ = "0.1.0"
__all__ = ["Recognizer", "LineReader", "Prediction", "ReadResult", "InkreadError", "InputImageError", "ModelBundleError",
           "DatasetError", "__version__"]

from inkread.errors import DatasetError, InkreadError, InputImageError, ModelBundleError

# Loaded on first use so that ``import inkread`` stays light (no onnxruntime until needed).
_LAZY = {"Recognizer": "inkread.inference.recognizer", "LineReader": "inkread.inference.line_reader",
         "Prediction": "inkread.inference.results", "ReadResult": "inkread.inference.results"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inkread' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
