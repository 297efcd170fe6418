"""Where inkread keeps its files, and how it writes them without ever leaving half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from inkread.errors import InkreadError

DATA_DIR_ENV = "INKREAD_DATA_DIR"


def default_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: ``explicit`` if given, else ``$INKREAD_DATA_DIR``, else the user cache dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir  # imported here: only needed when no dir is given

    return Path(user_cache_dir("inkread"))


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``.

    On any error (including a full disk or Ctrl-C) the temporary file is removed, so ``path`` is
    either its old self or the complete new file, never half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    # mkstemp makes the file private (0600); give it the mode a plain open() would have.
    os.chmod(tmp_name, 0o666 & ~_current_umask())
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as error:
        _remove_quietly(tmp_name)
        if error.errno == errno.ENOSPC:
            raise InkreadError(f"disk full while writing {path}: free some space and run again") from error
        raise InkreadError(f"cannot write {path}: {error.strerror or error}") from error
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)
