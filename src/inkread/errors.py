"""The one exception type that reaches users as a one-line message.

Anything a user can cause (a missing file, a bad option, a corrupt image) is raised as
``InkreadError`` with a message that says what is wrong and how to fix it. The CLI prints it
without a traceback; the web API turns it into a 4xx response, or a 503 where the server's own
files are at fault (``ModelBundleError``, ``StorageError``).
"""

import sys


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


def first_line(error: BaseException, limit: int = 160) -> str:
    """The first informative line of a library's exception, at most ``limit`` characters, for a one-line message.

    A bare heading such as PyTorch's "Error(s) in loading state_dict for InkNet:" is skipped for the
    line that says what is wrong; an empty message gives the exception's type name.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    return lines[0][:limit] if lines else type(error).__name__


def first_few(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` items quoted and joined for an error message, with " ..." if there are more."""
    return ", ".join(map(repr, items[:limit])) + (" ..." if len(items) > limit else "")


def plural(count: int, one: str, many: str) -> str:
    """"1 class", "10 classes": ``count`` with the word that fits it."""
    return f"{count:,} {one if count == 1 else many}"


def warn(message: str) -> None:
    """Print ``inkread: warning: <message>`` on stderr, always (it is about the result, not the progress).

    Here rather than in ``training.console`` because data sets are loaded without PyTorch too.
    """
    print(f"inkread: warning: {message}", file=sys.stderr, flush=True)
