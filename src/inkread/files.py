"""Where inkread keeps its files, and how it writes them without ever leaving half a file."""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import glob
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Collection, Iterator

from inkread.errors import DiskFullError, InkreadError, first_few, option_value

DATA_DIR_ENV = "INKREAD_DATA_DIR"


def default_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: ``explicit`` if given, else ``$INKREAD_DATA_DIR``, else the user cache dir.

    An empty ``explicit`` is refused (``--data-dir "$D"`` with ``D`` unset quietly meant the cache dir)."""
    if explicit is not None:
        return Path(folder_setting(explicit, "data_dir")).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir  # imported here: only needed when no dir is given

    return Path(user_cache_dir("inkread"))


def folder_setting(value: object, setting: str = "out") -> str:
    """A folder option given from Python as a string: a ``str`` or path object, else a one-line InkreadError
    (``out=None`` was a TypeError's traceback in train, and a report folder named "None" in evaluate)."""
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value):
        return os.fspath(value)
    raise InkreadError(f"{option_value(setting, value)}: give a folder path")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``.

    On any error (including a full disk or Ctrl-C) the temporary file is removed, so ``path`` is
    either its old self or the complete new file, never half-written.
    """
    with atomic_path(path) as tmp_name, open(tmp_name, mode) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """The name of an empty temporary file beside ``path``, renamed over ``path`` on success.

    For writers that want a file name rather than a handle (``ONNXProgram.save``). On any error the
    temporary file is removed; a file-system error becomes a one-line ``InkreadError``.
    """
    path = Path(path)
    try:
        tmp_name = _new_temp_file(path)
    except OSError as error:
        raise _write_error(path, error) from error
    try:
        yield tmp_name
        os.replace(tmp_name, path)
    except OSError as error:
        _remove_quietly(tmp_name)
        raise _write_error(path, error) from error
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def _new_temp_file(path: Path) -> str:
    """An empty temporary file beside ``path`` (its folder created), with the mode ``open`` would give."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode a plain open() would have.
    os.chmod(tmp_name, 0o666 & ~current_umask())
    return tmp_name


def disk_full(error: BaseException) -> bool:
    """Whether ``error``, or one it was raised from (a library may wrap it), is a full disk."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_error(path: str | os.PathLike) -> DiskFullError:
    """The one-line error for a disk that filled up while ``path`` was written: free some space and run again."""
    return DiskFullError(f"disk full while writing {path}: free some space and run again")


def _write_error(path: str | os.PathLike, error: OSError) -> InkreadError:
    """A one-line error for an ``OSError`` met while writing ``path``, saying what to do."""
    if error.errno == errno.ENOSPC:
        return disk_full_error(path)
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        return InkreadError(f"cannot write {path}: a file stands where a folder is needed ({error.filename}): "
                            "choose another output folder")
    return InkreadError(f"cannot write {path}: {error.strerror or error}: choose a folder you can write to")


def remove_file(path: str | os.PathLike) -> None:
    """Delete the file ``path`` if it is there; a file-system error becomes a one-line ``InkreadError``."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as error:
        raise _write_error(path, error) from error


def check_writable_folder(folder: str | os.PathLike, setting: str = "out") -> None:
    """Check now, before long work (loading a data set, training), that ``folder`` can be made and written.

    An output path that cannot be written then fails at once with a one-line error, instead of after
    the work is done. Nothing is left behind: a folder is made and removed where ``folder`` would start.
    """
    folder = Path(folder)
    existing = next(path for path in (folder, *folder.parents) if path.exists())  # "." at worst
    if not existing.is_dir():
        raise InkreadError(f"{option_value(setting, folder)}: a file stands where a folder is needed ({existing}): choose another output folder")
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".inkread-write-test."))
    except OSError as error:
        raise _write_error(folder, error) from error


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, busy: str) -> Iterator[None]:
    """Hold ``folder`` (made if missing) for this process alone; InkreadError ``busy`` if another holds it.

    An advisory lock on the folder itself (``flock``: released when the process ends, however it
    ends), so no lock file is left behind. Folders made here and still empty at the end are removed.
    Without ``fcntl`` (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    folder = Path(folder)
    made = [path for path in (folder, *folder.parents) if not path.exists()]  # innermost first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise _write_error(folder, error) from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InkreadError(busy) from None
        yield
    finally:
        os.close(descriptor)
        with contextlib.suppress(OSError):
            for path in made:
                path.rmdir()  # only while empty: nothing was written


def folder_locked(folder: str | os.PathLike) -> bool:
    """Whether another process holds ``folder`` with ``folder_lock`` right now (False without ``fcntl``)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: never in the way of the lock's holder
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # releases the shared lock taken, if any


# Files an operating system leaves in folders it shows (Finder, Explorer), and our own leftover temp files:
# not the user's data, so they do not keep a folder from being written over.
LITTER = (".DS_Store", "._*", "Thumbs.db", "desktop.ini", ".*.tmp")


def files_other_than(folder: str | os.PathLike, names: Collection[str]) -> list[str]:
    """The names in ``folder`` (sorted; none if it is not a folder) that match neither ``names`` (shell
    patterns allowed) nor operating-system litter."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(name for name in os.listdir(folder)
                  if not is_litter(name) and not any(fnmatch.fnmatchcase(name, p) for p in names))


def is_litter(name: str) -> bool:
    """Whether a file name is operating-system litter (``LITTER``): .DS_Store, ._name, Thumbs.db, our temp files."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in LITTER)


def check_replaceable(target: str | os.PathLike, names: Collection[str]) -> None:
    """Refuse to replace ``target`` unless it is absent, or a folder holding only files named ``names``
    (shell patterns such as ``correction-*.png`` allowed) and operating-system litter.

    ``staged_folder`` replaces its target whole: a folder that holds anything else (a run folder,
    someone's documents) would be deleted with it; so would the current folder or one above it.
    """
    target = Path(target)
    if target.name in ("", ".", "..") or target.resolve() in (Path.cwd(), *Path.cwd().parents):
        raise InkreadError(f"{target} is the current folder or one above it: give the name of a new folder to write to")
    if target.exists() and not target.is_dir():
        raise InkreadError(f"{target} is a file: give a folder to write to")
    others = files_other_than(target, names)
    if others:
        raise InkreadError(f"{target} already holds other files ({first_few(others, 3)}), which writing there would delete: "
                           "choose a new or empty folder")


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike, names: Collection[str]) -> Iterator[Path]:
    """Build a folder's files in a hidden staging folder beside ``target``, then put it in place.

    Readers see either the old ``target`` or the complete new one: on any error (a full disk,
    Ctrl-C) the staging folder is removed and ``target`` is left as it was. (Swapping two folders
    takes two renames; a crash between them leaves the old folder under a hidden name, not a half one.)
    ``names`` are the files the folder will hold: an existing ``target`` holding anything else is
    refused (``check_replaceable``), before and after the files are built.
    """
    target = Path(target)
    check_replaceable(target, names)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = new_staging_folder(target)
    except OSError as error:
        raise _write_error(target, error) from error
    try:
        yield staging
        check_replaceable(target, names)  # something may have been put there meanwhile
        _swap_in(staging, target)
    except (OSError, InkreadError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, InkreadError) and str(staging) not in str(error):
            raise  # it says what is wrong already (a second copy of it would only repeat it)
        said = _write_error(target, error) if isinstance(error, OSError) else error
        # name the folder the user asked for, not the hidden staging folder it was being built in (the
        # error's kind kept: a full disk is said with what to do next by who called)
        raise type(said)(str(said).replace(str(staging), str(target))) from (error if isinstance(error, OSError) else None)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def new_staging_folder(target: Path) -> Path:
    """A new hidden folder beside ``target`` to build it in, after removing those left for ``target`` by processes
    no longer running. Raises ``OSError``."""
    _remove_abandoned_staging(target)
    # the process's id in the name: a folder left by one killed (kill -9, a crash) is known as abandoned
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}-", suffix=".staging"))
    os.chmod(staging, 0o777 & ~current_umask())
    return staging


def _remove_abandoned_staging(target: Path) -> None:
    """Delete the staging folders for ``target`` left by processes no longer running (killed while building it:
    a bundle's 0.7 MB, an int8 export's 3 MB, each kill -9 leaving one more)."""
    for staging in target.parent.glob(f".{glob.escape(target.name)}.*-*.staging"):
        pid = staging.name[len(target.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether a process ``pid`` is running (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's
        return True
    return True


def _swap_in(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``, moving an existing ``target`` aside first and deleting it after.

    If the second rename fails (a full disk, a quota), the old folder is renamed back, so ``target``
    is never left missing with its old content hidden in a temporary folder.
    """
    if not target.exists():
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
    try:
        os.replace(target, old / target.name)
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(old / target.name, target)
            raise
    except BaseException:
        with contextlib.suppress(OSError):
            old.rmdir()  # empty unless putting the old folder back failed too: then it is kept, not deleted
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


PROC_STATUS = "/proc/self/status"


def current_umask() -> int:
    """The process's umask.

    Linux (4.7 and later) shows it in /proc/self/status. Elsewhere it is read by setting it and
    putting it back, as there is no getter: not thread-safe, since a file another thread creates
    meanwhile gets umask 0.
    """
    try:
        with open(PROC_STATUS, encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass  # no /proc (macOS, Windows, a sandbox) or an unexpected format: fall back below
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def check_outside_data_set(out: "str | os.PathLike", dataset: str, what: str) -> None:
    """Refuse an output folder (``what`` it holds: "report", "run") inside the folder of a ``folder:`` data set:
    there it became a class of the data set, named after the folder, in the next training or evaluation."""
    kind, _, where = dataset.partition(":")
    if kind != "folder" or not where:
        return
    home, target = Path(where).expanduser().resolve(), Path(out).expanduser().resolve()
    if target == home or home in target.parents:
        raise InkreadError(f"{option_value('out', out)} is inside the data set ({home}): the {what} would become part of it; "
                           f"choose a folder outside it, such as {home.parent / (home.name + '-' + what)}")
