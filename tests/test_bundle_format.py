"""model.json: a field of the wrong type is one clear ModelBundleError, not a traceback when it is used."""

from __future__ import annotations

import json
import shutil

import pytest

from inkread.errors import ModelBundleError
from inkread.inference.bundle_format import FORMAT, LINE_ARCH, META_FILE, ONNX_FILE, ModelMeta
from inkread.inference.line_reader import LineReader
from inkread.inference.onnx_model import PRETRAINED_DIR, OnnxModel

GOOD = {"format": FORMAT, "name": "digits", "arch": "seed", "labels": list("0123456789")}


def test_a_well_typed_model_json_loads():
    meta = ModelMeta.from_dict({**GOOD, "input": {"recipe": "emnist"}, "files": {"onnx": "model.onnx"}, "history": []})
    assert meta.recipe == "emnist" and meta.files == {"onnx": "model.onnx"}


@pytest.mark.parametrize("field, value, message", [
    ("input", "mnist", "'input' must be a JSON object, not \"mnist\""),  # was AttributeError: 'str' has no .get
    ("name", ["x"], "'name' must be a string, not \\[\"x\"\\]"),  # was TypeError where the name is joined
    ("arch", 3, "'arch' must be a string, not 3"),
    ("label_set", None, "'label_set' must be a string, not null"),
    ("files", ["model.onnx"], "'files' must be a JSON object"),
    ("files", {"onnx": 1}, "'files' must give a file name for each role"),
    ("training", "mnist", "'training' must be a JSON object"),
    ("metrics", [0.99], "'metrics' must be a JSON object"),
    ("history", {"epoch": 1}, "'history' must be a list"),
])
def test_a_field_of_the_wrong_type_is_a_bundle_error(tmp_path, field, value, message):
    (tmp_path / "model.json").write_text(json.dumps({**GOOD, field: value}))
    with pytest.raises(ModelBundleError, match=f"model.json: {message}.*re-export the model") as caught:
        ModelMeta.read(tmp_path)
    assert "\n" not in str(caught.value)


def test_a_long_wrong_value_is_cut_short_in_the_message():
    with pytest.raises(ModelBundleError) as caught:
        ModelMeta.from_dict({**GOOD, "input": "x" * 500})
    assert len(str(caught.value)) < 120


def test_each_reader_loads_its_own_kind_of_model_only():
    assert ModelMeta.read(PRETRAINED_DIR / "lines").arch == LINE_ARCH
    from inkread.inference import line_reader
    assert line_reader.LINE_ARCH == LINE_ARCH  # still importable where older code looks for it
    with pytest.raises(ModelBundleError, match="is a line model: it reads whole lines"):
        OnnxModel("lines")
    with pytest.raises(ModelBundleError, match=r"is a model of single characters \(inknet\), not a line model"):
        LineReader("digits")


@pytest.mark.parametrize("shipped, load, message", [
    ("digits", OnnxModel, r"has 10 outputs but model.json lists 9 labels: re-export the model"),
    ("lines", LineReader, r"outputs but model.json lists \d+ labels \(\+ the blank\): re-create the bundle with inkread train-lines"),
])
def test_an_onnx_file_that_disagrees_with_model_json_is_a_bundle_error(tmp_path, shipped, load, message):
    meta = json.loads((PRETRAINED_DIR / shipped / META_FILE).read_text(encoding="utf-8"))
    meta["labels"] = meta["labels"][:-1]
    (tmp_path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    shutil.copy(PRETRAINED_DIR / shipped / ONNX_FILE, tmp_path / ONNX_FILE)
    with pytest.raises(ModelBundleError, match=message):
        load(tmp_path)


def test_sessions_run_without_the_cpu_memory_arena():
    """ONNX Runtime's arena kept the memory of a model's largest run for good (the line model grew a
    process 69 -> 244 MB on three small images, 224 MB after malloc_trim): every session must have it off."""
    model = OnnxModel("digits")
    wide = model._session_for(OnnxModel.WIDE_BATCH)  # the all-cores session, where the machine has 2 cores
    reader = LineReader.load("lines", threads=1)
    for session in (model.session, wide, reader.session):
        assert session.get_session_options().enable_cpu_mem_arena is False


def test_sessions_keep_their_large_buffers_on_glibc_s_heap(monkeypatch):
    """Without the arena each run allocates anew, and glibc mapped and unmapped every buffer over its mmap
    threshold (at most 32 MB): a 256-image batch ran 2.1x slower. The thresholds are raised once per process."""
    from inkread import machine
    from inkread.inference.onnx_model import new_session

    calls = []

    def mallopt(parameter, value):
        calls.append((parameter, value))
        return 1

    monkeypatch.setattr(machine, "libc_function", {"mallopt": mallopt}.get)
    machine.keep_large_buffers_in_heap.cache_clear()
    try:
        for _ in range(2):
            new_session(PRETRAINED_DIR / "digits" / ONNX_FILE, 1)
    finally:
        machine.keep_large_buffers_in_heap.cache_clear()  # the next session sets the real library's thresholds
    assert calls == [(machine.M_MMAP_THRESHOLD, machine.HEAP_BUFFERS_BYTES), (machine.M_TRIM_THRESHOLD, machine.HEAP_BUFFERS_BYTES)]
