"""Downloads against a local HTTP server: good files, checksum mismatches, no server, the EMNIST zip."""

from __future__ import annotations

import dataclasses
import errno
import functools
import gzip
import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from inkread.cli import main
from inkread.data import download, fetch, load_dataset
from inkread.data.download import BASE_URL_ENV, GROUPS, REGISTRY, locate, read_checked
from inkread.data.idx import encode_idx
from inkread.errors import DatasetError, DiskFullError

LABELS_NAME = "t10k-labels-idx1-ubyte.gz"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1; the download base URL points at it."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{httpd.server_port}")
    yield served
    httpd.shutdown()
    httpd.server_close()


def _pin(monkeypatch, name: str, content: bytes) -> None:
    """Pin the registry checksum of ``name`` to the MD5 of ``content`` (the fake file we serve)."""
    entry = REGISTRY[name]
    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(entry, content_hash=f"md5:{hashlib.md5(content).hexdigest()}"))


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_file_is_downloaded_checked_and_placed(server, tmp_path, monkeypatch):
    content = encode_idx(np.arange(10, dtype=np.uint8))
    (server / LABELS_NAME).write_bytes(gzip.compress(content))
    _pin(monkeypatch, LABELS_NAME, content)
    data_dir = tmp_path / "data"
    path = locate(LABELS_NAME, data_dir)
    assert path == data_dir / "mnist" / LABELS_NAME
    np.testing.assert_array_equal(read_checked(path), np.arange(10))
    assert _leftovers(data_dir / "mnist") == [LABELS_NAME]  # no temp files left behind
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file here, not the temp file's 0600
    # A second call finds the file and does not download again.
    (server / LABELS_NAME).unlink()
    assert locate(LABELS_NAME, data_dir) == path


def test_checksum_mismatch_is_refused_and_not_kept(server, tmp_path):
    # A valid IDX labels file, but not the official content: the pinned MD5 refuses it.
    (server / LABELS_NAME).write_bytes(gzip.compress(encode_idx(np.zeros(10_000, np.uint8))))
    data_dir = tmp_path / "data"
    with pytest.raises(DatasetError, match=f"{LABELS_NAME} downloaded from http://127.0.0.1.*wrong content.*not kept"):
        locate(LABELS_NAME, data_dir)
    assert _leftovers(data_dir / "mnist") == []


def test_corrupt_download_is_refused(server, tmp_path, monkeypatch):
    (server / LABELS_NAME).write_bytes(b"<html>not found</html>")  # what a broken mirror serves
    _pin(monkeypatch, LABELS_NAME, b"whatever")
    with pytest.raises(DatasetError, match=f"{LABELS_NAME} from http.* is a web page, not the file .*not kept"):
        locate(LABELS_NAME, tmp_path / "data")
    (server / LABELS_NAME).write_bytes(gzip.compress(encode_idx(np.arange(10, dtype=np.uint8)))[:25])  # cut short
    with pytest.raises(DatasetError, match=f"{LABELS_NAME} from http.* is broken .*not kept") as caught:
        locate(LABELS_NAME, tmp_path / "data")
    assert ".download" not in str(caught.value)  # the temporary file is gone: the message names the file
    assert _leftovers(tmp_path / "data" / "mnist") == []


def test_existing_file_with_wrong_content_is_refused(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / LABELS_NAME).write_bytes(gzip.compress(encode_idx(np.zeros(3, np.uint8))))
    with pytest.raises(DatasetError, match=f"{LABELS_NAME} has the wrong content \\(md5 .*delete it and run again"):
        read_checked(folder / LABELS_NAME)


def test_no_server_gives_a_clear_error(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{port}")
    data_dir = tmp_path / "data"
    with pytest.raises(DatasetError) as caught:
        locate(LABELS_NAME, data_dir)
    message = str(caught.value)
    assert "\n" not in message
    assert LABELS_NAME in message and str(data_dir / "mnist") in message
    assert "INKREAD_DATA_DIR" in message and "data_dir" in message and f"127.0.0.1:{port}/{LABELS_NAME}" in message
    assert f"{LABELS_NAME}: the connection was refused)" in message  # requests' long message, cut short, named no cause
    assert _leftovers(data_dir / "mnist") == []
    assert not data_dir.exists()  # nor the folders made to hold the download (a mistyped --data-dir)


def test_missing_on_server(server, tmp_path):
    with pytest.raises(DatasetError, match="could not be downloaded.*: HTTP 404 "):
        locate(LABELS_NAME, tmp_path / "data")


def test_read_only_data_dir_is_not_written(server, tmp_path):
    data_dir = tmp_path / "ro"
    (data_dir / "mnist").mkdir(parents=True)
    os.chmod(data_dir / "mnist", 0o555)
    try:
        with pytest.raises(DatasetError, match="read-only") as caught:
            locate(LABELS_NAME, data_dir)
        # no advice to download into the folder just called read-only
        assert f"into {data_dir}" not in str(caught.value) and "inkread data fetch mnist --data-dir" in str(caught.value)
        assert _leftovers(data_dir / "mnist") == []
    finally:
        os.chmod(data_dir / "mnist", 0o755)


def _fake_emnist_zip(images: np.ndarray, labels: np.ndarray) -> bytes:
    """A small gzip.zip laid out like the official one, holding the emnist-digits split."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in ("train", "test"):
            archive.writestr(f"gzip/emnist-digits-{part}-images-idx3-ubyte.gz", gzip.compress(encode_idx(images)))
            archive.writestr(f"gzip/emnist-digits-{part}-labels-idx1-ubyte.gz", gzip.compress(encode_idx(labels)))
        archive.writestr("gzip/emnist-digits-mapping.txt", "".join(f"{d} {48 + d}\r\n" for d in range(10)))
    return buffer.getvalue()


def _pin_archive(monkeypatch, data: bytes) -> None:
    archive = dataclasses.replace(download.EMNIST_ARCHIVE, hash=f"md5:{hashlib.md5(data).hexdigest()}")
    for name, entry in REGISTRY.items():
        if entry.archive:
            monkeypatch.setitem(REGISTRY, name, dataclasses.replace(entry, archive=archive))


def test_emnist_files_come_from_the_checked_archive(server, tmp_path, monkeypatch):
    images = np.zeros((20, 28, 28), np.uint8)
    images[:, 3, :] = 255  # a horizontal bar in the raw (transposed) files ...
    labels = np.arange(20, dtype=np.uint8) % 10
    data = _fake_emnist_zip(images, labels)
    (server / "gzip.zip").write_bytes(data)
    _pin_archive(monkeypatch, data)
    data_dir = tmp_path / "data"
    paths = fetch(["emnist-digits"], data_dir)
    assert sorted(p.name for p in paths) == sorted(GROUPS["emnist-digits"])
    splits = load_dataset("emnist-digits", data_dir)
    assert splits.labels == tuple("0123456789") and splits.recipe == "emnist"
    assert len(splits.test) == 20 and len(splits.train) + len(splits.val) == 20
    assert np.all(splits.test.images[:, :, 3] == 255)  # ... is a vertical bar once upright
    np.testing.assert_array_equal(splits.test.targets, labels)


def test_emnist_archive_with_wrong_checksum_is_refused(server, tmp_path):
    (server / "gzip.zip").write_bytes(_fake_emnist_zip(np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)))
    data_dir = tmp_path / "data"
    with pytest.raises(DatasetError, match="gzip.zip downloaded from .*wrong checksum.*not kept"):
        locate("emnist-digits-test-labels-idx1-ubyte.gz", data_dir)
    assert _leftovers(data_dir / "emnist") == []


def test_fetch_unknown_name_lists_the_choices(tmp_path):
    with pytest.raises(DatasetError, match="unknown data set 'kmnist'.*mnist, emnist"):
        fetch(["kmnist"], tmp_path)


def test_cli_data_fetch_reports_one_line(server, tmp_path, monkeypatch, capsys):
    for name in GROUPS["mnist"]:  # valid IDX files, but not the official content
        content = encode_idx(np.zeros((2, 28, 28) if "images" in name else 2, np.uint8))
        (server / name).write_bytes(gzip.compress(content))
    assert main(["data", "fetch", "mnist", "--data-dir", str(tmp_path)]) == 2
    *notes, error = capsys.readouterr().err.splitlines()
    assert error.startswith("inkread: error: ") and "wrong content" in error
    assert notes and all(note.startswith("inkread: downloading ") for note in notes)


def test_a_base_url_that_is_not_http_is_refused_up_front(tmp_path, monkeypatch, capsys):
    """A folder given as the mirror was reported as a wrong checksum (requests' MissingSchema is a ValueError)."""
    monkeypatch.setenv(BASE_URL_ENV, "/srv/mirror")
    data_dir = tmp_path / "d"
    assert main(["data", "fetch", "mnist", "--data-dir", str(data_dir)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "checksum" not in error
    assert f"{BASE_URL_ENV} '/srv/mirror' is not an http:// or https:// address" in error
    assert not data_dir.exists()
    with pytest.raises(DatasetError, match="base_url 'ftp://mirror' is not an http:// or https:// address"):
        locate(LABELS_NAME, data_dir, base_url="ftp://mirror")


def test_a_malformed_url_is_a_failed_url_and_the_next_one_is_tried(server, tmp_path, monkeypatch):
    """Only a genuine hash mismatch is a checksum error: requests' InvalidURL (a ValueError) is one URL failing."""
    content = encode_idx(np.arange(10, dtype=np.uint8))
    (server / LABELS_NAME).write_bytes(gzip.compress(content))
    good = f"{os.environ[BASE_URL_ENV]}/{LABELS_NAME}"
    monkeypatch.delenv(BASE_URL_ENV)
    monkeypatch.setitem(REGISTRY, LABELS_NAME, dataclasses.replace(REGISTRY[LABELS_NAME], urls=("http://", good),
                                                                   content_hash=f"md5:{hashlib.md5(content).hexdigest()}"))
    path = locate(LABELS_NAME, tmp_path / "data")
    np.testing.assert_array_equal(read_checked(path), np.arange(10))


def test_a_full_disk_says_to_free_space_not_to_delete_the_archive(server, tmp_path, monkeypatch):
    """ENOSPC while a file is taken out of a good gzip.zip blamed the archive ("delete it"); during a
    download it was one more URL failing, with no word of the disk."""
    data = _fake_emnist_zip(np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8))
    _pin_archive(monkeypatch, data)
    data_dir = tmp_path / "data"
    (data_dir / "emnist").mkdir(parents=True)
    (data_dir / "emnist" / "gzip.zip").write_bytes(data)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download.shutil, "copyfileobj", full)
    name = "emnist-digits-test-labels-idx1-ubyte.gz"
    with pytest.raises(DiskFullError, match=rf"^disk full while writing {re.escape(str(data_dir / 'emnist' / name))}: "
                                            r"free some space and run again$"):
        locate(name, data_dir)
    assert (data_dir / "emnist" / "gzip.zip").read_bytes() == data and _leftovers(data_dir / "emnist") == ["gzip.zip"]
    monkeypatch.setattr("pooch.retrieve", full)  # as pooch's write of a downloaded chunk fails
    with pytest.raises(DiskFullError, match=rf"^disk full while writing {re.escape(str(data_dir / 'mnist' / LABELS_NAME))}: "
                                            r"free some space and run again$"):
        locate(LABELS_NAME, data_dir)


def test_a_folder_where_a_file_belongs_is_named_before_any_download(server, tmp_path):
    (tmp_path / "data" / "mnist" / LABELS_NAME).mkdir(parents=True)
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path / 'data' / 'mnist' / LABELS_NAME))} is a folder: "
                                           "remove it, and run again"):
        locate(LABELS_NAME, tmp_path / "data")  # the server has no such file: a download would say HTTP 404


def test_a_malformed_base_url_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(BASE_URL_ENV, "http://[::1")
    assert main(["data", "fetch", "mnist", "--data-dir", str(tmp_path / "d")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{BASE_URL_ENV} 'http://[::1' is not an http:// or https:// address" in error


def test_a_server_that_trickles_bytes_is_given_up_on(tmp_path, monkeypatch):
    """One byte every 0.2 s never trips requests' read timeout (per read): the download never ended."""
    listener = _listening()

    def trickle() -> None:
        connection, _ = listener.accept()
        connection.recv(4096)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: 100000\r\n\r\n")
        try:
            while True:
                connection.sendall(b"\x1f")
                time.sleep(0.2)
        except OSError:  # the client gave up
            connection.close()

    threading.Thread(target=trickle, daemon=True).start()
    monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setattr(download, "MIN_SPEED", (100, 0.5), raising=False)
    data_dir = tmp_path / "data"
    started = time.monotonic()
    try:
        with pytest.raises(DatasetError, match=rf"could not be downloaded \(http://127.0.0.1:\d+/{LABELS_NAME}: the server "
                                               r"sent under 100 bytes in 0.5 s\)"):
            locate(LABELS_NAME, data_dir)
    finally:
        listener.close()
    assert time.monotonic() - started < 10 and not data_dir.exists()


def test_a_download_killed_midway_leaves_its_staging_folder_only_until_the_next(server, tmp_path, monkeypatch):
    """SIGTERM or SIGKILL during a download left its hidden staging folder (and the part downloaded) for good."""
    content = encode_idx(np.arange(10, dtype=np.uint8))
    (server / LABELS_NAME).write_bytes(gzip.compress(content))
    _pin(monkeypatch, LABELS_NAME, content)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folder = tmp_path / "data" / "mnist"
    abandoned = folder / f".download.{int(gone.stdout)}-abc123.staging"
    abandoned.mkdir(parents=True)
    (abandoned / "train-images-idx3-ubyte.gz.part").write_bytes(b"x" * 1000)
    running = folder / f".download.{os.getpid()}-def456.staging"  # another download of this process, still going
    running.mkdir()
    locate(LABELS_NAME, tmp_path / "data")
    assert _leftovers(folder) == sorted([running.name, LABELS_NAME])


def _listening() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    return listener


def _one_answer_server(answer: bytes) -> str:
    """A server on 127.0.0.1 that sends ``answer`` to one request and closes the connection; its base URL."""
    listener = _listening()

    def serve() -> None:
        connection, _ = listener.accept()
        connection.recv(4096)
        connection.sendall(answer)
        connection.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_download_failures_are_said_in_a_few_words(server, tmp_path, monkeypatch):
    """A login page served for the file was 'not an IDX labels file (magic number 1013478509 ...)'; a connection
    closed midway was requests' raw ChunkedEncodingError text."""
    (server / LABELS_NAME).write_text("<!DOCTYPE html><html><body>Login required</body></html>")
    with pytest.raises(DatasetError, match=rf"{LABELS_NAME} from \S+ is a web page, not the file \(a login or error "
                                           r"page: check the address\), so it was not kept"):
        locate(LABELS_NAME, tmp_path / "a")
    monkeypatch.setenv(BASE_URL_ENV, _one_answer_server(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"\x1f" * 10))
    with pytest.raises(DatasetError, match=rf"{LABELS_NAME}: the server closed the connection before the end of the "
                                           r"file\)"):
        locate(LABELS_NAME, tmp_path / "b")


def test_a_read_only_folder_is_the_one_named_so(tmp_path):
    """'is not in DIR/sub/mnist, which is read-only' named a folder that does not exist: the read-only one is DIR."""
    (tmp_path / "ro").mkdir(mode=0o555)
    try:
        with pytest.raises(DatasetError, match=rf"is not in {re.escape(str(tmp_path / 'ro' / 'sub' / 'mnist'))}, and "
                                               rf"{re.escape(str(tmp_path / 'ro'))}, where it would be made, is read-only: "):
            locate(LABELS_NAME, tmp_path / "ro" / "sub")
    finally:
        (tmp_path / "ro").chmod(0o755)


class _RedirectingHandler(SimpleHTTPRequestHandler):
    """Every path redirects to itself with one more slash: a loop."""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path + "/")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class _CompressingHandler(_QuietHandler):
    """Serves each file gzip-compressed on the way (Content-Encoding: gzip), as some mirrors and proxies do."""

    def do_GET(self) -> None:
        body = gzip.compress((Path(self.directory) / self.path.lstrip("/")).read_bytes())
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serving(handler, folder) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def test_a_download_is_announced_and_its_mirrors_password_is_never_shown(server, tmp_path, monkeypatch, capsys):
    """A download printed nothing unless stderr was a terminal (535 MB into a log looked like a hang), and a mirror's
    user name and password were written into the one-line error twice (a helper's finds)."""
    content = encode_idx(np.arange(10, dtype=np.uint8))
    (server / LABELS_NAME).write_bytes(gzip.compress(content))
    _pin(monkeypatch, LABELS_NAME, content)
    port = os.environ[BASE_URL_ENV].rsplit(":", 1)[1]
    monkeypatch.setenv(BASE_URL_ENV, f"http://reader:s3cret@127.0.0.1:{port}")
    locate(LABELS_NAME, tmp_path / "data")
    assert capsys.readouterr().err == f"inkread: downloading {LABELS_NAME} from http://127.0.0.1:{port}/{LABELS_NAME}\n"
    with pytest.raises(DatasetError) as missing:
        locate("t10k-images-idx3-ubyte.gz", tmp_path / "data")
    assert "s3cret" not in str(missing.value) and "reader" not in str(missing.value)
    assert "HTTP 404" in str(missing.value) and "(a mirror: set" not in str(missing.value)  # one is set already


def test_a_redirect_loop_is_named_so_not_http_302(tmp_path, monkeypatch):
    httpd = _serving(_RedirectingHandler, tmp_path)
    try:
        monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{httpd.server_port}")
        with pytest.raises(DatasetError, match="redirected too many times \\(a redirect loop\\)"):
            locate(LABELS_NAME, tmp_path / "data")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_file_compressed_on_the_way_is_kept_under_the_name_of_what_it_is(tmp_path, monkeypatch):
    """A server sending Content-Encoding: gzip had the IDX data stored unzipped under the .gz name (gunzip -t: "not in
    gzip format"), five times as large. The file's own bytes are asked for; sent unzipped anyway, it is named so."""
    served = tmp_path / "served"
    served.mkdir()
    content = encode_idx(np.arange(10, dtype=np.uint8))
    (served / LABELS_NAME).write_bytes(content)  # the worst case: sent as plain IDX, whatever is asked
    _pin(monkeypatch, LABELS_NAME, content)
    httpd = _serving(_CompressingHandler, served)
    try:
        monkeypatch.setenv(BASE_URL_ENV, f"http://127.0.0.1:{httpd.server_port}")
        path = locate(LABELS_NAME, tmp_path / "data")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert path == tmp_path / "data" / "mnist" / LABELS_NAME.removesuffix(".gz")
    assert path.read_bytes() == content and not (tmp_path / "data" / "mnist" / LABELS_NAME).exists()
    assert locate(LABELS_NAME, tmp_path / "data") == path  # found again, not downloaded again


def test_data_fetch_takes_names_in_any_case(server, tmp_path, monkeypatch):
    content = encode_idx(np.arange(10, dtype=np.uint8))
    monkeypatch.setitem(GROUPS, "mnist", [LABELS_NAME])  # one small file stands for the set
    (server / LABELS_NAME).write_bytes(gzip.compress(content))
    _pin(monkeypatch, LABELS_NAME, content)
    assert [path.name for path in fetch(["MNIST"], data_dir=tmp_path / "data")] == [LABELS_NAME]
