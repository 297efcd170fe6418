"""The HTTP API in process (FastAPI's TestClient): every endpoint, every error status, the headers.

The models are font-centroid bundles made by ``helpers`` (named "digits" and
"characters"), so answers are exact and no shipped model or data set is needed. The line model
tests serve the shipped "lines" bundle too, and check the plumbing only, never what it reads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import SHIPPED_LINES, font_characters, font_digits, png, render

from inkread.errors import InkreadError
from inkread.labels import DIGITS
from inkread.serving import ServeConfig, create_app, schemas

API = "/api/v1"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundles")
    return font_digits(root / "digits"), font_characters(root / "characters")


@pytest.fixture
def make_client(bundles, tmp_path):
    from fastapi.testclient import TestClient

    clients = []

    def make(models: list[str] | None = None, **options) -> TestClient:
        """A client of an app serving ``models`` (default: the test bundles; [] = every shipped model)."""
        models = [str(b) for b in bundles] if models is None else models
        options.setdefault("allowed_hosts", ["testserver"])  # the Host name TestClient sends
        config = ServeConfig(models=models, data_dir=tmp_path / "data", **options)
        client = TestClient(create_app(config))
        client.__enter__()  # runs the lifespan (the background model loader)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def lines_client(make_client, bundles):
    """The test bundles and the shipped line model "lines"."""
    if not SHIPPED_LINES.exists():
        pytest.skip(f"{SHIPPED_LINES} not found: the line model tests serve the shipped 'lines' model")
    return make_client(models=[*map(str, bundles), "lines"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def multipart(disposition: bytes, payload: bytes, closed: bool = True, cut: int = 0) -> dict:
    """Keyword arguments of a request whose multipart body is built by hand: one part, maybe unclosed or
    with its last ``cut`` bytes gone."""
    body = (b"--bnd\r\nContent-Disposition: form-data; " + disposition + b"\r\nContent-Type: image/png\r\n\r\n"
            + payload + b"\r\n" + (b"--bnd--\r\n" if closed else b""))
    return {"content": body[:len(body) - cut], "headers": {"content-type": "multipart/form-data; boundary=bnd"}}


def upload(data: bytes, name: str = "drawing.png", kind: str = "image/png") -> dict:
    return {"file": (name, data, kind)}


def assert_error(response, status: int, *words: str) -> str:
    """The response is ``status`` with a one-line JSON detail containing every word."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and detail
    for word in words:
        assert word in detail, detail
    return detail


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# --- /predict ------------------------------------------------------------------------------------

def test_a_malformed_multipart_body_is_a_400_and_no_stray_log_line(client, caplog):
    """The parser's own warning ("Expected boundary character ...") reached the server's log bare."""
    import logging

    with caplog.at_level(logging.DEBUG):
        response = client.post(f"{API}/predict", content=b"--xyz\r\ngarbage\r\n",
                               headers={"content-type": "multipart/form-data; boundary=abc"})
    assert response.status_code == 400 and "malformed multipart body" in response.json()["detail"]
    assert not [record for record in caplog.records if record.name.startswith("python_multipart")]


def test_predict_multipart_upload(client):
    response = client.post(f"{API}/predict", files=upload(png(render("3"))))
    assert response.status_code == 200
    answer = response.json()
    assert answer["model"] == "digits"  # the first model served is the default
    assert answer["label"] == "3" and answer["confidence"] > 0.9
    assert not answer["no_ink"] and not answer["uncertain"]
    ranked = [item["confidence"] for item in answer["top_k"]]
    assert len(ranked) == 5 and ranked == sorted(ranked, reverse=True)
    assert answer["top_k"][0]["label"] == "3"
    assert answer["preprocessed"] is None  # only when asked
    # the documented schema, exactly (the endpoint returns JSON built from to_dict(), unvalidated)
    assert set(answer) == set(schemas.PredictResponse.model_fields)
    schemas.PredictResponse.model_validate(answer)


def test_predict_of_several_characters_says_so_and_points_to_read(client):
    answer = client.post(f"{API}/predict", files=upload(png(render("2 5", size=(400, 140), font_size=100)))).json()
    assert answer["several_characters"] == "25" and answer["uncertain"]
    one = client.post(f"{API}/predict", files=upload(png(render("7")))).json()
    assert one["several_characters"] is None


def test_predict_form_fields_and_query_options(client):
    image = png(render("5"))
    by_form = client.post(f"{API}/predict", files=upload(image), data={"top_k": "2", "model": "characters"}).json()
    by_query = client.post(f"{API}/predict?top_k=2&model=characters", files=upload(image)).json()
    assert by_form["model"] == by_query["model"] == "characters"
    assert len(by_form["top_k"]) == len(by_query["top_k"]) == 2
    # more than the model's classes gives them all, as Recognizer.predict and the CLI do
    assert len(client.post(f"{API}/predict?top_k=100&model=digits", files=upload(image)).json()["top_k"]) == 10
    # given in both: the same value is fine, two different ones are a client's mistake, not a silent choice
    same = client.post(f"{API}/predict?top_k=2", files=upload(image), data={"top_k": "2", "model": "characters"})
    assert same.status_code == 200 and len(same.json()["top_k"]) == 2
    mixed = client.post(f"{API}/predict?top_k=4", files=upload(image), data={"top_k": "1"})
    assert mixed.status_code == 422
    assert mixed.json()["detail"] == ("field 'top_k' is given twice, 1 in the body and '4' in the query string: "
                                      "give it once")
    both = client.post(f"{API}/predict?include_preprocessed=true", json={"image": b64(image), "include_preprocessed": True})
    assert both.status_code == 200
    null = client.post(f"{API}/predict?top_k=2", json={"image": b64(image), "top_k": None})  # null: not given
    assert null.status_code == 200 and len(null.json()["top_k"]) == 2


def test_predict_json_base64_and_data_url_with_the_preprocessed_image(client):
    image = png(render("8"))
    for encoded in (b64(image), "data:image/png;base64," + b64(image)):
        response = client.post(f"{API}/predict", json={"image": encoded, "include_preprocessed": True, "top_k": 3})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["label"] == "8" and len(answer["top_k"]) == 3
        prefix = "data:image/png;base64,"
        assert answer["preprocessed"].startswith(prefix)
        seen = Image.open(io.BytesIO(base64.b64decode(answer["preprocessed"][len(prefix):])))
        assert seen.size == (28, 28) and seen.mode == "L"
        assert np.asarray(seen).max() > 200 and seen.getpixel((0, 0)) == 0  # white ink on black, as the model sees it


def test_json_saved_with_a_byte_order_mark_is_read(client):
    """Windows Notepad and PowerShell 5 save UTF-8 with a byte-order mark: it was "not valid JSON (expected value at
    line 1 column 1)", where JSON readers may ignore it (RFC 8259; a helper's find)."""
    import json

    body = b"\xef\xbb\xbf" + json.dumps({"image": b64(png(render("8"))), "top_k": 2}).encode()
    response = client.post(f"{API}/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["label"] == "8" and len(response.json()["top_k"]) == 2


def test_json_the_parser_cannot_hold_is_not_called_invalid(client):
    """A 5000-digit number and a lone surrogate escape are JSON by its grammar: "not valid JSON" was untrue (a helper's
    find). Each is named for what it is, in one line; broken JSON is still called so."""
    for body, says in (('{"image": "x", "top_k": ' + "9" * 5000 + "}", "the body holds a number too large to read"),
                       ('{"image": "x", "only": "\\ud800"}', "the body holds a \\u escape that is no character"),
                       ('{"image": ', "the body is not valid JSON")):
        response = client.post(f"{API}/predict", content=body.encode(), headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["detail"].startswith(says), response.text
        assert "\n" not in response.json()["detail"]


def test_predict_raw_image_body(client):
    response = client.post(f"{API}/predict?top_k=1", content=png(render("6")), headers={"content-type": "image/png"})
    assert response.status_code == 200
    assert response.json()["label"] == "6" and len(response.json()["top_k"]) == 1


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "application/x-www-form-urlencoded"])
def test_a_raw_image_body_without_an_image_content_type_is_read(client, content_type):
    headers = {"content-type": content_type} if content_type else {}  # curl --data-binary sends a form's type
    response = client.post(f"{API}/predict", content=IMAGE, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["label"] == "4"


def test_predict_jpeg_upload(client):
    buffer = io.BytesIO()
    render("2").convert("RGB").save(buffer, format="JPEG", quality=90)
    assert client.post(f"{API}/predict", files=upload(buffer.getvalue(), "photo.jpg", "image/jpeg")).json()["label"] == "2"


def test_predict_only_restricts_the_answers(client):
    image = png(render("O"))
    free = client.post(f"{API}/predict", files=upload(image), data={"model": "characters"}).json()
    assert free["label"] in ("O", "0")
    digits = client.post(f"{API}/predict", files=upload(image), data={"model": "characters", "only": "digits"}).json()
    assert digits["label"] in DIGITS and all(item["label"] in DIGITS for item in digits["top_k"])
    letters = client.post(f"{API}/predict", files=upload(image), data={"model": "characters", "only": "letters"}).json()
    assert letters["label"] == "O"


def test_predict_blank_image_has_no_ink(client):
    answer = client.post(f"{API}/predict", files=upload(png(Image.new("L", (280, 280), 255)))).json()
    assert answer["no_ink"] is True and answer["label"] is None and answer["top_k"] == []


def test_inference_runs_off_the_event_loop(client):
    registry = client.app.state.registry
    real = registry.recognizer
    calls = []

    class Spy:
        def __init__(self, recognizer):
            self.recognizer = recognizer

        def predict(self, *args, **kwargs):
            try:
                asyncio.get_running_loop()
                calls.append("event loop")
            except RuntimeError:
                calls.append("worker thread")
            return self.recognizer.predict(*args, **kwargs)

    registry.recognizer = lambda name: Spy(real(name))
    try:
        assert client.post(f"{API}/predict", files=upload(png(render("1")))).status_code == 200
    finally:
        registry.recognizer = real
    assert calls == ["worker thread"]


# --- /read ---------------------------------------------------------------------------------------

def test_read_several_characters_with_boxes(client):
    image = render("4 7", size=(560, 240), font_size=150)
    response = client.post(f"{API}/read", files=upload(png(image)))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == "digits"
    assert answer["text"].replace(" ", "") == "47"
    boxes = [char["box"] for char in answer["characters"]]
    assert len(boxes) == 2
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= 560 and 0 <= top < bottom <= 240
    assert boxes[0][2] <= boxes[1][0]  # left to right
    assert set(answer) == set(schemas.ReadResponse.model_fields)
    assert set(answer["characters"][0]) == set(schemas.CharacterBox.model_fields)
    schemas.ReadResponse.model_validate(answer)


def test_read_answers_punctuation_as_such(client):
    answer = client.post(f"{API}/read", files=upload(png(render("4-7", size=(560, 240), font_size=150)))).json()
    assert answer["text"] == "4-7"
    assert [char["punctuation"] for char in answer["characters"]] == [False, True, False]


def test_read_json_and_blank(client):
    answer = client.post(f"{API}/read", json={"image": b64(png(Image.new("L", (100, 60), 255)))}).json()
    assert answer["no_ink"] is True and answer["text"] == "" and answer["characters"] == []


# --- a line model ------------------------------------------------------------------------------------

def test_predict_with_a_line_model_is_a_422_pointing_to_read(lines_client):
    for image in (IMAGE, b"GIF89a garbage"):  # refused for the model, before the image is decoded
        assert_error(lines_client.post(f"{API}/predict", files=upload(image), data={"model": "lines"}),
                     422, "'lines' is a line model", f"{API}/read")


def test_read_with_a_line_model(lines_client):
    from inkread.inference.line_reader import LineReader

    image = render("ab 12", size=(560, 200), font_size=120)
    response = lines_client.post(f"{API}/read", files=upload(png(image)), data={"model": "lines"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == "lines" and isinstance(answer["text"], str)
    assert set(answer) == set(schemas.ReadResponse.model_fields)
    schemas.ReadResponse.model_validate(answer)
    for char in answer["characters"]:
        left, top, right, bottom = char["box"]
        assert 0 <= left <= right <= 560 and 0 <= top < bottom <= 200
    assert isinstance(lines_client.app.state.registry.recognizer("lines"), LineReader)
    digits = lines_client.post(f"{API}/read", files=upload(png(image)), data={"model": "lines", "only": "digits"}).json()
    assert all(c["label"] in DIGITS or c["punctuation"] for c in digits["characters"])  # marks pass, as for characters
    blank = lines_client.post(f"{API}/read", json={"image": b64(png(Image.new("L", (300, 100), 255))), "model": "lines"})
    assert blank.json()["no_ink"] is True and blank.json()["text"] == ""
    assert lines_client.get("/healthz").json()["models"]["lines"] is True


def test_read_looks_words_up_with_a_lexicon(lines_client, monkeypatch):
    """?lexicon=english: the line model's spelling of a real tablet-written word ("eserve") becomes the listed word."""
    word = (Path(__file__).resolve().parents[1] / "samples" / "words" / "unipen-reserve.png").read_bytes()
    fields = {"model": "lines", "only": "letters"}
    plain = lines_client.post(f"{API}/read", files=upload(word), data=fields).json()
    looked_up = lines_client.post(f"{API}/read?lexicon=english", files=upload(word), data=fields)
    assert looked_up.status_code == 200, looked_up.text
    assert plain["text"] != "Reserve" and looked_up.json()["text"].lower() == "reserve"
    schemas.ReadResponse.model_validate(looked_up.json())
    assert_error(lines_client.post(f"{API}/read?lexicon=english", files=upload(word), data={"model": "digits"}),
                 422, "field 'lexicon'", "line model (lines)", "'digits' reads characters one by one")
    assert_error(lines_client.post(f"{API}/predict?lexicon=english", files=upload(IMAGE)), 422, "field 'lexicon'",
                 f"{API}/read with a line model")
    assert_error(lines_client.post(f"{API}/read?lexicon=french", files=upload(word), data=fields), 422, "'lexicon'")
    from inkread.inference import lexicon

    monkeypatch.setattr(lexicon, "words_available", lambda: False)
    assert_error(lines_client.post(f"{API}/read?lexicon=english", files=upload(word), data=fields), 501,
                 'pip install "inkread[words]"')


def test_corrections_for_a_line_model_are_a_422(lines_client):
    response = lines_client.post(f"{API}/corrections", files=upload(IMAGE), data={"label": "4", "model": "lines"})
    assert_error(response, 422, "'lines' is a line model", "single characters")
    assert lines_client.get(f"{API}/corrections").json()["total"] == 0


def test_models_tell_line_models_from_character_models(lines_client):
    answer = lines_client.get(f"{API}/models").json()
    schemas.ModelsResponse.model_validate(answer)
    kinds = {m["name"]: (m["kind"], m["recipe"]) for m in answer["models"]}
    assert kinds == {"digits": ("character", "mnist"), "characters": ("character", "emnist"), "lines": ("line", "line")}


def test_models_tell_which_word_lists_a_line_model_can_use(lines_client, monkeypatch):
    """The page offers "English words" from ``lexicons``: only for a line model, only where /read takes it."""
    from inkread.inference import lexicon

    monkeypatch.setattr(lexicon, "words_available", lambda: True)
    lexicons = {m["name"]: m["lexicons"] for m in lines_client.get(f"{API}/models").json()["models"]}
    assert lexicons == {"digits": [], "characters": [], "lines": ["english"]}
    monkeypatch.setattr(lexicon, "words_available", lambda: False)  # a server without inkread[words]
    assert all(m["lexicons"] == [] for m in lines_client.get(f"{API}/models").json()["models"])


def test_a_character_model_served_with_a_line_model_for_touching_characters(make_client, bundles):
    """``--model digits+lines``: the character model answers, the line model reads touching characters."""
    from inkread.inference.recognizer import Recognizer

    if not SHIPPED_LINES.exists():
        pytest.skip(f"{SHIPPED_LINES} not found: this test serves the shipped 'lines' model")
    client = make_client(models=[f"{bundles[0]}+lines", str(bundles[0])])
    names = [m["name"] for m in client.get(f"{API}/models").json()["models"]]
    assert names == ["digits+lines", "digits"]
    image = png(render("1 2", size=(560, 200), font_size=120))
    both = [client.post(f"{API}/read", files=upload(image), data={"model": name}).json() for name in names]
    assert both[0]["model"] == "digits+lines" and both[0]["text"] == both[1]["text"]  # apart: the same reading
    assert client.post(f"{API}/predict", files=upload(IMAGE), data={"model": "digits+lines"}).status_code == 200
    reader = client.app.state.registry.recognizer("digits+lines")
    assert isinstance(reader, Recognizer) and reader.touching is not None
    with pytest.raises(InkreadError, match="in MODEL\\+LINES the first model reads single characters"):
        make_client(models=["lines+lines"])
    with pytest.raises(InkreadError, match="in MODEL\\+LINES"):
        make_client(models=[f"{bundles[0]}+{bundles[1]}"])


def test_every_shipped_model_is_served_by_default(make_client):
    from inkread.inference.onnx_model import PRETRAINED, PRETRAINED_DIR

    shipped = [name for name in PRETRAINED if (PRETRAINED_DIR / name / "model.json").exists()]
    if not shipped:
        pytest.skip(f"no shipped model in {PRETRAINED_DIR}")
    models = make_client(models=[]).get(f"{API}/models").json()["models"]
    assert [m["name"] for m in models] == shipped
    assert models[0]["default"] and not any(m["default"] for m in models[1:])
    assert all(m["kind"] == ("line" if m["name"] == "lines" else "character") for m in models)


# --- /models and /healthz ----------------------------------------------------------------------------

def test_models_lists_labels_and_metrics(client):
    models = client.get(f"{API}/models").json()["models"]
    assert [m["name"] for m in models] == ["digits", "characters"]
    digits, characters = models
    assert digits["default"] and not characters["default"]
    assert digits["labels"] == list(DIGITS) and len(characters["labels"]) == 47
    assert characters["label_set"] == "bymerge" and characters["recipe"] == "emnist"
    assert digits["kind"] == characters["kind"] == "character"
    assert digits["metrics"]["accuracy"] == 1.0


def test_healthz_reports_the_loaded_models(client):
    assert client.post(f"{API}/predict", files=upload(png(render("1")))).status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["models"]["digits"] is True


def broken_copy(bundle, folder):
    """``bundle``'s model.json beside a truncated model.onnx: described at start, fails to load."""
    import shutil

    folder.mkdir()
    shutil.copy(bundle / "model.json", folder / "model.json")
    (folder / "model.onnx").write_bytes((bundle / "model.onnx").read_bytes()[:2000])
    return folder


def test_a_model_that_fails_to_load_is_reported_once_on_stderr_in_one_line(bundles, tmp_path, capsys):
    from inkread.serving.registry import ModelRegistry

    registry = ModelRegistry([str(bundles[0]), str(broken_copy(bundles[0], tmp_path / "broken"))])
    registry.load_all()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("inkread: warning: model 'digits-2' cannot be loaded") and "damaged" in lines[0]
    assert registry.failed().keys() == {"digits-2"}
    registry.quiet = True  # another worker of the server reports it
    registry.load_all()
    assert capsys.readouterr().err == ""


def test_healthz_is_degraded_when_a_model_other_than_the_default_fails_to_load(make_client, bundles, tmp_path):
    client = make_client(models=[str(bundles[0]), str(broken_copy(bundles[0], tmp_path / "broken"))])
    assert_error(client.post(f"{API}/predict", data={"model": "digits-2"}, files=upload(IMAGE)), 503, "damaged")
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded" and list(body["failed"]) == ["digits-2"] and "damaged" in body["failed"]["digits-2"]
    assert "digits-2" in body["detail"] and "\n" not in body["detail"]
    assert client.post(f"{API}/predict", files=upload(IMAGE)).json()["label"] == "4"  # the default still works


def test_healthz_is_503_when_the_default_model_fails_to_load(make_client, bundles, tmp_path):
    client = make_client(models=[str(broken_copy(bundles[0], tmp_path / "broken")), str(bundles[1])])
    assert client.post(f"{API}/predict", files=upload(IMAGE)).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "failing" and list(health.json()["failed"]) == ["digits"]
    assert "default" in health.json()["detail"]


def test_a_shipped_model_asked_for_by_name_keeps_it_and_a_bundle_of_that_name_gets_the_suffix(make_client, tmp_path):
    """`--model ./copy-of-digits --model digits`: the copy took "digits" and the shipped model became "digits-2"."""
    from helpers import SHIPPED_DIGITS

    if not SHIPPED_DIGITS.exists():
        pytest.skip(f"{SHIPPED_DIGITS} not found")
    broken = broken_copy(SHIPPED_DIGITS.parent, tmp_path / "broken")
    client = make_client(models=[str(broken), "digits"])
    models = client.get(f"{API}/models").json()["models"]
    assert [m["name"] for m in models] == ["digits-2", "digits"] and models[0]["default"]
    # the startup line says which path took which name
    assert client.app.state.registry.described() == f"digits-2 ({broken}), digits"
    from inkread.serving.registry import ModelRegistry

    twice = ModelRegistry(["digits", str(SHIPPED_DIGITS.parent)])  # the shipped folder given by its path too
    assert twice.described() == f"digits, digits-2 ({SHIPPED_DIGITS.parent})"
    assert client.post(f"{API}/predict", data={"model": "digits"}, files=upload(IMAGE)).status_code == 200
    assert client.post(f"{API}/predict", data={"model": "digits-2"}, files=upload(IMAGE)).status_code == 503


# --- corrections -------------------------------------------------------------------------------------

def test_a_model_of_long_class_names_is_taught_any_of_them_and_told_them_apart(make_client, tmp_path):
    """A model trained on folders named "plus sign" or "a b" (as for whole words): the page's teach field held 8
    characters ("plus sig", refused as no label), and the refusal ran the labels together ("7Aa bplus sign")."""
    import numpy as np
    from helpers import write_linear_bundle

    long_name = ("a class name as long as a folder's may be " * 3).strip()
    labels = ["7", "A", "a b", "plus sign", long_name]
    bundle = write_linear_bundle(tmp_path / "words", np.zeros((len(labels), 784)), np.arange(len(labels), dtype=float),
                                 labels, name="words")
    client = make_client(models=[str(bundle)])
    image = png(render("7"))
    for label in ("plus sign", long_name):
        taught = client.post(f"{API}/corrections", files=upload(image), data={"label": label, "model": "words"})
        assert taught.status_code == 201 and taught.json()["label"] == label, taught.text
    assert_error(client.post(f"{API}/corrections", files=upload(image), data={"label": "plus sig", "model": "words"}),
                 422, "(its labels: '7', 'A', 'a b', 'plus sign', ")
    page = client.get("/").text
    assert f'id="teach-label" name="label" maxlength="{schemas.MAX_LABEL_CHARS}"' in page


def test_correction_is_stored_and_listed(client):
    image = png(render("7"))
    response = client.post(f"{API}/corrections", files=upload(image), data={"label": "7", "model": "digits", "predicted": "1"})
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["label"] == "7" and saved["predicted"] == "1" and saved["model"] == "digits"
    # another model's answer ("B" from the characters model, sent after the page switched to digits) is a mix-up
    assert_error(client.post(f"{API}/corrections", files=upload(image), data={"label": "7", "model": "digits", "predicted": "B"}),
                 422, "field 'predicted': 'B' is not a label of the model 'digits'")
    lower = client.post(f"{API}/corrections", files=upload(image), data={"label": "o", "model": "characters", "predicted": "o"})
    assert lower.status_code == 201, lower.text  # "o" is how an answer under only="lower" names the O class
    wide = client.post(f"{API}/corrections", files=upload(image), data={"label": "\uff17", "model": "digits"})
    assert wide.status_code == 201 and wide.json()["label"] == "7"  # a fullwidth 7, typed with a CJK keyboard
    # what the model read, spelled as a label may be and stored so; blank (a line separator, ideographic space) is not given
    for sent, kept in (("\uff11", "1"), (" 1 ", "1"), ("\u3000", None), ("\u2028", None), (" ", None)):
        taught = client.post(f"{API}/corrections", files=upload(image), data={"label": "7", "model": "digits", "predicted": sent})
        assert taught.status_code == 201 and taught.json()["predicted"] == kept, (sent, taught.text)
    assert response.headers["location"] == f"{API}/corrections/{saved['id']}"
    assert client.get(response.headers["location"]).json() == saved
    stored = client.get(saved["image_url"])
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stored.content))), np.asarray(Image.open(io.BytesIO(image))))


def test_a_correction_of_a_model_served_from_a_folder_exports_a_command_that_fine_tunes_that_folder(
        make_client, bundles, tmp_path):
    """The store knew a model by its name alone: the export said '--init-from PATH-OF-digits' (or, for a
    retrained copy named like a shipped model, the shipped model's name: fine-tuning the wrong model)."""
    from inkread.serving.corrections import export_corrections

    image = png(render("7"))
    own = make_client()  # the test bundles, from folders under tmp_path, one of them named "digits"
    assert own.post(f"{API}/corrections", files=upload(image), data={"label": "7", "model": "digits"}).status_code == 201
    exported = export_corrections(tmp_path / "own", data_dir=tmp_path / "data", model="digits")
    assert exported.fine_tune_from() == str(bundles[0].resolve())
    shipped = make_client(models=["digits"])
    assert shipped.post(f"{API}/corrections", files=upload(image), data={"label": "7", "model": "digits"}).status_code == 201
    assert export_corrections(tmp_path / "shipped", data_dir=tmp_path / "data", model="digits").fine_tune_from() == "digits"


def test_a_correction_is_stored_as_its_pixels_without_the_chunks_sent_with_them(client):
    """A PNG was stored byte for byte: a drawing carrying a 3 MB private chunk (and text, an ICC profile)
    was stored and served back whole. It is stored re-encoded, as small as its pixels, the same pixels."""
    from PIL import PngImagePlugin

    drawing = render("7").convert("RGBA")
    extras = PngImagePlugin.PngInfo()
    extras.add(b"prIv", np.random.default_rng(0).bytes(3_000_000))  # random: does not compress
    extras.add_text("Comment", "x" * 10_000)
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG", pnginfo=extras, icc_profile=b"\0" * 100_000)
    sent = buffer.getvalue()
    assert len(sent) > 3_000_000
    saved = client.post(f"{API}/corrections", files=upload(sent), data={"label": "7"})
    assert saved.status_code == 201, saved.text
    stored = client.get(saved.json()["image_url"]).content
    assert len(stored) < len(png(drawing)) + 1000  # the pixels' own PNG, and nothing else
    image = Image.open(io.BytesIO(stored))
    assert image.info.keys() <= {"transparency", "dpi"} and "prIv" not in str(image.info)
    assert np.array_equal(np.asarray(image), np.asarray(drawing))


def test_a_correction_taught_by_mistake_can_be_deleted(client):
    saved = client.post(f"{API}/corrections", files=upload(png(render("7"))), data={"label": "1"}).json()
    deleted = client.delete(f"{API}/corrections/{saved['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(client.get(f"{API}/corrections/{saved['id']}"), 404, str(saved["id"]))
    assert_error(client.delete(f"{API}/corrections/{saved['id']}"), 404, str(saved["id"]))
    assert client.get(f"{API}/corrections").json()["total"] == 0


def test_corrections_pagination_newest_first_and_model_filter(client):
    ids = []
    for label, model in (("1", "digits"), ("2", "digits"), ("A", "characters")):
        body = {"image": b64(png(render(label))), "label": label, "model": model}
        ids.append(client.post(f"{API}/corrections", json=body).json()["id"])
    page = client.get(f"{API}/corrections?limit=2").json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 0
    assert [item["id"] for item in page["items"]] == [ids[2], ids[1]]
    rest = client.get(f"{API}/corrections?limit=2&offset=2").json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    only_digits = client.get(f"{API}/corrections?model=digits").json()
    assert only_digits["total"] == 2 and {item["label"] for item in only_digits["items"]} == {"1", "2"}


def test_correction_label_is_merged_into_the_models_class(client):
    body = {"image": b64(png(render("C"))), "label": "c", "model": "characters"}
    assert client.post(f"{API}/corrections", json=body).json()["label"] == "C"  # c and C share a class in bymerge


def test_correction_from_a_jpeg_is_stored_as_png(client):
    buffer = io.BytesIO()
    render("9").convert("RGB").save(buffer, format="JPEG")
    saved = client.post(f"{API}/corrections", files=upload(buffer.getvalue(), "nine.jpg", "image/jpeg"), data={"label": "9"}).json()
    stored = client.get(saved["image_url"]).content
    assert stored.startswith(b"\x89PNG") and Image.open(io.BytesIO(stored)).size == (280, 280)


def test_a_large_jpeg_correction_is_stored_as_the_model_read_it_reduced(client):
    """A 48 MP JPEG is decoded at 1/8 scale to be read: storing it must not decode it whole (4x the memory)."""
    from inkread.imaging.decode import WORK_PIXELS

    page = Image.new("L", (8000, 6000), 245)
    page.paste(render("4", size=(4000, 4000), font_size=3000), (2000, 1000))
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=60)
    saved = client.post(f"{API}/corrections", files=upload(buffer.getvalue(), "four.jpg", "image/jpeg"), data={"label": "4"})
    assert saved.status_code == 201, saved.text
    width, height = Image.open(io.BytesIO(client.get(saved.json()["image_url"]).content)).size
    assert width * height <= WORK_PIXELS and width / height == pytest.approx(4 / 3, abs=0.01)


def test_correction_errors(client):
    image = png(render("7"))
    assert_error(client.post(f"{API}/corrections", files=upload(image), data={"label": "x", "model": "digits"}),
                 422, "'label'", "0123456789")
    assert_error(client.post(f"{API}/corrections", files=upload(image)), 422, "'label'")
    assert_error(client.post(f"{API}/corrections", files=upload(png(Image.new("L", (200, 200), 255))), data={"label": "3"}),
                 422, "blank")
    assert_error(client.post(f"{API}/corrections", json={"image": b64(image), "label": "7", "model": "nope"}), 422, "'model'")
    assert_error(client.post(f"{API}/corrections", content=image, headers={"content-type": "image/png"}), 415)
    assert_error(client.post(f"{API}/corrections", files=upload(b"not an image"), data={"label": "1"}), 400)
    for hidden in ("7\x00", "\u202e7"):  # NUL, a right-to-left override: stored, they would be shown to others
        assert_error(client.post(f"{API}/corrections", json={"image": b64(image), "label": "7", "predicted": hidden}),
                     422, "'predicted'")
    assert_error(client.post(f"{API}/corrections", json={"image": b64(image), "label": "7", "predicter": "1"}),
                 422, "'predicter'", "no such field")
    assert client.get(f"{API}/corrections").json()["total"] == 0  # nothing was stored by any of these


def test_correction_on_a_locked_database_is_a_503_and_nothing_is_stored(client, tmp_path, monkeypatch):
    import sqlite3

    import inkread.serving.corrections as corrections

    monkeypatch.setattr(corrections, "BUSY_TIMEOUT_S", 0.2)  # wait this long for the lock, not 10 s
    blocker = sqlite3.connect(corrections.database_path(tmp_path / "data"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        response = client.post(f"{API}/corrections", files=upload(png(render("7"))), data={"label": "7"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert_error(response, 503, "cannot save the correction", "locked", "try again")
    assert client.get(f"{API}/corrections").json()["total"] == 0


def test_reading_corrections_from_a_locked_database_is_a_503(client, tmp_path, monkeypatch):
    import sqlite3

    import inkread.serving.corrections as corrections

    monkeypatch.setattr(corrections, "BUSY_TIMEOUT_S", 0.2)
    assert client.post(f"{API}/corrections", files=upload(png(render("7"))), data={"label": "7"}).status_code == 201
    blocker = sqlite3.connect(corrections.database_path(tmp_path / "data"), isolation_level=None)
    blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")  # not even readers get in
    try:
        for path in ("corrections", "corrections/1", "corrections/1/image"):
            assert_error(client.get(f"{API}/{path}"), 503, "cannot read the corrections", "try again")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert client.get(f"{API}/corrections").json()["total"] == 1


def test_a_float_tiff_correction_is_stored_as_the_model_read_it(client):
    ink = np.ones((60, 60), np.float32)  # 1.0 = white paper, 0.0 = ink, as a float TIFF holds it
    ink[10:50, 28:32] = 0.0
    buffer = io.BytesIO()
    Image.fromarray(ink, mode="F").save(buffer, format="TIFF")
    response = client.post(f"{API}/corrections", files=upload(buffer.getvalue(), "one.tif", "image/tiff"),
                           data={"label": "1"})
    assert response.status_code == 201, response.text
    stored = Image.open(io.BytesIO(client.get(f"{API}/corrections/{response.json()['id']}/image").content))
    pixels = np.asarray(stored.convert("L"))
    assert pixels[30, 30] < 20 and pixels[5, 5] > 235  # the stroke dark, the paper white (not all black)


def test_an_unexpected_error_is_a_one_line_json_500(make_client, monkeypatch):
    from inkread.inference.recognizer import Recognizer

    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Recognizer, "read", broken)
    client = make_client()
    client_no_raise = type(client)(client.app, raise_server_exceptions=False)
    assert_error(client_no_raise.post(f"{API}/read", files=upload(IMAGE)), 500, "internal error (RuntimeError)")


def test_head_is_answered_like_get_without_a_body(client):
    for path in ("/healthz", "/", f"{API}/models"):
        head, get = client.head(path), client.get(path)
        assert head.status_code == 200 == get.status_code, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_a_thin_dash_is_read_not_a_500(client):
    image = Image.new("L", (200, 60), 255)
    image.paste(0, (80, 30, 120, 31))  # a 40 x 1 px line
    response = client.post(f"{API}/read", files=upload(png(image)))
    assert response.status_code == 200, response.text


def test_correction_lookups_404(client):
    assert_error(client.get(f"{API}/corrections/12345"), 404, "12345")
    assert_error(client.get(f"{API}/corrections/12345/image"), 404, "12345")
    assert_error(client.get(f"{API}/corrections/0"), 422, "correction_id")
    assert_error(client.get(f"{API}/corrections/{2**70}"), 422, "correction_id")  # would overflow SQLite
    assert_error(client.get(f"{API}/corrections?limit=0"), 422, "'limit'")
    assert_error(client.get(f"{API}/corrections?offset=-1"), 422, "'offset'")


# --- errors ------------------------------------------------------------------------------------------

IMAGE = png(render("4"))


@pytest.mark.parametrize("request_kwargs, status, words", [
    # 400: bytes that are not a readable image
    ({"files": upload(b"GIF89a garbage")}, 400, ()),
    ({"content": IMAGE[: len(IMAGE) // 2], "headers": {"content-type": "image/png"}}, 400, ()),
    ({"json": {"image": b64(b"hello world")}}, 400, ()),
    ({"files": upload(png_header_only(100_000, 100_000))}, 400, ("limit",)),  # a pixel bomb, refused unread
    # 415: not an image, or a Content-Type the API does not take
    ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, ("Content-Type",)),
    ({"content": b"hello"}, 415, ("(none)",)),
    ({"content": b"image=abc", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, ("Content-Type",)),
    ({"files": upload(b"hello", "notes.txt", "text/plain")}, 415, ("'file'", "text/plain")),
    ({"json": {"image": "data:text/plain;base64," + b64(b"hello")}}, 415, ("'image'",)),
    # 422: invalid or missing fields, named
    ({"json": {"image": "!!not base64!!"}}, 422, ("'image'", "base64")),
    ({"json": {"top_k": 3}}, 422, ("'image'",)),
    ({"json": ["not", "an", "object"]}, 422, ()),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, ("JSON",)),
    ({"json": {"image": b64(IMAGE), "top_k": 0}}, 422, ("'top_k'",)),
    ({"json": {"image": b64(IMAGE), "top_k": "many"}}, 422, ("'top_k'",)),
    ({"json": {"image": b64(IMAGE), "model": "nope"}}, 422, ("'model'", "digits, characters")),
    ({"json": {"image": b64(IMAGE), "only": "letters"}}, 422, ("letters",)),  # the digits model has none
    ({"json": {"image": b64(IMAGE), "only": "#"}}, 422, ("'#'",)),
    ({"json": {"image": b64(IMAGE), "include_preprocessed": "perhaps"}}, 422, ("'include_preprocessed'",)),
    ({"files": {"picture": ("a.png", IMAGE, "image/png")}}, 422, ("'file'",)),
    ({"data": {"file": "just text"}, "files": {"other": ("x.png", b"", "image/png")}}, 422, ("'file'",)),
    ({"files": upload(b"")}, 422, ("empty",)),
    # multipart bodies Starlette refuses, in our words: what to send instead
    ({"files": [("file", ("a.png", IMAGE, "image/png")), ("file", ("b.png", IMAGE, "image/png"))]}, 400,
     ("malformed multipart body (Too many files", "'file'")),
    ({"content": b"--x\r\n", "headers": {"content-type": "multipart/form-data"}}, 400, ("malformed multipart body", "'file'")),
    # a body cut short: its file part looked "missing"
    (multipart(b'name="file"; filename="a.png"', IMAGE, closed=False), 400, ("closing boundary", "cut short")),
    (multipart(b'name="file"; filename="a.png"', IMAGE, cut=40), 400, ("closing boundary", "cut short")),
    # a part without a filename is a text field (curl -F file=<a.png): say how to upload a file
    (multipart(b'name="file"', IMAGE), 422, ("not a text field", "file=@image.png")),
    (multipart(b'name="file"', IMAGE + bytes(70_000)), 400, ("maximum size", "file=@image.png")),
    # a misspelled option is refused, not dropped for the default
    ({"json": {"image": b64(IMAGE), "topk": 3}}, 422, ("'topk'", "no such field")),
    ({"files": upload(IMAGE), "data": {"topk": "3"}}, 422, ("'topk'", "no such field")),
])
@pytest.mark.parametrize("endpoint", ["predict", "read"])
def test_bad_requests_get_a_clear_4xx(client, endpoint, request_kwargs, status, words):
    assert_error(client.post(f"{API}/{endpoint}", **request_kwargs), status, *words)


@pytest.mark.parametrize("endpoint", ["predict", "read", "corrections"])
def test_a_field_name_with_control_characters_is_escaped_in_the_message(client, endpoint):
    """A JSON key or multipart field name holding a newline and a right-to-left override came back raw in
    the 422 ("field 'a\nb\u202ec': no such field"), as query parameter names no longer did."""
    name = "a\nb\u202ec"
    labelled = {"label": "4"} if endpoint == "corrections" else {}
    as_json = {"json": {"image": b64(IMAGE), **labelled, name: 3}}
    part = f'--bnd\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n3\r\n'.encode()
    label = b'--bnd\r\nContent-Disposition: form-data; name="label"\r\n\r\n4\r\n'
    as_form = {"content": part + (label if endpoint == "corrections" else b"") + multipart(
        b'name="file"; filename="a.png"', IMAGE)["content"], "headers": {"content-type": "multipart/form-data; boundary=bnd"}}
    for request in (as_json, as_form):
        detail = assert_error(client.post(f"{API}/{endpoint}", **request), 422, "field 'a\\nb\\u202ec'", "no such field")
        assert "\u202e" not in detail


def test_query_options_are_validated(client):
    assert_error(client.post(f"{API}/predict?top_k=0", files=upload(IMAGE)), 422, "'top_k'")
    assert_error(client.post(f"{API}/predict?include_preprocessed=maybe", files=upload(IMAGE)), 422, "'include_preprocessed'")
    assert_error(client.post(f"{API}/predict?topk=3", files=upload(IMAGE)), 422, "'topk'", "no such field")


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "on", "t", "y"])
def test_boolean_options_in_the_query_or_a_form_are_true_or_false_only(client, value):
    """pydantic alone takes yes/no/on/1/0/t/y for a boolean from text: "no" was a quiet false and "1" a true."""
    for request in ({"url": f"{API}/predict?include_preprocessed={value}"},
                    {"url": f"{API}/predict", "data": {"include_preprocessed": value}}):
        assert_error(client.post(files=upload(IMAGE), **request), 422, "'include_preprocessed'",
                     f"'{value}' is not a boolean: use true or false")


def test_boolean_options_take_true_and_false_in_any_case(client):
    for value, included in (("true", True), ("False", False), ("TRUE", True)):
        for request in ({"url": f"{API}/predict?include_preprocessed={value}"},
                        {"url": f"{API}/predict", "data": {"include_preprocessed": value}}):
            answer = client.post(files=upload(IMAGE), **request)
            assert answer.status_code == 200 and (answer.json()["preprocessed"] is not None) is included, answer.text


def query_requests(client) -> list[tuple[str, str, dict]]:
    """One valid request of every endpoint: (method, path, keyword arguments); a correction #1 exists."""
    saved = client.post(f"{API}/corrections", files=upload(IMAGE), data={"label": "4"})
    assert saved.status_code == 201 and saved.json()["id"] == 1, saved.text
    image = {"files": upload(IMAGE)}
    return [("post", f"{API}/predict", image), ("post", f"{API}/read", image), ("get", f"{API}/models", {}),
            ("get", "/healthz", {}), ("get", f"{API}/corrections", {}),
            ("post", f"{API}/corrections", {**image, "data": {"label": "4"}}),
            ("get", f"{API}/corrections/1", {}), ("get", f"{API}/corrections/1/image", {})]


def test_every_endpoint_refuses_an_unknown_query_parameter(client):
    """README: a query option the endpoint does not have is a 422 naming it. /corrections?limt=5 gave the
    default page, POST /corrections?lable=3 stored a correction, /models and /healthz ignored theirs."""
    for method, path, kwargs in query_requests(client):
        assert getattr(client, method)(path, **kwargs).status_code in (200, 201), path  # valid without it
        for query, name in (("limt=5", "'limt'"), ("lable=3", "'lable'"), ("x=1&limit=2", "'x'")):
            response = getattr(client, method)(f"{path}?{query}", **kwargs)
            assert_error(response, 422, name, "no such field")
    assert client.get(f"{API}/corrections").json()["total"] == 2  # #1 and the valid POST: the refused ones stored nothing
    # a name with a control character is still named on one line
    assert_error(client.get(f"{API}/models?%0Aa=1"), 422, "'\\na'", "no such field")


def test_a_repeated_query_parameter_is_refused_not_the_last_one_used(client):
    """?top_k=1&top_k=3 answered with 3 ranked labels: one of the two values was silently dropped."""
    for method, path, kwargs in query_requests(client):
        for query in ("top_k=1&top_k=3", "limit=1&limit=1", "model=digits&model=digits", "a=1&a=2"):
            response = getattr(client, method)(f"{path}?{query}", **kwargs)
            assert_error(response, 422, f"'{query.split('=')[0]}'", "given 2 times in the query string")
    assert client.get(f"{API}/corrections").json()["total"] == 1


def test_corrections_of_an_unknown_model_is_a_422_like_elsewhere(client):
    """GET /corrections?model=foo answered 200 with an empty page: a typo looked like "no corrections yet"."""
    assert client.post(f"{API}/corrections", files=upload(IMAGE), data={"label": "4"}).status_code == 201
    assert_error(client.get(f"{API}/corrections?model=foo"), 422, "field 'model': unknown model 'foo'",
                 "this server has digits, characters")
    page = client.get(f"{API}/corrections?model=digits&limit=5&offset=0")
    assert page.status_code == 200 and page.json()["total"] == 1 and page.json()["limit"] == 5
    assert client.get(f"{API}/corrections?model=characters").json()["total"] == 0


def test_the_query_parameters_are_documented(client):
    """GET /corrections reads its query with the shared check: its parameters still show in /docs."""
    operation = client.get("/openapi.json").json()["paths"][f"{API}/corrections"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["limit", "offset", "model"]
    assert all(p["in"] == "query" for p in operation["parameters"])


def test_body_over_the_limit_is_refused_with_413(make_client):
    client = make_client(max_body_bytes=100_000)
    big = b"\x89PNG" + b"\0" * 200_000
    # declared length: refused before reading
    assert_error(client.post(f"{API}/predict", content=big, headers={"content-type": "image/png"}), 413, "limit")
    # chunked (no Content-Length): refused while reading
    def chunks():
        for start in range(0, len(big), 10_000):
            yield big[start:start + 10_000]
    assert_error(client.post(f"{API}/predict", content=chunks(), headers={"content-type": "image/png"}), 413, "limit")
    assert_error(client.post(f"{API}/corrections", files=upload(big), data={"label": "1"}), 413)
    # a chunked multipart upload: the limit's 413 once came back as a 400 "malformed multipart body"
    boundary = b"inkreadboundary"
    multipart = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
                 b"Content-Type: image/png\r\n\r\n" + big + b"\r\n--" + boundary + b"--\r\n")
    response = client.post(f"{API}/predict", content=(multipart[i:i + 10_000] for i in range(0, len(multipart), 10_000)),
                           headers={"content-type": "multipart/form-data; boundary=inkreadboundary"})
    assert_error(response, 413, "limit")
    assert client.post(f"{API}/predict", files=upload(IMAGE)).status_code == 200  # small ones still pass


def padded(image: bytes, size: int) -> bytes:
    """The PNG ``image`` grown to about ``size`` bytes by a private chunk before IEND (decoders skip it)."""
    payload = b"prIv" + bytes(size)
    return image[:-12] + struct.pack(">I", size) + payload + struct.pack(">I", zlib.crc32(payload) & 0xFFFFFFFF) + image[-12:]


def test_a_large_json_body_is_parsed_in_a_worker_thread_with_the_same_answers(client, monkeypatch):
    """An 8 MB JSON body (a base64 image) was parsed and decoded on the event loop: ~30 ms in which no other
    request of the worker, /healthz included, was answered. A large body is parsed in a worker thread; a
    drawing's small body still on the loop (a thread costs more than it saves there)."""
    from inkread.serving import inputs

    where: list[str] = []
    decode = inputs.decode_base64_image

    def noting_where(text: str, field: str = "image") -> bytes:
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:  # no event loop runs in this thread
            where.append("worker thread")
        return decode(text, field)

    monkeypatch.setattr(inputs, "decode_base64_image", noting_where)
    large = b64(padded(IMAGE, 1_000_000))  # 1.3 MB of JSON
    small = client.post(f"{API}/predict", json={"image": b64(IMAGE)})
    assert small.status_code == 200 and where == ["event loop"]
    answer = client.post(f"{API}/predict", json={"image": large, "top_k": 2})
    assert answer.status_code == 200 and where[1:] == ["worker thread"]
    assert answer.json()["top_k"] == small.json()["top_k"][:2]  # the same drawing read
    correction = client.post(f"{API}/corrections", json={"image": large, "label": "4"})
    assert correction.status_code == 201 and where[2:] == ["worker thread"]
    # its errors are the loop's, word for word
    assert_error(client.post(f"{API}/predict", json={"image": "*" + large}), 422, "not valid base64")
    assert_error(client.post(f"{API}/predict", json={"image": "data:text/plain;base64," + large}), 415, "text/plain")
    assert_error(client.post(f"{API}/predict", content=b'{"image": "' + large.encode() + b'", "top_k": 1, "top_k": 2}',
                             headers={"content-type": "application/json"}), 422, "'top_k'", "given 2 times")
    assert_error(client.post(f"{API}/predict", json={"image": large, "top_k": True}), 422, "top_k")
    assert_error(client.post(f"{API}/predict", content=b'{"image": "' + large.encode() + b'"',
                             headers={"content-type": "application/json"}), 422, "not valid JSON")


def test_base64_decoded_in_steps_accepts_and_refuses_what_one_call_does(monkeypatch):
    """A large image's base64 is decoded a step at a time (so the event loop gets the GIL between steps); the
    steps must not take a text one call refuses (padding in the middle) nor refuse one it takes."""
    import binascii
    import random

    from fastapi import HTTPException

    from inkread.serving import inputs

    monkeypatch.setattr(inputs, "BASE64_STEP", 8)
    rng = random.Random(0)
    for _ in range(20_000):
        text = "".join(rng.choice("QUJD+/=") if rng.random() < 0.3 else rng.choice("QUJDa9") for _ in range(rng.randrange(41)))
        try:
            expected = base64.b64decode(text + "=" * (-len(text) % 4), validate=True) or "empty"
        except binascii.Error:
            expected = "not valid base64"
        try:
            got = inputs.decode_base64_image(text)
        except HTTPException as error:
            got = "empty" if "empty" in error.detail else "not valid base64" if "base64" in error.detail else error.detail
        assert got == expected, text


# How long the tests that hold an inference thread wait for the server before they give up: a guard against a
# hang, not a timing. (30 s ran out once on a machine loaded by other test runs.)
HANG_GUARD_S = 120.0


def test_a_drawing_is_answered_while_large_images_are_read(make_client, monkeypatch):
    """Large images (pages, photos) queue for all but one inference thread: with both threads reading
    pages, a drawing's /predict waited for them (12 pages at once: a 12 s wait, benchmarks/mixed_load.py)."""
    import threading

    from inkread.inference.recognizer import Recognizer

    client = make_client(inference_threads=2)
    release, reading = threading.Event(), threading.Semaphore(0)
    original_read = Recognizer.read

    def slow_read(self, *args, **kwargs):  # a page that takes as long as the test wants
        reading.release()
        release.wait(HANG_GUARD_S)
        return original_read(self, *args, **kwargs)

    monkeypatch.setattr(Recognizer, "read", slow_read)
    page = Image.new("L", (1200, 900), 255)  # 1.08 MP: more than the 0.79 MP the server reads at
    page.paste(Image.open(io.BytesIO(IMAGE)).convert("L"), (500, 400))
    page_png = io.BytesIO()
    page.save(page_png, format="PNG")
    answers: list[int] = []
    readers = [threading.Thread(target=lambda: answers.append(client.post(f"{API}/read", files=upload(page_png.getvalue())).status_code))
               for _ in range(3)]
    for reader in readers:
        reader.start()
    assert reading.acquire(timeout=HANG_GUARD_S)  # a page is being read and holds an inference thread
    drawing: list[int] = []
    predictor = threading.Thread(target=lambda: drawing.append(client.post(f"{API}/predict", files=upload(IMAGE)).status_code))
    predictor.start()
    predictor.join(20)
    finished_while_pages_were_read = not predictor.is_alive()
    release.set()
    for thread in (predictor, *readers):
        thread.join(HANG_GUARD_S)
    assert finished_while_pages_were_read and drawing == [200]
    assert answers == [200, 200, 200]


def predict_scope() -> dict:
    """A new ASGI scope (the app writes into it) of a raw PNG POSTed to /predict, for tests that call the app
    directly with their own receive()."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": f"{API}/predict", "raw_path": f"{API}/predict".encode(), "query_string": b"", "root_path": "",
            "headers": [(b"content-type", b"image/png"), (b"host", b"localhost")], "client": ("127.0.0.1", 1),
            "server": ("test", 80)}


def blocking_predict(monkeypatch):
    """Recognizer.predict patched to wait for ``release`` (a hang guard of HANG_GUARD_S): returns (release, started,
    calls), ``started`` released once per call as it begins, ``calls`` counting them."""
    import threading

    from inkread.inference.recognizer import Recognizer

    release, started, calls = threading.Event(), threading.Semaphore(0), []
    original = Recognizer.predict

    def held(self, *args, **kwargs):
        calls.append(1)
        started.release()
        release.wait(HANG_GUARD_S)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Recognizer, "predict", held)
    return release, started, calls


def wait_until(condition, seconds: float = HANG_GUARD_S) -> None:
    """Poll ``condition`` until true; ``seconds`` is a hang guard, not a timing."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_requests_past_the_waiting_bound_get_503(make_client, monkeypatch):
    """Requests waited for an inference thread without bound (4 slow reads queued held a drawing up 39 s):
    past ``waiting_per_inference_thread`` per thread, a request is answered 503 with Retry-After at once."""
    import threading

    client = make_client(inference_threads=1, waiting_per_inference_thread=2)
    release, started, calls = blocking_predict(monkeypatch)
    answers: list[int] = []
    senders = [threading.Thread(target=lambda: answers.append(client.post(f"{API}/predict", files=upload(IMAGE)).status_code))
               for _ in range(3)]
    for sender in senders:
        sender.start()
    try:
        assert started.acquire(timeout=HANG_GUARD_S)  # one runs...
        wait_until(lambda: client.app.state.inference.waiting == 2)  # ...and two wait: the bound
        refused = client.post(f"{API}/predict", files=upload(IMAGE))
        refused_too = client.post(f"{API}/read", files=upload(IMAGE))
    finally:
        release.set()
        for sender in senders:
            sender.join(HANG_GUARD_S)
    for response in (refused, refused_too):
        assert_error(response, 503, "2 requests waiting", "send it again")
        assert response.headers["retry-after"] == "2"
    assert answers == [200, 200, 200] and len(calls) == 3  # the refused ones never ran
    assert client.post(f"{API}/predict", files=upload(IMAGE)).status_code == 200  # the queue drained


def test_a_request_whose_client_hung_up_while_it_waited_is_not_run(bundles, tmp_path, monkeypatch):
    """Abandoned requests kept the inference threads busy: 10 /read of a small page whose clients had hung up
    held a drawing up 12.8 s. When its turn comes, a request whose client is gone is skipped."""
    release, started, calls = blocking_predict(monkeypatch)
    app = create_app(ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", inference_threads=1))

    def request(gone: asyncio.Event | None):
        sent: list[dict] = []
        parts = [{"type": "http.request", "body": IMAGE, "more_body": False}]

        async def receive():
            if parts:
                return parts.pop()
            if gone is not None:
                await gone.wait()
                return {"type": "http.disconnect"}
            await asyncio.sleep(3600)  # a client that waits for its answer

        async def send(message):
            sent.append(message)

        return app(predict_scope(), receive, send), sent, parts

    async def main():
        gone = asyncio.Event()
        (running, running_sent, _), (waiting, waiting_sent, unread) = request(None), request(gone)
        first = asyncio.create_task(running)
        await asyncio.to_thread(started.acquire, True, HANG_GUARD_S)  # the first holds the only thread
        second = asyncio.create_task(waiting)
        while unread:  # the second has its request read, and waits for the thread
            await asyncio.sleep(0.01)
        gone.set()  # its client hangs up
        await asyncio.sleep(0)
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), HANG_GUARD_S)
        return running_sent, waiting_sent

    running_sent, waiting_sent = asyncio.run(main())
    assert next(m for m in running_sent if m["type"] == "http.response.start")["status"] == 200
    assert len(calls) == 1  # the second request never reached the model


def test_a_body_that_stalls_gets_408_and_a_closed_connection(bundles, tmp_path):
    """A client that sends half its upload and stops must not hold the connection (and a worker's memory)."""
    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", body_timeout_s=0.3)
    app = create_app(config)
    sent: list[dict] = []
    parts = [{"type": "http.request", "body": b"\x89PNG\r\n", "more_body": True}]  # the first bytes only

    async def stalled_receive():
        if parts:
            return parts.pop()
        await asyncio.sleep(3600)  # the rest never comes

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(predict_scope(), stalled_receive, send), 10))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"did not arrive within 0.3 s" in body


def upload_call(app, chunks: int, chunk_bytes: int, headers: tuple = (), hold: asyncio.Event | None = None):
    """An upload of ``chunks`` chunks to ``app``'s /predict (endless if 0): its ASGI call, and a record of the
    chunks read and how many had been read when the answer began. With ``hold``, its last chunk waits for it."""
    record = {"read": 0, "read_at_answer": None, "status": None}
    scope = predict_scope()
    scope["headers"] = [*scope["headers"], *headers]

    async def receive():
        record["read"] += 1
        more = chunks == 0 or record["read"] < chunks
        if hold is not None and not more:
            await hold.wait()
        return {"type": "http.request", "body": bytes(chunk_bytes), "more_body": more}

    async def send(message):
        if message["type"] == "http.response.start":
            record["status"], record["read_at_answer"] = message["status"], record["read"]

    return app(scope, receive, send), record


def test_a_refused_body_is_read_to_its_end_before_the_answer_within_a_bound(bundles, tmp_path):
    """A 503 (the uploads in flight hold the budget) or 413 answered with the body unread was reset with the
    connection, unseen by a client still sending: the rest is read and thrown away first, up to
    max_discarded_body_bytes; a client waiting for 100 Continue has sent nothing and is answered at once."""
    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", max_body_bytes=100_000,
                         max_body_bytes_in_flight=100_000, max_discarded_body_bytes=1_000_000)
    app = create_app(config)
    length = (b"content-length", b"300000")
    hold = asyncio.Event()
    holding = upload_call(app, 3, 30_000, hold=hold)  # 60 KB in and the rest held back: most of the budget
    uploads = {
        "over the budget": upload_call(app, 6, 50_000),  # 50 KB more would make 110 KB in flight: 503
        "over the limit, endless": upload_call(app, 0, 300_000),  # read up to the bound, then answered
        "declared over the limit": upload_call(app, 6, 50_000, headers=(length,)),
        "waiting for 100 Continue": upload_call(app, 6, 50_000, headers=(length, (b"expect", b"100-continue"))),
        "declared past the bound": upload_call(app, 6, 50_000, headers=((b"content-length", b"2000000"),)),
    }

    async def main():
        first = asyncio.create_task(holding[0])
        while holding[1]["read"] < 3:  # its third chunk waits
            await asyncio.sleep(0.01)
        await asyncio.wait_for(asyncio.gather(*(call for call, _ in uploads.values())), HANG_GUARD_S)
        hold.set()
        await asyncio.wait_for(first, HANG_GUARD_S)

    asyncio.run(main())
    answers = {name: (record["status"], record["read_at_answer"]) for name, (_, record) in uploads.items()}
    assert answers == {"over the budget": (503, 6), "over the limit, endless": (413, 5), "declared over the limit": (413, 6),
                       "waiting for 100 Continue": (413, 0), "declared past the bound": (413, 0)}
    assert holding[1]["status"] == 400  # read whole (zeros: not an image), never refused


@contextlib.contextmanager
def running_server(config: ServeConfig):
    """The app of ``config`` served by uvicorn as ``inkread serve`` configures it, in a thread; yields its address."""
    import threading
    import time

    import uvicorn

    from inkread.serving.server import bind, uvicorn_config

    server = uvicorn.Server(uvicorn_config(create_app(config), config))
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_sending_a_body_too_large_gets_the_413_not_a_connection_reset(bundles, tmp_path, chunked):
    """The server answered 413 and closed the connection without reading the body: a client still sending it
    (http.client) got "connection reset", never the answer that says what to do. The rest of a refused body is
    now read and thrown away (up to a bound) before the answer. (A chunked body's 413 was seen before too: it
    was not closed, and uvicorn threw the rest away; it is closed now, so it is read here first.)"""
    import http.client
    import json

    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", max_body_bytes=1024 * 1024)
    body = b"\x89PNG" + bytes(8_000_000)  # more than the sockets' buffers take without the server reading
    with running_server(config) as address:
        client = http.client.HTTPConnection(*address, timeout=30)
        try:
            if chunked:  # no length told: refused once 1 MB has come
                client.request("POST", f"{API}/predict", body=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                               headers={"content-type": "image/png"}, encode_chunked=True)
            else:  # refused on its Content-Length, before any of it is read
                client.request("POST", f"{API}/predict", body=body, headers={"content-type": "image/png"})
            answer = client.getresponse()
            status, detail = answer.status, json.loads(answer.read())["detail"]
        finally:
            client.close()
    assert status == 413 and "the limit is 1 MB" in detail, detail


def test_a_client_that_stalls_in_its_headers_is_disconnected(bundles, tmp_path):
    """Connecting and sending nothing, or half a request line, must not hold a connection for good."""
    import socket
    import time

    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", header_timeout_s=0.5)
    with running_server(config) as address:
        def closed_after(first_bytes: bytes) -> float:
            with socket.create_connection(address, timeout=10) as client:
                start = time.monotonic()
                client.sendall(first_bytes)
                assert client.recv(100) == b""  # closed by the server, no answer
                return time.monotonic() - start

        assert 0.4 < closed_after(b"") < 5
        assert 0.4 < closed_after(b"GET /healthz HTTP/1.1\r\nHost: x\r\n") < 5  # no blank line: headers unfinished
        with socket.create_connection(address, timeout=10) as client:  # a whole request, sent slowly, is answered
            client.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.3)
            client.sendall(b"Host: localhost\r\nConnection: close\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("headers", [b"Host: a\r\nHost: b\r\n", b"Host: a\r\nContent-Length: 5\r\nContent-Length: 7\r\n",
                                     b"Host: a\r\nContent-Length: -1\r\n"])
def test_a_request_uvicorn_cannot_parse_gets_a_json_400(bundles, tmp_path, headers):
    """uvicorn answered these in text/plain ("Invalid HTTP request received."): a client of a JSON API got no detail."""
    import json
    import socket

    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data")
    with running_server(config) as address, socket.create_connection(address, timeout=10) as client:
        client.sendall(b"POST /api/v1/predict HTTP/1.1\r\n" + headers + b"\r\nhello")
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head.lower(), answer
    assert "malformed" in json.loads(body)["detail"]


def test_request_headers_too_large_get_a_431_that_says_so(bundles, tmp_path):
    """Headers past h11's limit (16 KB still incomplete) were answered 400 "the request line or a header is
    malformed (a header given twice, a bad Content-Length?)": nothing was malformed, they were too large."""
    import json
    import socket

    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data")
    with running_server(config) as address, socket.create_connection(address, timeout=10) as client:
        # 20 KB of a Cookie header, and the headers not ended yet: all of it read, so the answer is not lost to a reset
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nCookie: " + b"a" * 20_000)
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") and b"content-type: application/json" in head.lower(), answer
    detail = json.loads(body)["detail"]
    assert "larger than 16 KB" in detail and "malformed" not in detail and "\n" not in detail, detail
    from inkread.serving.server import uvicorn_config

    smaller = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data", max_header_bytes=4096)
    assert uvicorn_config(create_app(smaller), smaller).h11_max_incomplete_event_size == 4096


def test_a_websocket_upgrade_request_is_answered_without_advice_to_install_a_websocket_library(bundles, tmp_path, caplog):
    """uvicorn logged "No supported WebSocket library detected. Please use pip install 'uvicorn[standard]'"
    for every request asking to upgrade: this server has no WebSocket endpoint, so that advice is wrong."""
    import logging
    import socket

    config = ServeConfig(models=[str(b) for b in bundles], data_dir=tmp_path / "data")
    error_log = logging.getLogger("uvicorn.error")
    with running_server(config) as address, socket.create_connection(address, timeout=10) as client:
        error_log.addHandler(caplog.handler)  # once uvicorn has set its logging up; its loggers do not propagate
        try:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n"
                           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200")  # answered as plain HTTP
        finally:
            error_log.removeHandler(caplog.handler)
    logged = [record.getMessage() for record in caplog.records if record.name == "uvicorn.error"]
    assert "Unsupported upgrade request." in logged  # what happened is still said
    assert not [line for line in logged if "WebSocket library" in line], logged


def test_unknown_paths_and_methods(client):
    assert_error(client.get("/nope"), 404, "/api/v1", "/nope")
    assert_error(client.get(f"{API}/nope"), 404, f"{API}/nope")
    assert_error(client.get(f"{API}/predict"), 405, "GET", f"{API}/predict", "POST")
    # every method the path takes, in the message and in Allow: Starlette's named only its first route's
    wrong = client.delete(f"{API}/corrections")
    assert_error(wrong, 405, f"DELETE is not allowed on {API}/corrections: use GET, HEAD, POST")
    assert wrong.headers["allow"] == "GET, HEAD, POST"
    assert client.post(f"{API}/corrections/2").headers["allow"] == "DELETE, GET, HEAD"


def test_a_trailing_slash_is_a_404_naming_the_path_without_it_not_an_empty_redirect(client):
    """`curl -F file=@d.png .../api/v1/predict/` got an empty 307 and printed nothing."""
    response = client.post(f"{API}/predict/", files=upload(IMAGE), follow_redirects=False)
    assert_error(response, 404, f"no such endpoint {API}/predict/: did you mean {API}/predict?")
    assert_error(client.get(f"{API}/corrections/1/", follow_redirects=False), 404, f"did you mean {API}/corrections/1?")
    assert_error(client.get("/docs/", follow_redirects=False), 404, "did you mean /docs?")
    assert "did you mean" not in assert_error(client.get(f"{API}/nope/", follow_redirects=False), 404, f"{API}/nope/")


# --- the page, static files and headers -----------------------------------------------------------

def test_page_and_assets_are_served_with_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="canvas"' in page.text and "/static/app.js" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "http" not in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css"), ("icon.svg", "image/svg+xml")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    api = client.get(f"{API}/models")
    assert api.headers["cache-control"] == "no-store" and "content-security-policy" in api.headers


def test_page_loads_nothing_from_other_origins(client):
    for asset in ("/", "/static/app.js", "/static/style.css"):
        text = client.get(asset).text.replace("http://www.w3.org/2000/svg", "")  # an XML namespace name, not a fetch
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, asset


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                                  "/static/%2e%2e/%2e%2e/corrections.py"])
def test_static_files_cannot_escape_their_folder(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "def create_app" not in response.text and "import" not in response.text


def test_a_predicted_value_with_control_characters_is_said_so_not_shown_as_a_regular_expression(client):
    response = client.post(f"{API}/corrections", data={"label": "7", "predicted": "1\u200b"}, files=upload(IMAGE))
    detail = assert_error(response, 422, "field 'predicted'", "control or invisible")
    assert "\\x00" not in detail and "^[" not in detail


def test_a_compressed_body_and_preprocessed_images_of_read_are_refused_not_misread(client):
    import gzip

    compressed = client.post(f"{API}/predict", content=gzip.compress(IMAGE),
                             headers={"content-type": "image/png", "content-encoding": "gzip"})
    assert_error(compressed, 415, "Content-Encoding 'gzip'", "uncompressed")
    assert_error(client.post(f"{API}/read?include_preprocessed=true", files=upload(IMAGE)), 422, "include_preprocessed")
    assert client.post(f"{API}/read?include_preprocessed=false", files=upload(IMAGE)).status_code == 200


def test_a_correction_field_in_the_query_string_is_said_to_go_in_the_body(client):
    response = client.post(f"{API}/corrections?label=3", files=upload(IMAGE))
    assert_error(response, 422, "field 'label'", "goes in the request body")
    assert_error(client.post(f"{API}/corrections?image=x", files=upload(IMAGE)), 422, "field 'image'", "request body")


def test_a_form_field_given_twice_and_json_of_the_wrong_type_are_refused(client):
    """-F model=digits -F model=characters was answered by the last one; JSON top_k true was taken as 1, "2" as 2."""
    twice = client.post(f"{API}/predict", files=[("file", ("d.png", IMAGE, "image/png")), ("top_k", (None, "1")),
                                                   ("top_k", (None, "3"))])
    assert_error(twice, 422, "'top_k'", "given 2 times")
    image = base64.b64encode(IMAGE).decode()
    for value in (True, "2", 2.5):
        assert_error(client.post(f"{API}/predict", json={"image": image, "top_k": value}), 422, "top_k")
    assert client.post(f"{API}/predict", json={"image": image, "top_k": 2, "include_preprocessed": False}).status_code == 200


def test_a_loopback_server_answers_only_to_its_own_host_names(make_client):
    """DNS rebinding: a page of evil.example, its name pointed at 127.0.0.1, is "same-origin" with the
    server (its Origin and Host agree) and could read answers and add or delete corrections."""
    client = make_client(allowed_hosts=[])
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "127.0.0.1"):
        assert client.get(f"{API}/models", headers={"host": host}).status_code == 200, host
    refused = client.post(f"{API}/predict", headers={"host": "evil.example:8000", "origin": "http://evil.example:8000"},
                          files=upload(IMAGE))
    assert_error(refused, 400, "'evil.example:8000' is not a name of this server")
    assert "--allowed-host" in refused.json()["detail"]
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400  # the page too
    proxied = make_client(allowed_hosts=["ink.example"])  # behind a reverse proxy that keeps the Host
    assert proxied.get(f"{API}/models", headers={"host": "ink.example"}).status_code == 200
    assert proxied.get(f"{API}/models", headers={"host": "evil.example"}).status_code == 400


def test_the_host_check_comes_first_and_parses_strictly(make_client):
    """A CORS preflight with a foreign Host was answered (CORS was outermost); "[::1]evil" and "127.0.0.1:1:2"
    were taken for loopback names."""
    client = make_client(allowed_hosts=[], cors_origins=["https://app.example"])
    preflight = client.options(f"{API}/predict", headers={"host": "evil.example", "origin": "https://app.example",
                                                         "access-control-request-method": "POST"})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    for host in ("[::1]evil", "127.0.0.1:1:2", "localhost:80/x", ""):
        assert client.get(f"{API}/models", headers={"host": host}).status_code == 400, host


@pytest.mark.parametrize("host", ["::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "127.0.0.2", "localhost"])
def test_every_spelling_of_a_loopback_address_is_loopback(host):
    assert ServeConfig(host=host).is_loopback() and ServeConfig(host=host).host_names() is not None


@pytest.mark.parametrize("name", ["http://ink.example", "ink.example:8443", "ink.example/app", ""])
def test_an_allowed_host_that_is_not_a_name_is_refused_at_start(name):
    with pytest.raises(InkreadError, match="is not a host name"):
        ServeConfig(allowed_hosts=[name])


def test_a_server_on_a_public_address_answers_to_any_host_unless_names_are_given(make_client):
    assert make_client(host="0.0.0.0", allowed_hosts=[]).get(f"{API}/models", headers={"host": "box.lan:8000"}).status_code == 200
    named = make_client(host="0.0.0.0", allowed_hosts=["box.lan"])
    assert named.get(f"{API}/models", headers={"host": "box.lan:8000"}).status_code == 200
    assert named.get(f"{API}/models", headers={"host": "evil.example"}).status_code == 400


def test_cors_is_closed_by_default_and_opens_for_given_origins(make_client):
    closed = make_client()
    response = closed.get(f"{API}/models", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = closed.options(f"{API}/predict", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    opened = make_client(cors_origins=["https://app.example"])
    response = opened.get(f"{API}/models", headers={"origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    response = opened.get(f"{API}/models", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_origins_are_compared_as_browsers_send_them(make_client):
    """`--cors-origin http://localhost:3000/` (a trailing slash) opened nothing: the preflight of
    http://localhost:3000 was refused and simple requests got no Access-Control-Allow-Origin."""
    client = make_client(cors_origins=["HTTP://LocalHost:3000/"])
    preflight = client.options(f"{API}/predict", headers={"origin": "http://localhost:3000", "access-control-request-method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    response = client.get(f"{API}/models", headers={"origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    written = client.post(f"{API}/corrections", headers={"origin": "http://localhost:3000"},
                          files=upload(png(render("1"))), data={"label": "1"})
    assert written.status_code == 201


def test_a_refused_cors_preflight_is_one_line_of_json(make_client):
    client = make_client(cors_origins=["https://app.example"])
    refused = client.options(f"{API}/predict", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
    assert_error(refused, 400, "https://evil.example", "--cors-origin https://evil.example")
    assert "access-control-allow-origin" not in refused.headers
    method = client.options(f"{API}/predict", headers={"origin": "https://app.example", "access-control-request-method": "PUT"})
    assert_error(method, 400, "PUT", "GET, POST, DELETE")


@pytest.mark.parametrize("origin, normalized", [
    ("http://localhost:3000/", "http://localhost:3000"), ("HTTPS://App.Example", "https://app.example"),
    ("http://[::1]:8080", "http://[::1]:8080"), ("https://app.example:443", "https://app.example"),
])
def test_cors_origins_are_normalized(origin, normalized):
    assert ServeConfig(cors_origins=[origin]).cors_origins == [normalized]


@pytest.mark.parametrize("origin", ["not-a-url", "localhost:3000", "http://app.example/page", "http://app.example:99999",
                                    "*", "http://user@app.example", "http://app.example?x=1"])
def test_a_cors_origin_that_is_not_an_origin_is_refused_at_start(origin):
    with pytest.raises(InkreadError, match="cors_origins .*scheme://host\\[:port\\]") as error:
        ServeConfig(cors_origins=[origin])
    assert "\n" not in str(error.value)


def test_a_page_of_another_site_cannot_write_corrections(make_client):
    """A form POST needs no CORS preflight: without the Origin check any open page could poison the
    fine-tuning data (or delete it)."""
    client = make_client()
    form = {"files": upload(png(render("1"))), "data": {"label": "7"}}
    refused = client.post(f"{API}/corrections", headers={"origin": "http://evil.example"}, **form)
    assert_error(refused, 403, "cross-site request refused", "http://evil.example")
    assert client.get(f"{API}/corrections").json()["total"] == 0
    own = client.post(f"{API}/corrections", headers={"origin": "http://testserver"}, **form)  # the page itself
    assert own.status_code == 201
    assert client.post(f"{API}/corrections", **form).status_code == 201  # curl, scripts: no Origin
    assert_error(client.delete(f"{API}/corrections/1", headers={"origin": "null"}), 403, "cross-site")
    opened = make_client(cors_origins=["https://app.example"])
    assert opened.post(f"{API}/predict", headers={"origin": "https://app.example"}, files=upload(IMAGE)).status_code == 200


def test_openapi_documents_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/predict", "/api/v1/read", "/api/v1/models", "/api/v1/corrections",
                 "/api/v1/corrections/{correction_id}", "/api/v1/corrections/{correction_id}/image", "/healthz"):
        assert path in paths, path
    body = paths["/api/v1/predict"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/png"} <= set(body)
    assert body["application/json"]["schema"]["properties"]["model"]["anyOf"][0]["enum"] == ["digits", "characters"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "https://" not in docs.text and "http://" not in docs.text  # Swagger UI comes from this server
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    assert "https:" not in docs.headers["content-security-policy"]


# --- the command -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--port", "70000"], ("--port",)),
    (["--model", "no/such/model"], ("no/such/model",)),
    (["--workers", "0"], ("--workers",)),
    (["--cors-origin", "not-a-url"], ("--cors-origin", "not-a-url")),
])
def test_serve_command_reports_bad_options_in_one_line(tmp_path, args, words):
    result = subprocess.run([sys.executable, "-m", "inkread", "serve", "--port", "0", "--data-dir", str(tmp_path), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inkread: error:"), result.stderr
    for word in words:
        assert word in lines[0]


def test_memory_is_given_back_only_after_the_process_grew():
    from inkread.serving.memory import MemoryReleaser, resident_bytes

    if resident_bytes() is None or MemoryReleaser().trim is None:
        pytest.skip("needs Linux /proc and glibc's malloc_trim")
    import gc

    gc.collect()  # what earlier tests left is freed now, not while this test measures
    # ...and given back: glibc keeps up to 256 MB freed on its heap (machine.keep_large_buffers_in_heap, set by
    # the first ONNX session), resident, and the 256 MB below reused it without the process growing
    MemoryReleaser().trim(0)
    releaser = MemoryReleaser(growth_bytes=128 * 1024 * 1024)  # well above what other tests' threads may add meanwhile
    assert not releaser.release_if_grown()  # nothing grew
    held = np.ones(256 * 1024 * 1024 // 8)  # 256 MB, touched: resident
    assert releaser.release_if_grown()
    assert not releaser.release_if_grown()  # the baseline moved up: no trim on every request after
    del held


def test_blank_form_fields_are_not_given(client):
    """A blank multipart field means "not given", as in an HTML form: Swagger UI's "Try it out" sends every
    optional field it shows, blank ones as "" (top_k "" was a 422; predicted "" was stored)."""
    answer = client.post(f"{API}/predict", files=upload(IMAGE),
                         data={"model": "", "top_k": "", "only": "", "include_preprocessed": ""})
    assert answer.status_code == 200, answer.text
    assert answer.json()["label"] == "4" and len(answer.json()["top_k"]) == 5 and answer.json()["preprocessed"] is None
    stored = client.post(f"{API}/corrections", files=upload(IMAGE), data={"label": "4", "model": "", "predicted": ""})
    assert stored.status_code == 201, stored.text
    assert stored.json()["predicted"] is None and stored.json()["model"] == "digits"
    assert_error(client.post(f"{API}/corrections", files=upload(IMAGE), data={"label": ""}), 422, "label")


def test_openapi_examples_leave_optional_fields_blank(client):
    """Swagger UI fills each field with its schema's example, else one it makes up ("string" for `only`, a
    random string matching `predicted`'s pattern): the optional fields' examples are blank (form) or null (JSON)."""
    paths = client.get("/openapi.json").json()["paths"]
    for path, optional in ((f"{API}/predict", ("top_k", "only", "include_preprocessed")),
                           (f"{API}/corrections", ("predicted",))):
        content = paths[path]["post"]["requestBody"]["content"]
        for name in optional:
            assert content["multipart/form-data"]["schema"]["properties"][name]["examples"] == [""], (path, name)
            assert content["application/json"]["schema"]["properties"][name]["examples"] == [None], (path, name)
    query = {parameter["name"]: parameter for parameter in paths[f"{API}/predict"]["post"]["parameters"]}
    assert query["only"]["schema"]["examples"] == [None]


def test_the_pages_file_picker_offers_the_formats_read_and_no_others():
    """The picker offered every image (accept="image/*"), SVG too, which the server cannot read.
    It now lists the extensions that `inkread` reads (decode.IMAGE_SUFFIXES), and their types."""
    import re

    from inkread.imaging.decode import IMAGE_SUFFIXES

    page = (Path(__file__).resolve().parents[1] / "src/inkread/serving/static/index.html").read_text()
    accept = re.search(r'<input type="file" id="file" accept="([^"]*)"', page).group(1).split(",")
    assert {kind for kind in accept if kind.startswith(".")} == set(IMAGE_SUFFIXES)
    assert "image/*" not in accept and not any("svg" in kind for kind in accept)
    assert {"image/png", "image/jpeg", "image/webp", "image/tiff"} <= set(accept)


def test_a_json_key_given_twice_is_refused_as_a_form_field_is(client):
    """{"top_k": 1, "top_k": 3} was answered with the last one, where -F top_k=1 -F top_k=3 is refused."""
    image = base64.b64encode(IMAGE).decode()
    body = '{"image": "%s", "top_k": 1, "model": "digits", "top_k": 3}' % image
    response = client.post(f"{API}/predict", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, "field 'top_k'", "given 2 times; give it once")
    body = '{"image": "%s", "label": "3", "label": "5"}' % image
    response = client.post(f"{API}/corrections", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, "field 'label'", "given 2 times")
    once = '{"image": "%s", "top_k": 3}' % image
    assert client.post(f"{API}/predict", content=once, headers={"content-type": "application/json"}).status_code == 200


def test_the_default_workers_are_the_cores_this_process_may_use(monkeypatch):
    """`taskset -c 1 inkread serve` started two workers on one core: os.cpu_count() is the machine's."""
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1}, raising=False)
    assert ServeConfig().workers == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert ServeConfig().workers == 2  # one per core, up to 2


def test_base64_as_other_encoders_write_it_is_read(client):
    """A data URL in capitals, base64 without its padding (as JWTs write it) or in the URL-safe alphabet was
    "not valid base64"; the standard spelling is one of many that clients send."""
    image = png(render("8"))
    plain = b64(image)
    for encoded in ("DATA:IMAGE/PNG;BASE64," + plain, plain.rstrip("="),
                    base64.urlsafe_b64encode(image).decode().rstrip("="), "data:image/png;base64," + plain[:40] + "\n" + plain[40:]):
        response = client.post(f"{API}/predict", json={"image": encoded})
        assert response.status_code == 200 and response.json()["label"] == "8", (encoded[:30], response.text)
    assert client.post(f"{API}/predict", json={"image": "not base64 at all!"}).json()["detail"] == \
        "field 'image': not valid base64; encode the image file with base64"


def test_helpful_hints_for_common_client_mistakes(client, make_client):
    # `curl -d '{"image": ...}'` sends JSON as a form: say how to send JSON
    form = client.post(f"{API}/predict", content=b'{"image": "iVBOR"}', headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and "curl -H 'Content-Type: application/json'" in form.json()["detail"]
    # a megabyte-long unknown key is not echoed back whole
    long_key = client.post(f"{API}/predict", json={"image": b64(IMAGE), "x" * 100_000: 1})
    assert long_key.status_code == 422 and len(long_key.json()["detail"]) < 200
    # ?model=digits+lines arrives as "digits lines": a + in a URL is a space
    served = make_client(models=["digits", "digits+lines"]) if SHIPPED_LINES.exists() else None
    if served is not None:
        plus = served.post(f"{API}/read?model=digits+lines", content=IMAGE, headers={"content-type": "image/png"})
        assert plus.status_code == 422 and "write + as %2B" in plus.json()["detail"]


def test_uploads_past_the_bytes_in_flight_are_asked_to_come_again():
    """150 uploads of 8 MB at once took a worker from 0.5 to 2 GB (no cap on the bodies in flight): past the
    budget a request is answered 503 with Retry-After, and the budget comes back as requests end.

    The budget counts bytes that arrived: charged on the declared length, connections that sent only their
    headers (Content-Length: 8 MB, or chunked and no chunk) held it all, and a 3 KB drawing got 503 for 30 s."""
    import asyncio

    from starlette.exceptions import HTTPException

    from inkread.serving.middleware import BodyLimitMiddleware

    release, never = asyncio.Event(), asyncio.Event()

    async def slow_app(scope, receive, send):  # reads its body, then holds it until released
        try:
            while (await receive()).get("more_body"):
                pass
        except HTTPException as error:  # as the app's exception handler answers them
            await send({"type": "http.response.start", "status": error.status_code,
                        "headers": [(k.encode(), v.encode()) for k, v in (error.headers or {}).items()]})
            await send({"type": "http.response.body", "body": b""})
            return
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = BodyLimitMiddleware(slow_app, max_bytes=1000, max_in_flight=3000)

    async def request(length: int, header: bytes = b"content-length", arrives: bool = True) -> tuple[int, dict]:
        sent = []

        async def receive():
            if not arrives:  # the headers came, the body never does
                await never.wait()
            return {"type": "http.request", "body": b"x" * length, "more_body": False}

        async def send(message):
            sent.append(message)

        value = str(length).encode() if header == b"content-length" else b"chunked"
        await limited({"type": "http", "method": "POST", "path": "/", "headers": [(header, value)]}, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return start["status"], dict(start["headers"])

    async def main():
        # 6 connections that declare 1,000 bytes each and send none: the old code let 3 in, then refused all
        silent = [asyncio.create_task(request(1000, header, arrives=False))
                  for header in (b"content-length", b"transfer-encoding") for _ in range(3)]
        await asyncio.sleep(0.05)
        drawing = asyncio.create_task(request(400))
        held = [asyncio.create_task(request(1000)) for _ in range(2)]
        await asyncio.sleep(0.05)
        charged = limited.in_flight  # the drawing and the two large bodies, none of the silent ones
        busy = await request(1000)  # 3,400 bytes received would pass the budget
        release.set()
        answered = [status for status, _ in await asyncio.gather(drawing, *held)]
        for task in silent:
            task.cancel()
        await asyncio.gather(*silent, return_exceptions=True)
        return charged, busy, answered, limited.in_flight

    charged, (busy, headers), answered, left = asyncio.run(main())
    assert answered == [200, 200, 200] and left == 0  # the drawing got 503 when the silent ones held the budget
    assert charged == 2400
    assert busy == 503 and headers[b"retry-after"] == b"2"


def test_a_file_field_given_twice_is_refused(client):
    """An upload and a text field both named 'file' were answered with one of them (two uploads are a 400:
    at most one file)."""
    two = [("file", ("a.png", IMAGE, "image/png")), ("file", ("b.png", png(render("7")), "image/png"))]
    assert_error(client.post(f"{API}/predict", files=two), 400, "at most 1 file")
    text_too = client.post(f"{API}/predict", files=[("file", ("a.png", IMAGE, "image/png"))], data={"file": "x"})
    assert_error(text_too, 422, "field 'file': given 2 times")
