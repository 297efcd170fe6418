"""Atomic files and staged folders: a write either completes or leaves the old state untouched."""

from __future__ import annotations

import errno
import os

import pytest

from inkread import files
from inkread.errors import InkreadError
from inkread.files import check_writable_folder, current_umask, staged_folder, write_text_atomic


NAMES = ("a", "b", "weights.pt")


def test_atomic_write_replaces_the_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_text_atomic(target, "one")
    write_text_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_atomic_write_where_a_file_blocks_the_folder_is_one_clear_error(tmp_path):
    (tmp_path / "afile").write_text("keep me")
    with pytest.raises(InkreadError, match="a file stands where a folder is needed"):
        write_text_atomic(tmp_path / "afile" / "a.txt", "x")
    assert (tmp_path / "afile").read_text() == "keep me"


def test_staged_folder_replaces_the_old_folder_only_when_complete(tmp_path):
    target = tmp_path / "model"
    with staged_folder(target, NAMES) as staging:
        (staging / "a").write_text("first")
    assert (target / "a").read_text() == "first"

    with pytest.raises(RuntimeError):
        with staged_folder(target, NAMES) as staging:
            (staging / "a").write_text("second, unfinished")
            raise RuntimeError("interrupted half way")
    assert (target / "a").read_text() == "first"  # the old folder, untouched

    with staged_folder(target, NAMES) as staging:
        (staging / "b").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b"]  # the new folder whole, nothing of the old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging or old folder left


def test_staged_folder_turns_a_file_system_error_into_one_line(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(InkreadError, match="disk full while writing .*model: free some space"):
        with staged_folder(target, NAMES):
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InkreadError, match=r"disk full while writing \S*model/weights.pt: free"):
        with staged_folder(target, NAMES) as staging:  # a file inside: the message names the real folder
            raise InkreadError(f"disk full while writing {staging / 'weights.pt'}: free some space")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InkreadError, match="choose another output folder"):
        with staged_folder(tmp_path / "afile" / "model", NAMES):
            pass


def test_staged_folder_never_replaces_a_folder_holding_other_files(tmp_path):
    """A bundle is written over an earlier bundle only: `export --out .` must not delete the folder."""
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "letter.txt").write_text("keep me")
    with pytest.raises(InkreadError, match=r"documents already holds other files \('letter.txt'\), which writing there would delete"):
        with staged_folder(documents, NAMES) as staging:
            (staging / "a").write_text("new")
    assert (documents / "letter.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]  # no staging folder left
    (tmp_path / "afile").write_text("keep me too")
    with pytest.raises(InkreadError, match="afile is a file: give a folder"):
        with staged_folder(tmp_path / "afile", NAMES):
            pass
    assert (tmp_path / "afile").read_text() == "keep me too"
    # a file that appears while the folder is built is not deleted either
    target = tmp_path / "model"
    with pytest.raises(InkreadError, match="already holds other files"):
        with staged_folder(target, NAMES) as staging:
            (staging / "a").write_text("new")
            target.mkdir()
            (target / "notes.txt").write_text("mine")
    assert (target / "notes.txt").read_text() == "mine"


def test_check_writable_folder_fails_at_once_where_nothing_can_be_written(tmp_path):
    check_writable_folder(tmp_path / "new" / "run")
    assert list(tmp_path.iterdir()) == []  # checked, nothing made
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InkreadError, match="out=.*afile/run': a file stands where a folder is needed"):
        check_writable_folder(tmp_path / "afile" / "run")
    with pytest.raises(InkreadError, match="cannot write /proc/inkread-test"):
        check_writable_folder("/proc/inkread-test")


def test_operating_system_litter_does_not_block_and_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    target = tmp_path / "bundle"
    target.mkdir()
    (target / ".DS_Store").write_bytes(b"finder")  # opened in Finder: not the user's data
    (target / "a").write_text("old")
    with staged_folder(target, NAMES) as staging:
        (staging / "a").write_text("new")
    assert (target / "a").read_text() == "new"
    monkeypatch.chdir(target)  # empty but for our file: "." and ".." are still refused, before any work
    for name in (".", "..", str(target)):
        with pytest.raises(InkreadError, match="is the current folder or one above it: give the name of a new folder"):
            with staged_folder(name, NAMES):
                pass


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    """The last rename (staging -> target) fails after the old folder was moved aside: it is moved back."""
    target = tmp_path / "model"
    target.mkdir()
    (target / "a").write_text("old")
    real_replace = os.replace

    def replace(src, dst):
        if str(src).endswith(".staging"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(InkreadError, match="disk full while writing .*model: free some space"):
        with staged_folder(target, NAMES) as staging:
            (staging / "a").write_text("new")
    assert (target / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging or hidden old folder left


def test_current_umask_does_not_change_the_umask_on_linux(monkeypatch):
    """Setting the umask to read it would give files that other threads create meanwhile the wrong mode."""
    if not os.path.exists(files.PROC_STATUS):
        pytest.skip("no /proc/self/status here")

    def no_umask(_mask):
        raise AssertionError("os.umask called: not thread-safe")

    mask = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", no_umask)
        assert current_umask() == 0o027
        monkeypatch.undo()
        monkeypatch.setattr(files, "PROC_STATUS", "/nonexistent/status")  # elsewhere: set and put back
        assert current_umask() == 0o027 and os.umask(0o027) == 0o027
    finally:
        os.umask(mask)


def test_staging_folders_abandoned_by_a_killed_process_are_removed(tmp_path):
    """kill -9 while a bundle or an export was being built left its hidden staging folder for good
    (three kills: three folders, 3 MB each for an int8 export); the next build removes those whose
    process is gone, and leaves a running one's."""
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    abandoned = tmp_path / f".model.{dead_pid}-abc123.staging"
    abandoned.mkdir()
    (abandoned / "weights.pt").write_bytes(b"x" * 1000)
    building = tmp_path / f".model.{os.getpid()}-def456.staging"  # this process's: still being built
    building.mkdir()
    with staged_folder(tmp_path / "model", ["model.json"]) as staging:
        (staging / "model.json").write_text("{}")
    assert not abandoned.exists() and building.exists() and (tmp_path / "model" / "model.json").exists()


def test_folder_locked_sees_a_held_folder_lock_and_does_not_take_it(tmp_path):
    from inkread.files import folder_lock, folder_locked

    assert not folder_locked(tmp_path) and not folder_locked(tmp_path / "missing")
    with folder_lock(tmp_path / "run", "busy"):
        assert folder_locked(tmp_path / "run")
        assert folder_locked(tmp_path / "run")  # asking twice leaves it held
    assert not folder_locked(tmp_path / "run")
    with folder_lock(tmp_path / "run", "busy"):  # and free to take again
        pass


def test_an_empty_data_dir_is_refused_not_taken_for_the_default(tmp_path, monkeypatch, capsys):
    """``--data-dir "$D"`` with ``D`` unset quietly meant the user cache dir, where --out '' is refused (a helper's find)."""
    from inkread.cli import main
    from inkread.errors import InkreadError
    from inkread.files import default_data_dir

    with pytest.raises(InkreadError, match="^data_dir='': give a folder path$"):
        default_data_dir("")
    assert main(["data", "fetch", "mnist", "--data-dir", ""]) == 2
    assert capsys.readouterr().err == "inkread: error: --data-dir '': give a folder path\n"
    monkeypatch.setenv("INKREAD_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path and default_data_dir(tmp_path / "x") == tmp_path / "x"
