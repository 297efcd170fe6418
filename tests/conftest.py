"""Shared test fixtures (the ``font`` digits reader among them) and the ``--runslow`` switch.

Tests marked ``@pytest.mark.slow`` are skipped unless pytest runs with ``--runslow`` or the
environment has ``INKREAD_SLOW=1``.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import pytest

from helpers import SHARED_DATASETS, font_centroid_bundle
from inkread.labels import DIGITS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("INKREAD_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or INKREAD_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def onnx_operators_built_once() -> None:
    """Once PyTorch is loaded, let ``torch.onnx.export`` build its table of ONNX operators once per test run.

    The exporter rebuilds that table from onnxscript's sources on every export (about 2 of its 3 seconds
    here), and the suite exports over a hundred models. inkread exports with no custom operators, so one
    table serves every export. Only the tests are patched (a user exports once per training run); if
    PyTorch moves the function, the tests run unpatched, slower.
    """
    if "torch" not in sys.modules:  # a test that needs no PyTorch does not pay for importing it
        return
    try:
        from torch.onnx._internal.exporter import _registration
    except ImportError:
        return
    table = getattr(_registration, "ONNXRegistry", None)
    build = getattr(table, "from_torchlib", None)
    if build is not None and not hasattr(build, "cache_info"):
        table.from_torchlib = staticmethod(functools.lru_cache(maxsize=None)(build))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real data sets (../shared/datasets beside the repository), or skip the test.

    A test that reads one of them asks for it with ``helpers.shared_subfolder("emnist")``, which
    skips when that one is missing too.
    """
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"../shared/datasets not found: {SHARED_DATASETS.resolve()} holds the real MNIST/EMNIST files")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def font_bundle(tmp_path_factory) -> Path:
    """10 digits, read by the nearest centroid of each digit's font render (blurred by 2 px).

    Rendered digits are read back exactly, with no data set and no PyTorch.
    """
    return font_centroid_bundle(tmp_path_factory.mktemp("font"), DIGITS, "test", "mnist", sharpness=0.3, sigma=2.0)


@pytest.fixture(scope="session")
def font(font_bundle):
    """``font_bundle`` loaded as a ``Recognizer``."""
    from inkread import Recognizer

    return Recognizer.load(font_bundle)
