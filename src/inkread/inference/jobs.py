"""``inkread predict`` and ``inkread read``: recognize image files and print a table, JSON or CSV.

A file that cannot be read costs one line on stderr ("inkread: scan3.png: not an image ...") and
the others are still processed; the exit code is then 1. Problems with the command itself (no
images found at all, unknown model, bad --only) raise ``InkreadError`` (exit 2 in the CLI).
Results go to stdout for the files that were read, in the order the files were found; with
``--format json`` each file that could not be read follows as ``{"file": ..., "error": ...}``, so a
program reading the JSON can match every failure to its file.
"""

from __future__ import annotations

import csv
import functools
import glob
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from inkread.errors import InkreadError, InputImageError, command, option, option_value, warn
from inkread.files import check_writable_folder, write_bytes_atomic
from inkread.imaging.decode import IMAGE_SUFFIXES, MAX_BYTES, is_image_name
from inkread.imaging.levels import to_uint8
from inkread.inference.restrict import restriction
from inkread.inference.results import Prediction, ReadResult

FORMATS = ("table", "json", "csv")
MODES = ("predict", "read")
PROGRESS_MIN_FILES = 2  # one file needs no progress bar
READ_MODE = "mode='read'"  # how a Python caller asks for what ``inkread read`` does


@dataclass
class PredictConfig:
    """What ``inkread predict`` / ``inkread read`` was asked to do.

    paths: image files, folders (their images, sorted by name, not recursive) and globs.
    mode: "predict" (one character per image) or "read" (several characters, lines).
    progress: None shows a bar on stderr for several files when stderr is a terminal.
    batch_size: images per ONNX Runtime call in predict mode.
    lexicon: "english" or a word list's path: a line model's words are looked up in it (read mode).
    """

    paths: list[str]
    model: str = "digits"
    only: str | None = None
    top_k: int = 3
    format: str = "table"
    save_preprocessed: str | None = None
    mode: str = "predict"
    progress: bool | None = None
    batch_size: int = 64
    threads: int | None = None
    lexicon: str | None = None


@dataclass
class _Outcome:
    """What happened to the files: results in input order, and the failures already reported."""

    rows: list[tuple[str, Prediction | ReadResult]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file or path given, one-line message)

    def fail(self, name: str, message: str, stderr: TextIO, bar=None) -> None:
        """Report a file that could not be read, on stderr now and in the JSON output later."""
        _report(stderr, _with_name(name, message), bar)
        self.errors.append((name, message))


def run_predict(config: PredictConfig, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``inkread predict`` or ``inkread read``; returns the exit code (0, or 1 if some files failed)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    _check(config)
    files, missing, notes, order = find_images(config.paths)
    if not files:
        raise InkreadError(": ".join(missing[0]) if len(missing) == 1 else
                           f"no images found in {' '.join(config.paths)}: give image files, folders of images or globs like 'scans/*.png'")
    outcome = _Outcome()
    for path, problem in missing:
        outcome.fail(path, problem, stderr)
    for path, note in notes + [(path, note) for path in files if (note := _pages_note(path))]:
        _report(stderr, f"note: {path}: {note}")
    if config.mode == "read" and config.top_k > 1 and config.format != "json":  # a row per file has no room for them
        _report(stderr, f"note: {option('top_k')} lists each character's runners-up in {option('format')} json only")

    recognizer = load_reader(config.model, config.mode, config.threads)  # after the cheap checks: ONNX Runtime costs ~0.1 s
    restriction(recognizer.labels, config.only)  # a bad --only is the command's fault: fail before any file
    lexicon = _lexicon_for(recognizer, config)
    with _progress(len(files), config.progress, stderr) as bar:
        if config.mode == "predict":
            _predict_files(recognizer, files, config, outcome, stderr, bar)
        else:
            _read_files(recognizer, files, config, outcome, stderr, bar, lexicon)
    if config.save_preprocessed:
        save_preprocessed(outcome.rows, Path(config.save_preprocessed))
    try:
        stdout.write(format_results(outcome.rows, config.format, config.mode, config.top_k, outcome.errors, order))
        stdout.flush()
    except BrokenPipeError:
        raise  # the reader left (| head): not an error
    except OSError as error:  # > /dev/full, a full disk: the results are lost, say where
        raise InkreadError(f"cannot write the results to standard output ({error.strerror or error}): "
                           "check where it is redirected (a full disk?), then run again") from None
    return 1 if outcome.errors else 0


def load_reader(model: str, mode: str = "read", threads: int | None = None):
    """The reader for ``model``: a ``LineReader`` for a line model (read only), else a ``Recognizer``.

    "MODEL+LINES" (read only; "digits+lines"): MODEL reads, and the line model LINES reads whole
    each piece of ink that holds touching characters (``Recognizer.load(..., touching=LINES)``).
    """
    from inkread.inference.line_reader import LineReader, is_line_model
    from inkread.inference.onnx_model import resolve_bundle, split_model_pair
    from inkread.inference.recognizer import Recognizer

    characters, touching = split_model_pair(model)
    if touching is None:  # checked first, so that an unknown name is told the models this command takes (pairs: at load)
        resolve_bundle(characters, "digits, characters, lines, digits+lines or characters+lines" if mode == "read"
                       else "digits or characters")
    if touching is not None and mode != "read":
        raise InkreadError(f"{model} reads strings of characters: use {command(f'inkread read --model {model}', READ_MODE)}, "
                           f"or predict one character per image with {option_value('model', characters)}")
    if touching is None and is_line_model(model):
        if mode != "read":
            raise InkreadError(f"{model} is a line model: it reads whole lines; use {command(f'inkread read --model {model}', READ_MODE)}")
        return LineReader.load(model, threads=threads)
    return Recognizer.load(model, threads=threads)


def _lexicon_for(reader, config: PredictConfig):
    """The loaded ``--lexicon`` (once for every file), or None; InkreadError unless a line model reads."""
    if config.lexicon is None:
        return None
    from inkread.inference.lexicon import load_lexicon
    from inkread.inference.line_reader import LineReader, lexicon_applies

    if not isinstance(reader, LineReader):
        raise InkreadError(f"{option('lexicon')} looks up the words a line model reads: use it with "
                           f"{option_value('model', 'lines')}, not {config.model}")
    if not lexicon_applies(reader.labels, config.only):  # not an error: the web page's "English" + "Digits" is this too
        warn(f"{option('lexicon')} looks up words of letters, and {option_value('only', config.only)} allows none: "
             f"what is read is kept as read")
    return load_lexicon(config.lexicon)


def _check(config: PredictConfig) -> None:
    if config.mode not in MODES:
        raise InkreadError(f"unknown mode {config.mode!r}: use {' or '.join(MODES)}")
    if config.format not in FORMATS:
        raise InkreadError(f"unknown format {config.format!r}: use {', '.join(FORMATS)}")
    if config.top_k < 1:
        raise InkreadError(f"{option_value('top_k', config.top_k)}: ask for at least 1 answer")
    if config.batch_size < 1:
        raise InkreadError(f"batch size {config.batch_size}: use at least 1")
    if config.lexicon is not None and config.mode != "read":
        raise InkreadError(f"{option('lexicon')} works with {command('inkread read', READ_MODE)} (and a line model)")
    if config.save_preprocessed and config.mode != "predict":
        raise InkreadError(f"{option('save_preprocessed')} works with {command('inkread predict', 'mode=' + repr('predict'))} only")
    if config.save_preprocessed:  # checked now: found unwritable after every image was read, the run's output was lost
        check_writable_folder(config.save_preprocessed, "save_preprocessed")


def _predict_files(recognizer, files: list[str], config: PredictConfig, outcome: _Outcome, stderr: TextIO, bar) -> None:
    for start in range(0, len(files), config.batch_size):
        chunk, sources = [], []
        for name in files[start:start + config.batch_size]:
            try:
                sources.append(_source(name))
                chunk.append(name)
            except InkreadError as error:  # standard input that is no image: that "file" fails, not the run
                outcome.fail(name, str(error), stderr, bar)
        predictions = recognizer.predict_batch(sources, only=config.only, top_k=config.top_k, errors="return")
        for name, prediction in zip(chunk, predictions):
            if prediction.ok:
                outcome.rows.append((name, prediction))
            else:
                outcome.fail(name, prediction.error, stderr, bar)
        bar.update(len(chunk))


def _read_files(recognizer, files: list[str], config: PredictConfig, outcome: _Outcome, stderr: TextIO, bar,
                lexicon=None) -> None:
    for name in files:
        try:
            outcome.rows.append((name, recognizer.read(_source(name), only=config.only, top_k=config.top_k, lexicon=lexicon)))
        except InkreadError as error:
            outcome.fail(name, str(error), stderr, bar)
        bar.update(1)


STDIN = "-"  # as a file name: the image comes on standard input (``curl ... | inkread predict -``)


def _source(name: str):
    """What to decode for a file name: the file, or for ``-`` the bytes of standard input (named so in messages)."""
    if name != STDIN:
        return name
    stream = io.BytesIO(_stdin_bytes())
    stream.name = "standard input"
    return stream


@functools.lru_cache(maxsize=1)  # "-" named twice is read once, as any file is
def _stdin_bytes() -> bytes:
    if sys.stdin is None or sys.stdin.isatty():
        raise InkreadError("- reads an image from standard input: pipe or redirect one in (inkread predict - < digit.png)")
    data = sys.stdin.buffer.read(MAX_BYTES + 1)  # no more than the check needs: a stream may never end
    if len(data) > MAX_BYTES:
        raise InputImageError(f"standard input holds more than the {MAX_BYTES / 2**20:.0f} MB an image may have: "
                              "check what is piped in, or resize or compress the image")
    return data


def _with_name(name: str, message: str) -> str:
    # imaging's messages often name the file already; do not say it twice
    return message if name in message else f"{name}: {message}"


def _pages_note(path: str) -> str | None:
    """What to say of an image of several pages or frames (a scanner's TIFF, an animated GIF, PNG or WebP, piped
    in or not): only the first is read; None otherwise."""
    from inkread.imaging.decode import frames_of

    try:
        frames, kind = frames_of(_source(path))
    except Exception:  # noqa: BLE001 (reading it says what is wrong with it)
        return None
    if frames < 2:
        return None
    if kind == "TIFF":
        return f"a TIFF of {frames} pages: page 1 is read (save each page as an image of its own to read the others)"
    return f"an animated {kind} of {frames} frames: frame 1 is read (save the frame to read as an image of its own)"


def _report(stderr: TextIO, message: str, bar=None) -> None:
    # tqdm.write prints above the progress bar instead of through it
    (bar or _NoBar).write(f"inkread: {_one_line(message)}", file=stderr)


def _one_line(text: str) -> str:
    """``text`` with its control characters as escapes: a file name holding a newline is one line of a message or
    one row of the table."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# --- finding the files ----------------------------------------------------------------------

def find_images(paths: list[str]) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """Expand files, folders and globs into image files (folders: sorted, not recursive, no hidden files;
    ``**`` in a glob matches folders at any depth).

    Returns (files, problems, notes, order): ``problems`` are (path, one-line message) for paths that
    matched nothing, ``notes`` the same for folders whose sub-folders hold images that are not read,
    ``order`` every file and path-that-matched-nothing in the order given (so that the JSON and CSV
    outputs list them as the user typed them, failures included).
    Explicit files are kept whatever their extension (decoding decides); folders and globs keep
    only image extensions. A file named twice is read once.
    """
    files: dict[str, None] = {}  # an ordered set
    problems: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    order: list[str] = []
    for text in paths:
        failed = len(problems)
        path = Path(text).expanduser()
        if text == STDIN:
            found = [STDIN]
        elif path.is_dir():
            found = _images_in(path)
            below = _images_below(path)  # folders are read one level deep
            every = f"'{Path(text) / '**'}'"  # quoted: the shell would pass non-images on, and not recurse
            if found and below:
                notes.append((text, f"images in its sub-folders are not read (give {every} to read them too)"))
            elif below:
                problems.append((text, f"no images directly in this folder, but its sub-folders hold some: give "
                                       f"{every} to read them"))
            elif not found:
                problems.append((text, f"no images in this folder (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"))
        elif path.exists():
            found = [str(path) if str(path) != STDIN else text]  # "./-" is a file named "-", not standard input
        elif glob.has_magic(text):
            found = [name for match in sorted(glob.glob(str(path), recursive=True))  # "**": any depth
                     for name in (_images_in(Path(match)) if Path(match).is_dir() else [match])
                     if is_image_name(Path(name))]
            if not found:
                problems.append((text, "no image matches this pattern"))
        else:
            found = []
            problems.append((text, "a symbolic link to nothing (its target is gone, or it leads back to itself)"
                             if path.is_symlink() else "no such file or folder"))
        order += [name for name in found if name not in files] + [path for path, _ in problems[failed:]]
        files.update(dict.fromkeys(found))
    return list(files), problems, notes, order


def _images_below(folder: Path) -> bool:
    """Whether any sub-folder (not hidden), at any depth, holds an image."""
    for child in folder.iterdir():
        if child.is_dir() and not child.name.startswith(".") and (_images_in(child) or _images_below(child)):
            return True
    return False


def _images_in(folder: Path) -> list[str]:
    return [str(child) for child in sorted(folder.iterdir()) if is_image_name(child) and child.is_file()]


# --- progress bar ---------------------------------------------------------------------------

class _NoBar:
    """Stands in for tqdm when no bar is shown (tqdm is only imported when it is)."""

    def update(self, _count: int) -> None:
        pass

    @staticmethod
    def write(line: str, file: TextIO) -> None:
        print(line, file=file)

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc) -> None:
        pass


def _progress(total: int, wanted: bool | None, stderr: TextIO):
    show = wanted if wanted is not None else (total >= PROGRESS_MIN_FILES and stderr.isatty())
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, file=stderr, unit="image", leave=False, dynamic_ncols=True)


# --- output ---------------------------------------------------------------------------------

def format_results(rows: list[tuple[str, Prediction | ReadResult]], fmt: str, mode: str, top_k: int = 3,
                   errors: list[tuple[str, str]] = (), order: list[str] | None = None) -> str:
    """The results as text: an aligned table, a JSON list of objects, or CSV with a header.

    The CSV of ``predict`` gives the runners-up in columns of their own (``label_2, confidence_2, ...``, as many
    as the most any row shows), so that a label holding a space, a colon or a comma stays one value.
    ``errors`` (file, message) are listed in the JSON and the CSV (an ``error`` column), so that a
    script reading either sees every file; the table leaves them to stderr. ``order`` (file and path
    names) puts results and errors in that order; without it, errors come last.
    """
    rank = {name: index for index, name in enumerate(order or [])}
    by_order = lambda item: rank.get(item[0], len(rank))  # noqa: E731 - a sort key  # stable: ties keep their place
    if fmt == "json":
        items = [(name, {"file": name, **result.to_dict()}) for name, result in rows]
        items += [(name, {"file": name, "error": message}) for name, message in errors]
        return json.dumps([item for _, item in sorted(items, key=by_order)], indent=2, ensure_ascii=False) + "\n"
    records = [(name, _record(name, result, mode)) for name, result in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        runners_up = [f"{field}_{rank}" for rank in range(2, 1 + max((int(r["shown"]) for _, r in records), default=0))
                      for field in ("label", "confidence")]
        header = ["file", "label", "confidence", "text", "uncertain", "no_ink", "error"] if mode == "read" else \
                 ["file", "label", "confidence", "uncertain", "no_ink", *runners_up, "several_characters", "error"]
        writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        failed = [(name, {"file": name, "error": message}) for name, message in errors]
        writer.writerows(record for _, record in sorted(records + failed, key=by_order))
        return buffer.getvalue()
    return _table([record for _, record in records], mode, top_k)


def _record(name: str, result: Prediction | ReadResult, mode: str) -> dict[str, str]:
    """One row of text fields, shared by the CSV and table formats."""
    if isinstance(result, ReadResult):
        label = result.text
        ranked, runners_up = "", {}
    else:
        label = result.label or ""
        ranked = ", ".join(f"{char} {p:.4f}" for char, p in result.top_k)  # the table's
        runners_up = {f"{field}_{rank}": value for rank, (char, p) in enumerate(result.top_k[1:], start=2)
                      for field, value in (("label", char), ("confidence", f"{p:.4f}"))}  # the CSV's
    answered = not result.no_ink
    unread = isinstance(result, ReadResult) and not result.characters  # ink, but no character read in it
    several = getattr(result, "several_characters", None) or ""
    note = str(result) if result.no_ink or unread else ("uncertain" if result.uncertain else "")
    if several:
        note = f"several characters? ({several.replace(chr(10), ' / ')}): use {command('inkread read', READ_MODE)}"
    return {
        "file": name,
        "label": label,
        "text": label,
        "confidence": f"{result.confidence:.4f}" if answered else "",
        "uncertain": str(result.uncertain).lower(),
        "no_ink": str(result.no_ink).lower(),
        **runners_up,
        "ranked": ranked,
        "shown": str(len(getattr(result, "top_k", []) or [])),
        "several_characters": several,
        "note": note,
    }


def _table(records: list[dict[str, str]], mode: str, top_k: int) -> str:
    if not records:
        return ""
    if mode == "read":
        columns = [("file", "FILE"), ("text", "TEXT"), ("confidence", "CONFIDENCE"), ("note", "NOTE")]
        records = [{**r, "text": r["text"].replace("\n", " / ")} for r in records]  # one row per file...
    else:
        shown = max(int(r["shown"]) for r in records) or top_k  # a model has at most its classes to show
        columns = [("file", "FILE"), ("label", "LABEL"), ("confidence", "CONFIDENCE"), ("ranked", f"TOP {shown}"), ("note", "NOTE")]
    records = [{**r, "file": _one_line(r["file"]), "note": _one_line(r["note"])} for r in records]  # ...one line each
    widths = [max(len(title), *(len(r[key]) for r in records)) for key, title in columns]
    lines = ["  ".join(title.ljust(width) for (_, title), width in zip(columns, widths)).rstrip()]
    for record in records:
        lines.append("  ".join(record[key].ljust(width) for (key, _), width in zip(columns, widths)).rstrip())
    return "\n".join(lines) + "\n"


# --- --save-preprocessed --------------------------------------------------------------------

def save_preprocessed(rows: list[tuple[str, Prediction | ReadResult]], folder: Path) -> list[Path]:
    """Write each 28x28 model input as ``folder/<file stem>.png`` (white ink on black), atomically."""
    from PIL import Image

    written: list[Path] = []
    used: set[str] = set()
    for name, result in rows:
        image = getattr(result, "image", None)
        if image is None:
            continue
        stem = Path(name).stem
        unique, n = stem, 1
        while unique in used:  # the same name from two folders: scans/a.png, photos/a.png
            n += 1
            unique = f"{stem}-{n}"
        used.add(unique)
        pixels = to_uint8(image, 255.0)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")  # uint8 2-D: grayscale
        target = folder / f"{unique}.png"
        write_bytes_atomic(target, buffer.getvalue())
        written.append(target)
    return written
