"""``inkread predict`` and ``inkread read`` as a user types them (subprocesses), plus file finding."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkread.inference.jobs import PredictConfig, find_images, format_results, run_predict
from inkread.inference.results import Prediction
from helpers import render, touching_page

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def inkread(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m inkread ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "inkread", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture
def digits_dir(tmp_path) -> Path:
    folder = tmp_path / "digits"
    folder.mkdir()
    for digit, size in (("3", (280, 280)), ("7", (200, 300)), ("0", (300, 200))):
        render(digit, size=size).save(folder / f"digit-{digit}.png")
    return folder


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert "Traceback" not in result.stderr
    return lines[0]


def test_predict_table(digits_dir, font_bundle):
    result = inkread("predict", digits_dir, "--model", font_bundle)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    header, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["FILE", "LABEL", "CONFIDENCE", "TOP"]
    assert [row.split()[:2] for row in rows] == [[str(digits_dir / f"digit-{d}.png"), d] for d in "037"]
    assert header.index("LABEL") == rows[0].index(" 0 ") + 1  # columns are aligned


def test_predict_json_matches_the_api(digits_dir, font_bundle, font):
    result = inkread("predict", digits_dir, "--model", font_bundle, "--format", "json", "--top-k", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["file"] for item in data] == [str(digits_dir / f"digit-{d}.png") for d in "037"]
    for item in data:
        expected = font.predict(item["file"], top_k=2).to_dict()
        assert set(item) == {"file", *expected} and item["label"] == expected["label"]
        assert [t["label"] for t in item["top_k"]] == [t["label"] for t in expected["top_k"]]
        assert item["confidence"] == pytest.approx(expected["confidence"], abs=1e-6)


def test_predict_csv(digits_dir, font_bundle):
    result = inkread("predict", str(digits_dir / "*.png"), "--model", font_bundle, "--format", "csv")  # a glob, unexpanded
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["file", "label", "confidence", "uncertain", "no_ink", "label_2", "confidence_2",
                             "label_3", "confidence_3", "several_characters", "error"]
    assert [row["label"] for row in rows] == ["0", "3", "7"]
    for row in rows:
        assert len({row["label"], row["label_2"], row["label_3"]}) == 3  # the runners-up, not the answer again
        assert float(row["confidence"]) >= float(row["confidence_2"]) >= float(row["confidence_3"]) >= 0
        assert row["no_ink"] == "false"


def test_csv_runners_up_keep_labels_with_spaces_colons_and_commas_whole():
    odd = Prediction(label="a b", confidence=0.6, top_k=[("a b", 0.6), ("x:y", 0.3), (",", 0.1)])
    rows = list(csv.DictReader(io.StringIO(format_results([("one.png", odd), ("blank.png", Prediction.nothing())],
                                                          "csv", "predict", top_k=3))))
    assert [(row["label"], row["label_2"], row["confidence_2"], row["label_3"]) for row in rows] == \
        [("a b", "x:y", "0.3000", ","), ("", "", "", "")]


def test_the_table_heads_as_many_top_classes_as_it_shows(digits_dir, font_bundle):
    result = inkread("predict", str(digits_dir / "digit-0.png"), "--model", font_bundle, "--top-k", "100")
    assert result.returncode == 0, result.stderr
    head, row = result.stdout.splitlines()
    assert "TOP 10 " in head and row.count(", ") == 9  # a 10-class model: 10 shown, and said so


def test_a_corrupt_file_among_good_ones(digits_dir, font_bundle):
    (digits_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    result = inkread("predict", digits_dir, digits_dir / "missing.png", "--model", font_bundle, "--format", "csv")
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in result.stderr
    assert errors[0].startswith("inkread: ") and "missing.png" in errors[0]
    assert "broken.png" in errors[1]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["label"] for row in rows if not row["error"]] == ["0", "3", "7"]
    # and the failures, each with its file: a script reading the CSV sees every file it asked for
    assert sorted(Path(row["file"]).name for row in rows if row["error"]) == ["broken.png", "missing.png"]
    # JSON lists the failures too, each with its file, so a program can tell which files failed
    result = inkread("predict", digits_dir, digits_dir / "missing.png", "--model", font_bundle, "--format", "json")
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert [item["label"] for item in items if item["error"] is None] == ["0", "3", "7"]
    failed = {Path(item["file"]).name: item["error"] for item in items if item["error"] is not None}
    assert set(failed) == {"broken.png", "missing.png"} and "no such file" in failed["missing.png"]


def test_json_and_csv_list_files_in_the_order_given_failures_included(digits_dir, font_bundle):
    """Failures were listed last, after every result: a script pairing outputs with its inputs by position got them wrong."""
    (digits_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    given = [digits_dir / "digit-7.png", digits_dir / "missing.png", digits_dir / "broken.png", digits_dir / "digit-0.png"]
    names = [path.name for path in given]
    result = inkread("predict", *given, "--model", font_bundle, "--format", "json")
    assert [Path(item["file"]).name for item in json.loads(result.stdout)] == names
    result = inkread("predict", *given, "--model", font_bundle, "--format", "csv")
    assert [Path(row["file"]).name for row in csv.DictReader(io.StringIO(result.stdout))] == names


def test_a_blank_image_is_nothing_to_read(tmp_path, font_bundle):
    Image.new("L", (100, 100), 255).save(tmp_path / "blank.png")
    result = inkread("predict", tmp_path / "blank.png", "--model", font_bundle)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].endswith("nothing to read")


@pytest.mark.parametrize("args, message", [
    (["--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["--only", "x@"], "'x' is not in this model's label set: 0123456789 (use another model or drop it from --only)"),
    (["--only", "letter"], "--only letter: did you mean 'letters'?"),  # the option as typed, not Python's only='letter'
    (["--top-k", "3", "--bogus"], "unrecognized arguments: --bogus (see inkread predict --help)"),
])
def test_command_errors_are_one_line_exit_2(digits_dir, font_bundle, args, message):
    if "--model" not in args:
        args = [*args, "--model", str(font_bundle)]
    result = inkread("predict", digits_dir, *args)
    assert result.returncode == 2
    assert message in one_line_error(result) and result.stdout == ""


def test_no_images_at_all_is_exit_2(tmp_path, font_bundle):
    (tmp_path / "empty").mkdir()
    result = inkread("predict", tmp_path / "empty", "--model", font_bundle)
    assert result.returncode == 2
    assert "no images in this folder" in one_line_error(result)
    (tmp_path / "classes" / "7").mkdir(parents=True)
    render("7").save(tmp_path / "classes" / "7" / "a.png")
    result = inkread("predict", tmp_path / "classes", "--model", font_bundle)
    assert result.returncode == 2 and "its sub-folders hold some" in one_line_error(result)
    result = inkread("predict", tmp_path / "nothing-*.png", "--model", font_bundle)
    assert result.returncode == 2 and "no image matches" in one_line_error(result)


def test_save_preprocessed(digits_dir, font_bundle, font, tmp_path):
    out = tmp_path / "seen"
    result = inkread("predict", digits_dir, "--model", font_bundle, "--save-preprocessed", out, "--format", "json")
    assert result.returncode == 0, result.stderr
    saved = sorted(path.name for path in out.iterdir())
    assert saved == ["digit-0.png", "digit-3.png", "digit-7.png"]  # no temporary files left
    pixels = np.asarray(Image.open(out / "digit-3.png"))
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    expected = font.preprocess(digits_dir / "digit-3.png")
    assert np.abs(pixels / 255.0 - expected).max() <= 1 / 255 + 1e-6


def test_an_unwritable_save_preprocessed_folder_fails_before_any_image_is_read(digits_dir, font_bundle, tmp_path,
                                                                              monkeypatch):
    import inkread.inference.jobs
    from inkread.errors import InkreadError

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded: the folder was not checked first")

    monkeypatch.setattr(inkread.inference.jobs, "load_reader", no_model)
    (tmp_path / "afile").write_text("not a folder")
    config = PredictConfig(paths=[str(digits_dir)], model=str(font_bundle), save_preprocessed=str(tmp_path / "afile" / "seen"))
    with pytest.raises(InkreadError, match="save_preprocessed=.*a file stands where a folder is needed"):
        run_predict(config, stdout=io.StringIO(), stderr=io.StringIO())


def test_read_csv_and_table(tmp_path, font_bundle):
    render("2024   7", size=(900, 240), font_size=120).save(tmp_path / "number.png")
    render("51\n86", size=(400, 500), font_size=120).save(tmp_path / "lines.png")
    result = inkread("read", tmp_path, "--model", font_bundle, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:4] == ["file", "label", "confidence", "text"]
    assert [row["text"] for row in rows] == ["51\n86", "2024 7"]
    table = inkread("read", tmp_path / "lines.png", "--model", font_bundle)
    assert table.returncode == 0 and table.stdout.splitlines()[1].split()[1:4] == ["51", "/", "86"]


def test_read_lists_top_k_candidates_per_character_in_json(tmp_path, font_bundle):
    render("51", size=(400, 240), font_size=120).save(tmp_path / "number.png")
    for given, expected in (((), 1), (("--top-k", "2"), 2)):
        result = inkread("read", tmp_path / "number.png", "--model", font_bundle, "--format", "json", *given)
        assert result.returncode == 0, result.stderr
        characters = json.loads(result.stdout)[0]["characters"]
        assert [c["label"] for c in characters] == ["5", "1"]
        assert [len(c["top_k"]) for c in characters] == [expected, expected] and characters[0]["top_k"][0]["label"] == "5"
    refused = inkread("read", tmp_path / "number.png", "--model", font_bundle, "--top-k", "0")
    assert refused.returncode == 2 and refused.stderr == "inkread: error: --top-k 0: ask for at least 1 answer\n"

def test_predict_of_a_number_points_to_read():
    result = inkread("predict", SAMPLES / "text" / "phone-0612-334.png", SAMPLES / "digits", "--model", "digits")
    assert result.returncode == 0, result.stderr
    notes = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "several characters? (0612 334): use inkread read" in notes[str(SAMPLES / "text" / "phone-0612-334.png")]
    assert not any("several" in line for name, line in notes.items() if "/digits/" in name)


@pytest.mark.parametrize("model", ["digits+lines", "characters+lines"])
def test_the_text_samples_read_right_with_a_line_model_for_touching_characters(model):
    """characters+lines read touching-4158 as "458": the characters model joined the 4's and the 1's ink as one
    sure "4" (the segmenter never considered cutting it), so the line model was never asked."""
    result = inkread("read", SAMPLES / "text", "--model", model, "--format", "csv")
    assert result.returncode == 0, result.stderr
    texts = {Path(row["file"]).name: row["text"] for row in csv.DictReader(io.StringIO(result.stdout))}
    assert texts == {"phone-0612-334.png": "0612 334", "touching-4158.png": "4158", "two-lines-2026-1121.png": "2026\n1121"}


def test_read_with_a_line_model_for_touching_digits(tmp_path):
    Image.fromarray(np.round(touching_page() * 255).astype(np.uint8)).save(tmp_path / "touching.png")
    mixed = json.loads(inkread("read", tmp_path / "touching.png", "--model", "digits+lines", "--format", "json").stdout)
    assert mixed[0]["text"].replace(" ", "") == "738"


@pytest.mark.parametrize("command, model, message", [
    ("predict", "digits+lines", "use inkread read --model digits+lines, or predict one character per image with --model digits"),
    ("read", "lines+lines", "lines+lines: in MODEL+LINES the first model reads single characters and the second whole lines"),
    ("read", "digits+digits", "digits+digits: in MODEL+LINES the first model reads single characters and the second"),
    ("read", "digits+nope", "unknown model 'nope': use lines after the +, or the path of a model bundle folder"),
    ("read", "nope", "unknown model 'nope': use digits, characters, lines, digits+lines or characters+lines, or the path"),
    ("predict", "nope", "unknown model 'nope': use digits or characters, or the path"),  # predict reads no lines
])
def test_a_model_pair_that_cannot_work_is_one_line_exit_2(digits_dir, command, model, message):
    result = inkread(command, digits_dir, "--model", model)
    assert result.returncode == 2 and message in one_line_error(result)


# --- in-process ------------------------------------------------------------------------------

def test_find_images_expands_folders_and_globs(tmp_path):
    for name in ("b.png", "a.JPG", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"x")
    files, problems, _, _ = find_images([str(tmp_path), str(tmp_path / "b.png"), str(tmp_path / "s*"), str(tmp_path / "nope.png")])
    assert files == [str(tmp_path / "a.JPG"), str(tmp_path / "b.png"), str(tmp_path / "sub" / "c.png")]
    assert problems == [(str(tmp_path / "nope.png"), "no such file or folder")]
    (tmp_path / "gone.png").symlink_to(tmp_path / "deleted.png")
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    _, problems, _, _ = find_images([str(tmp_path / "gone.png"), str(tmp_path / "loop.png")])
    assert [message for _, message in problems] == ["a symbolic link to nothing (its target is gone, or it leads back to itself)"] * 2


def test_a_folder_with_images_in_sub_folders_too_says_they_are_not_read(digits_dir, font_bundle):
    (digits_dir / "more").mkdir()
    (digits_dir / "digit-3.png").rename(digits_dir / "more" / "digit-3.png")
    out, err = io.StringIO(), io.StringIO()
    config = PredictConfig(paths=[str(digits_dir)], model=str(font_bundle), format="csv")
    assert run_predict(config, stdout=out, stderr=err) == 0  # a note, not an error
    assert out.getvalue().count("\n") == 3  # the header and the two images directly in the folder
    assert f"note: {digits_dir}: images in its sub-folders are not read (give '{digits_dir / '**'}' to read them too)" in err.getvalue()


def test_images_deep_below_a_folder_are_noted_and_read_with_a_recursive_glob(tmp_path):
    (tmp_path / "deep" / "a" / "b").mkdir(parents=True)
    for name in ("deep/top.png", "deep/a/b/x.png", "deep/a/b/notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    files, problems, notes, _ = find_images([str(tmp_path / "deep")])
    assert files == [str(tmp_path / "deep" / "top.png")] and problems == []
    assert notes == [(str(tmp_path / "deep"), f"images in its sub-folders are not read (give '{tmp_path / 'deep' / '**'}' to read them too)")]
    files, problems, _, _ = find_images([str(tmp_path / "deep" / "**")])
    assert files == [str(tmp_path / "deep" / "top.png"), str(tmp_path / "deep" / "a" / "b" / "x.png")] and problems == []
    files, _, _, _ = find_images([str(tmp_path / "deep" / "**" / "*.png")])
    assert sorted(files) == [str(tmp_path / "deep" / "a" / "b" / "x.png"), str(tmp_path / "deep" / "top.png")]


def test_run_predict_in_process_with_a_progress_bar(digits_dir, font_bundle):
    out, err = io.StringIO(), io.StringIO()
    config = PredictConfig(paths=[str(digits_dir)], model=str(font_bundle), format="json", progress=True, batch_size=2)
    assert run_predict(config, stdout=out, stderr=err) == 0
    assert [item["label"] for item in json.loads(out.getvalue())] == ["0", "3", "7"]
    assert "/3 [" in err.getvalue()  # tqdm drew its bar (total: 3 images) on stderr


def test_bad_config_values_are_user_errors(digits_dir):
    from inkread.errors import InkreadError

    for change in ({"format": "xml"}, {"mode": "guess"}, {"top_k": 0}, {"mode": "read", "save_preprocessed": "x"}):
        with pytest.raises(InkreadError):
            run_predict(PredictConfig(paths=[str(digits_dir)], **change))


def test_ink_with_no_character_read_is_reported_as_unread_not_blank():
    from inkread.inference.results import ReadResult

    unread, blank = ReadResult.of([], ink_found=True), ReadResult.of([], ink_found=False)
    table = format_results([("ink.png", unread), ("blank.png", blank)], "table", "read").splitlines()
    assert table[1].endswith("no character read in the ink") and table[2].endswith("nothing to read")
    rows = list(csv.DictReader(io.StringIO(format_results([("ink.png", unread)], "csv", "read"))))
    assert (rows[0]["text"], rows[0]["uncertain"], rows[0]["no_ink"]) == ("", "true", "false")


def test_the_table_shows_labels_with_spaces_and_colons_as_they_are():
    """The table rebuilt the ranking from the CSV's "label:p" text: a class named "batch 2" came out as "batch, 2 1.0000" under "TOP 2"."""
    from inkread.inference.jobs import format_results
    from inkread.inference.results import Prediction

    answer = Prediction(label="batch 2", confidence=0.9, top_k=[("batch 2", 0.9), ("a:b", 0.1)])
    head, row = format_results([("x.png", answer)], "table", "predict", top_k=3).splitlines()
    assert "TOP 2" in head
    assert "batch 2 0.9000, a:b 0.1000" in row


def test_an_image_on_standard_input_as_a_user_pipes_it(digits_dir):
    """`curl .../digit.png | inkread predict -`: "-" was "no such file or folder"."""
    piped = subprocess.run([sys.executable, "-m", "inkread", "predict", "-", "--format", "csv"], capture_output=True,
                           timeout=120, input=(digits_dir / "digit-7.png").read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode().splitlines()[1].startswith("-,7,")
    empty = subprocess.run([sys.executable, "-m", "inkread", "read", "-"], capture_output=True, timeout=120, input=b"")
    assert empty.returncode == 1 and empty.stderr.decode() == "inkread: -: standard input is empty (0 bytes): save or export it again\n"


def test_an_endless_standard_input_is_refused_at_the_size_limit(digits_dir):
    """`inkread predict - < /dev/zero` read standard input to its end before checking the size limit (64 MB):
    5.5 GB after 10 s. Only as much is read as the check needs; the other files are still read."""
    with open("/dev/zero", "rb") as zeros:
        result = subprocess.run([sys.executable, "-m", "inkread", "predict", "-", str(digits_dir / "digit-7.png")],
                                stdin=zeros, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert one_line_error(result) == ("inkread: -: standard input holds more than the 64 MB an image may have: "
                                      "check what is piped in, or resize or compress the image")
    assert "digit-7.png  7" in result.stdout


def test_a_file_named_dash_is_read_as_a_file_when_its_path_says_so(digits_dir, tmp_path):
    """Only a bare "-" is standard input: "./-" was taken for it."""
    (tmp_path / "-").write_bytes((digits_dir / "digit-7.png").read_bytes())
    result = subprocess.run([sys.executable, "-m", "inkread", "predict", "./-", "--format", "csv"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("./-,7,")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full (a device that is always full) is Linux's")
def test_results_that_cannot_be_written_say_it_was_standard_output(digits_dir, font_bundle):
    """`inkread predict x.png > /dev/full` said "No space left on device: check the path and free
    space", naming no path: it was standard output that failed, and the results are lost."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "inkread", "predict", str(digits_dir), "--model", str(font_bundle)],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot write the results to standard output (No space left on device)" in one_line_error(result)


def test_read_top_k_outside_json_says_where_the_runners_up_are(digits_dir, font_bundle):
    """`read --top-k 3 --format csv` printed the same row as without it: a row per file has no room
    for each character's runners-up. A note says they are in --format json; json is unchanged."""
    result = inkread("read", digits_dir / "digit-3.png", "--model", font_bundle, "--top-k", "3", "--format", "csv")
    assert result.returncode == 0
    assert result.stderr.strip() == "inkread: note: --top-k lists each character's runners-up in --format json only"
    quiet = inkread("read", digits_dir / "digit-3.png", "--model", font_bundle, "--top-k", "3", "--format", "json")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert inkread("read", digits_dir / "digit-3.png", "--model", font_bundle, "--format", "csv").stderr == ""


def test_a_console_that_cannot_show_a_bullet_gets_it_escaped(tmp_path):
    """A bullet ("•") read on a console of another encoding (PYTHONIOENCODING=ascii) was a UnicodeEncodeError
    traceback; it is shown escaped, the rest as it is."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (300, 140), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse([40, 50, 58, 68], fill=0)
    draw.line([(100, 30), (100, 100)], fill=0, width=6)  # a 1
    draw.line([(120, 30), (160, 30), (130, 100)], fill=0, width=6)  # a 7
    image.save(tmp_path / "list.png")
    result = subprocess.run([sys.executable, "-m", "inkread", "read", str(tmp_path / "list.png"), "--model", "digits"],
                            capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "\\u2022 17" in result.stdout and "Traceback" not in result.stderr


def test_a_file_name_with_a_newline_is_one_row_and_one_line_of_error(digits_dir):
    """A newline in a file name split its row of the table in two, and its error message over two lines."""
    (digits_dir / "seven\nscan.png").write_bytes((digits_dir / "digit-7.png").read_bytes())
    (digits_dir / "broken\nscan.png").write_bytes(b"not an image")
    result = inkread("read", digits_dir / "seven\nscan.png", digits_dir / "broken\nscan.png")
    assert result.returncode == 1
    header, row = result.stdout.splitlines()
    assert row.split()[:2] == [str(digits_dir / "seven\\nscan.png"), "7"]
    assert one_line_error(result).startswith(f"inkread: {digits_dir}/broken\\nscan.png is not in an image format")


def test_an_image_over_the_pixel_limit_is_one_line_with_no_warning_of_pillows_before_it(tmp_path):
    """A 108-megapixel PNG: Pillow's DecompressionBombWarning (two lines, a site-packages path) came first, from the
    look at its pages, before inkread's own message (a helper's find)."""
    Image.new("1", (12000, 9000), 1).save(tmp_path / "huge.png")  # 1-bit: a small file
    for command in ("read", "predict"):
        result = inkread(command, tmp_path / "huge.png")
        assert result.returncode == 1
        assert result.stderr == f"inkread: {tmp_path / 'huge.png'} is 12000x9000 pixels (108 MP); the limit is 40 MP: resize it\n"


def test_a_multi_page_tiff_is_said_to_be_read_on_its_first_page_only(digits_dir):
    """A scanner's three-page TIFF was read on page 1, and the other pages silently left out."""
    pages = [Image.open(digits_dir / f"digit-{d}.png").convert("L") for d in "370"]
    pages[0].save(digits_dir / "scan.tif", save_all=True, append_images=pages[1:])
    pages[0].save(digits_dir / "one.tif")
    result = inkread("read", digits_dir / "scan.tif", digits_dir / "one.tif")
    assert result.returncode == 0
    assert result.stderr == (f"inkread: note: {digits_dir / 'scan.tif'}: a TIFF of 3 pages: page 1 is read "
                             "(save each page as an image of its own to read the others)\n")
    assert [row.split()[1] for row in result.stdout.splitlines()[1:]] == ["3", "3"]


def test_an_animated_image_is_said_to_be_read_on_its_first_frame_only(digits_dir):
    """An animated GIF whose first frame is blank read "nothing to read" and said nothing of its other frames; a
    TIFF piped in was not said to have pages (the note looked at file names)."""
    frames = [Image.new("L", (280, 280), 255)] + [render(d).convert("L") for d in "37"]
    frames[0].save(digits_dir / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    result = inkread("read", digits_dir / "anim.gif")
    assert f"inkread: note: {digits_dir / 'anim.gif'}: an animated GIF of 3 frames: frame 1 is read" in result.stderr
    frames[1].save(digits_dir / "scan.tif", save_all=True, append_images=frames[2:])
    piped = subprocess.run([sys.executable, "-m", "inkread", "read", "-"], capture_output=True, timeout=120,
                           input=(digits_dir / "scan.tif").read_bytes())
    assert "inkread: note: -: a TIFF of 2 pages: page 1 is read" in piped.stderr.decode()
