"""The one exception type that reaches users as a one-line message.

Anything a user can cause (a missing file, a bad option, a corrupt image) is raised as
``InkreadError`` with a message that says what is wrong and how to fix it. The CLI prints it
without a traceback; the web API turns it into a 4xx response, or a 503 where the server's own
files are at fault (``ModelBundleError``, ``StorageError``).
"""

import dataclasses
import numbers
import os
import sys
import types
import typing
from contextlib import contextmanager
from typing import Any, Iterator


class InkreadError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete one-line explanation."""


class InputImageError(InkreadError):
    """An image that cannot be read: not an image, truncated, too large, empty."""


class ModelBundleError(InkreadError):
    """A model that cannot be loaded: unknown name, missing or corrupt files, mismatched label set."""


class DatasetError(InkreadError):
    """A data set that cannot be used: unknown name, missing or corrupt files, bad labels."""


class StorageError(InkreadError):
    """Something inkread keeps cannot be written: a full disk, no permission, a database locked too long."""


class DiskFullError(StorageError):
    """A file could not be written for want of space; ``str(error)`` ends with what to do once there is some."""


# True while the ``inkread`` command runs: messages then name a setting as its option is typed
# (``--data-dir``); from Python they name the config field (``data_dir``), which is what that user wrote.
_command_line = False


@contextmanager
def command_line_spelling(on: bool = True) -> Iterator[None]:
    """Within it, ``option()`` and ``option_value()`` spell settings as the command line's options; with
    ``on=False``, as fields (``only``) even under the command line: ``inkread serve``'s requests name fields."""
    global _command_line
    before, _command_line = _command_line, on
    try:
        yield
    finally:
        _command_line = before


def option(field: str, flag: str = "") -> str:
    """A setting's name as the user gave it: ``--data-dir`` on the command line, ``data_dir`` from Python.

    ``flag`` is the command line's spelling where it is not the field's with dashes (``--cors-origin``
    for ``cors_origins``).
    """
    if _command_line:
        return flag or "--" + field.replace("_", "-")
    return field


def option_value(field: str, value: object, flag: str = "") -> str:
    """A setting with its value as the user gave it: ``--out runs/a`` on the command line, ``out='runs/a'``
    from Python."""
    if _command_line:
        shown = repr("") if isinstance(value, str) and not value else value  # --only '': nothing given
        return f"{option(field, flag)} {shown}"
    shown = repr(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else repr(value)
    return f"{field}={shown}"


def command(typed: str, called: str) -> str:
    """What to run, as the user runs it: ``typed`` on the command line (``inkread read --model lines``),
    ``called`` from Python (``mode='read'``)."""
    return typed if _command_line else called


def how_to_resume(run_dir: "str | os.PathLike", lines: bool = False) -> str:
    """How to continue the interrupted training run in ``run_dir`` (a line model's with ``lines``), as the user runs it."""
    out = os.fspath(run_dir)
    if lines:  # both take the run's settings from its checkpoint
        return command(f"inkread train-lines --out {out} --resume", f"train_lines(LineTrainConfig(out={out!r}, resume=True))")
    return command(f"inkread train --out {out} --resume", f"train(TrainConfig(dataset=None, out={out!r}, resume=True))")


def first_line(error: BaseException, limit: int = 160) -> str:
    """The first informative line of a library's exception, at most ``limit`` characters, for a one-line message.

    A bare heading such as PyTorch's "Error(s) in loading state_dict for InkNet:" is skipped for the
    line that says what is wrong; an empty message gives the exception's type name.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    if not lines:
        return type(error).__name__
    if len(lines[0]) <= limit:
        return lines[0]
    cut = lines[0][:limit - 3]  # cut at a word's end, and say it was cut ("...url: /exdb/mnist/train)" named a wrong file)
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut) + "..."


def first_few(items: list, limit: int = 5, quote: bool = True) -> str:
    """The first ``limit`` items quoted (or, ``quote=False``, as they are: line numbers) and joined for an error
    message, with " ..." if there are more."""
    return ", ".join(map(repr if quote else str, items[:limit])) + (" ..." if len(items) > limit else "")


def spell_labels(labels, limit: int = 62, many_limit: int = 8) -> str:
    """A model's labels for a message: spelled together when each is one character ("0123456789ABC", up to
    ``limit`` of them), else quoted and comma-separated (up to ``many_limit``): run together, "a b" and "plus
    sign" could not be told apart."""
    labels = list(labels)
    if all(len(label) == 1 for label in labels):
        return "".join(labels[:limit]) + (" ..." if len(labels) > limit else "")
    return first_few(labels, many_limit)


def plural(count: int, one: str, many: str) -> str:
    """"1 class", "10 classes": ``count`` with the word that fits it."""
    return f"{count:,} {one if count == 1 else many}"


def warn(message: str) -> None:
    """Print ``inkread: warning: <message>`` on stderr, always (it is about the result, not the progress).

    Here rather than in ``training.console`` because data sets are loaded without PyTorch too.
    """
    print(f"inkread: warning: {message}", file=sys.stderr, flush=True)


def check_setting_kinds(config: Any) -> None:
    """Refuse a setting of a config dataclass whose value is not of its field's type, naming it (from Python,
    ``val_fraction="0.1"`` was a TypeError's traceback, ``name=5`` trained a bundle no loader took); a Path
    given for a text setting becomes the string that the run's records hold."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        kinds = _kinds(hints[field.name])
        value = getattr(config, field.name)
        if kinds is None or (value is None and type(None) in kinds):
            continue
        if str in kinds and isinstance(value, os.PathLike):
            value = os.fspath(value)
            setattr(config, field.name, value)
        if not any(_of_kind(value, kind) for kind in kinds):
            wanted = " or ".join(_kind_name(kind) for kind in kinds if kind is not type(None))
            raise InkreadError(f"{option_value(field.name, value)} must be {wanted}, not {type(value).__name__}")


def check_config_type(config: Any, kind: type, function: str) -> None:
    """Refuse a ``function`` called with something other than its config dataclass (``train({...})``)."""
    if not isinstance(config, kind):
        raise InkreadError(f"{function} takes a {kind.__name__}, got {type(config).__name__}: "
                           f"{function}({kind.__name__}(...))")


def _kinds(hint: Any) -> tuple | None:
    """The types a field's annotation allows (None: any)."""
    if hint is Any:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (typing.get_origin(hint) or hint,)


def _of_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind in (int, float):  # numpy's numbers too; True is no number of epochs
        return isinstance(value, numbers.Integral if kind is int else numbers.Real) and not isinstance(value, bool)
    return isinstance(value, kind)


def _kind_name(kind: type) -> str:
    names = {int: "a whole number", float: "a number", str: "text", bool: "True or False"}
    if kind in names:
        return names[kind]
    return ("an " if kind.__name__[0] in "AEIOU" else "a ") + kind.__name__
