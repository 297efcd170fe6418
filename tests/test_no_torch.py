"""Predicting never imports PyTorch (or other heavy libraries): it must run on a base install, fast."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import render

HEAVY = ("torch", "matplotlib", "sklearn", "fastapi", "pooch", "scipy", "pandas", "onnx")

REPORT = f"""
import json, sys
print(json.dumps({{"heavy": sorted(m for m in {HEAVY!r} if m in sys.modules), "ort": "onnxruntime" in sys.modules}}),
      file=sys.stderr)
"""


def run(code: str, *args) -> dict:
    result = subprocess.run([sys.executable, "-c", code + REPORT, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1]) | {"stdout": result.stdout}


def test_import_inkread_is_light():
    report = run("import inkread")
    assert report["heavy"] == [] and not report["ort"]  # not even ONNX Runtime until a model is loaded


def test_recognizer_predict_and_read_do_not_import_torch(font_bundle, tmp_path):
    image = tmp_path / "five.png"
    render("5").save(image)
    code = ("import sys, inkread\n"
            "r = inkread.Recognizer.load(sys.argv[1])\n"
            "print(r.predict(sys.argv[2]).label, r.read(sys.argv[2]).text)\n")
    report = run(code, font_bundle, image)
    assert report["stdout"].split() == ["5", "5"]
    assert report["heavy"] == [] and report["ort"]


def test_the_predict_command_does_not_import_torch(font_bundle, tmp_path):
    image = tmp_path / "five.png"
    render("5").save(image)
    code = ("import sys\nfrom inkread.cli import main\n"
            "assert main(['predict', sys.argv[2], '--model', sys.argv[1], '--format', 'json']) == 0\n")
    report = run(code, font_bundle, image)
    assert json.loads(report["stdout"])[0]["label"] == "5"
    assert report["heavy"] == []


def test_the_public_names_are_listed_and_load_on_first_use():
    import inkread

    assert {"Recognizer", "LineReader", "Prediction", "ReadResult", "InkreadError"} <= set(dir(inkread))
    assert inkread.Prediction.__name__ == "Prediction" and inkread.ReadResult.__name__ == "ReadResult"
    with pytest.raises(AttributeError, match="no attribute 'Recogniser'"):
        inkread.Recogniser
