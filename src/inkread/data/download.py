"""The official MNIST and EMNIST files: where they live, where to download them, how to check them.

Files are looked up under their official names in ``<data_dir>/mnist/`` and ``<data_dir>/emnist/``
(gzip-compressed, or already gunzipped without the ``.gz``). A missing file is downloaded with
pooch into a temporary folder, checked, then renamed into place, so a failed or corrupt download
never leaves a file that looks good.

Checksums are pinned on the *uncompressed* content, not on the ``.gz`` bytes: re-compressed
copies (such as ../shared/datasets) differ byte-wise from the official downloads but hold the
same IDX payload, so both pass. The EMNIST archive ``gzip.zip`` is also checked as a whole.

Set ``INKREAD_DOWNLOAD_BASE_URL`` (or pass ``base_url``) to download from another server, e.g. a
local mirror or a test server: files are then fetched from ``<base_url>/<official name>``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from inkread.errors import DatasetError, first_line, option
from inkread.data.idx import IMAGES_MAGIC, LABELS_MAGIC, REDOWNLOAD_HINT, content_hash, parse_idx, read_idx_bytes
from inkread.data.mapping import SPLITS, mapping_name, read_mapping
from inkread.data.watchdog import SpeedWatchdog
from inkread.files import current_umask, default_data_dir, disk_full, disk_full_error, new_staging_folder

BASE_URL_ENV = "INKREAD_DOWNLOAD_BASE_URL"
# (connect, read) for requests: a server that accepts but stalls fails in 30 s, not minutes per mirror
TIMEOUT_SECONDS = (15, 30)
# (bytes, seconds): a download that gets fewer bytes in a window of that many seconds is abandoned. A server that
# trickles bytes never trips the read timeout, which is per read; this floor (170 bytes/s) only catches that.
MIN_SPEED = (10_000, 60)

MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")


@dataclass(frozen=True)
class RemoteArchive:
    """A zip archive that holds several files under ``member_prefix``."""

    name: str
    urls: tuple[str, ...]
    hash: str  # pooch "algorithm:hexdigest" of the archive file itself
    member_prefix: str


@dataclass(frozen=True)
class RemoteFile:
    """An official data file: its name, folder under the data dir, and how to get and check it."""

    name: str
    folder: str
    urls: tuple[str, ...] = ()
    content_hash: str | None = None  # "md5:..." or "sha256:..." of the uncompressed content; None: unknown
    archive: RemoteArchive | None = None


# Official EMNIST archive; its MD5 is the one torchvision pins for the same URL.
EMNIST_ARCHIVE = RemoteArchive(
    name="gzip.zip",
    urls=("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",),
    hash="md5:58c8d27c78d21e728a6bc7b3cc06412e",
    member_prefix="gzip/",
)
EMNIST_ARCHIVE_SIZE = "about 535 MB"

# MD5 of the uncompressed official MNIST files (the same values are checked in mnist/SOURCE.md).
_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}

# SHA-256 of the uncompressed EMNIST files known here (from emnist/SOURCE.md). The content hashes
# of the other EMNIST files are not known here: for them the archive MD5 is checked on download and
# the IDX header (magic, 28x28, payload length) every time the file is read.
_EMNIST_SHA256 = {
    "emnist-byclass-test-images-idx3-ubyte.gz": "385559d7d5c96f49cd6b55b3e9e76d7ecbf568897b6067e8cac8f1ffc2f50f81",
    "emnist-byclass-test-labels-idx1-ubyte.gz": "842d01413932b3ce7afbc9990376a16f8880a212bb42d66fa2922b4218cf300a",
    "emnist-bymerge-test-images-idx3-ubyte.gz": "68b2763a83f2661dace0df055282a50f4d4aea3dab401f2a04e2e7e2c5bc8590",
    "emnist-bymerge-test-labels-idx1-ubyte.gz": "17b8bd69b4e584fa425d7268b1f58882ef4bf7f241a6116fa606bb6d36839b5a",
}


def emnist_file_names(split: str) -> list[str]:
    """Official names of a split's images and labels files (train, test)."""
    return [f"emnist-{split}-{part}-{kind}-ubyte.gz"
            for part in ("train", "test") for kind in ("images-idx3", "labels-idx1")]


def _registry() -> dict[str, RemoteFile]:
    files = {name: RemoteFile(name, "mnist", tuple(url + name for url in MNIST_URLS), f"md5:{md5}")
             for name, md5 in _MNIST_MD5.items()}
    for split in SPLITS:
        for name in emnist_file_names(split) + [mapping_name(split)]:
            known = _EMNIST_SHA256.get(name)
            files[name] = RemoteFile(name, "emnist", content_hash=known and f"sha256:{known}", archive=EMNIST_ARCHIVE)
    return files


REGISTRY: dict[str, RemoteFile] = _registry()

GROUPS: dict[str, list[str]] = {
    "mnist": list(_MNIST_MD5),
    "emnist": [name for name, entry in REGISTRY.items() if entry.folder == "emnist"],
    **{f"emnist-{split}": emnist_file_names(split) + [mapping_name(split)] for split in SPLITS},
}


def fetch(names: list[str] | tuple[str, ...], data_dir: str | os.PathLike | None = None,
          base_url: str | None = None) -> list[Path]:
    """Make sure the files of each group in ``names`` ("mnist", "emnist", "emnist-SPLIT") are present
    and good: download the missing ones, check every one. Returns their paths."""
    names = [name.lower() for name in names]  # "MNIST" as --dataset takes it
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        raise DatasetError(f"unknown data set {unknown[0]!r} to fetch: choose from {', '.join(GROUPS)}")
    paths = []
    for group in names:
        for file_name in GROUPS[group]:
            path = locate(file_name, data_dir, base_url=base_url)
            if path.name.endswith(".txt"):
                read_mapping(path)
            else:
                read_checked(path)
            paths.append(path)
    return paths


def locate(name: str, data_dir: str | os.PathLike | None = None, *, base_url: str | None = None) -> Path:
    """The path of the official file ``name`` in the data dir, downloading it first if it is missing."""
    entry = REGISTRY[name]
    folder = default_data_dir(data_dir) / entry.folder
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
        if candidate.is_dir():  # said now: the download would fail only at its end, on renaming over it
            raise DatasetError(f"{candidate} is a folder: remove it, and run again to get the file {name}")
    return _download(entry, folder, base_url)


def read_checked(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, checking its uncompressed content against the pinned checksum if known."""
    path = Path(path)
    data = read_idx_bytes(path)
    _check_content(path, data)
    return parse_idx(data, _magic_of(path.name), where=path)


def _magic_of(name: str) -> int:
    return IMAGES_MAGIC if "idx3" in name else LABELS_MAGIC


def _check_content(path: Path, data: bytes, origin: str | None = None) -> None:
    """Raise ``DatasetError`` if ``data`` (the uncompressed content of ``path``) has a wrong checksum."""
    name = path.name if path.name in REGISTRY else path.name + ".gz"
    entry = REGISTRY.get(name)
    if entry is None or entry.content_hash is None:
        return
    algorithm, expected = entry.content_hash.split(":")
    found = content_hash(data, algorithm)
    if found != expected:
        if origin:
            raise DatasetError(f"{name} downloaded from {origin} has the wrong content ({algorithm} {found}, "
                               f"expected {expected}), so it was not kept: try again later or use another mirror")
        raise DatasetError(f"{path} has the wrong content ({algorithm} {found}, expected {expected}): "
                           "delete it and run again to re-download it")


def _base_urls(entry_name: str, urls: tuple[str, ...], base_url: str | None) -> tuple[str, ...]:
    """Where to download ``entry_name``: from the mirror if one is set, else from ``urls``.

    A mirror that is not an http(s) address is refused here, before any download: the downloader
    fetches nothing else, and a plain path would fail file by file with a confusing error.
    """
    base, source = (base_url, "base_url") if base_url else (os.environ.get(BASE_URL_ENV), BASE_URL_ENV)
    if not base:
        return urls
    try:
        parts = urlsplit(base)
    except ValueError:  # 'http://[::1': an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise DatasetError(f"{source} {base!r} is not an http:// or https:// address: give a mirror's URL such as "
                           f"http://localhost:8000/ (files already on this machine: use {option('data_dir')} instead)")
    return (f"{base.rstrip('/')}/{entry_name}",)


def _how_to_get(entry: RemoteFile, folder: Path, base_url: str | None, writable: bool = True) -> str:
    """What to do about a missing file: another data dir, or a download (into ``folder`` if it is writable)."""
    if entry.archive:
        url = _shown(_base_urls(entry.archive.name, entry.archive.urls, base_url)[0])
        what = f"{url} ({EMNIST_ARCHIVE_SIZE}; the files are extracted from it)"
    else:
        what = _shown(_base_urls(entry.name, entry.urls, base_url)[0])
    if writable:
        source = f"download {what} into {folder}"
    else:
        source = (f"run inkread data fetch {entry.folder} --data-dir DIR with a writable DIR, which downloads {what}, "
                  f"and use that {option('data_dir')}")
    mirror = "" if base_url or os.environ.get(BASE_URL_ENV) else f" (a mirror: set {BASE_URL_ENV})"
    return f"set INKREAD_DATA_DIR or pass {option('data_dir')} to a folder that has {entry.folder}/{entry.name}, or {source}{mirror}"


def _shown(url: str) -> str:
    """``url`` as messages show it: without a user name and password (a mirror's, which logs would keep)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def is_writable(folder: Path) -> bool:
    """Whether files may be created in ``folder`` (or in its nearest existing parent, if it does not exist).

    A folder without write permission bits counts as read-only even for root, who could write
    anyway: a shared read-only data set must not get downloads or caches added to it.
    """
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK) and bool(path.stat().st_mode & stat.S_IWUSR)


def _download(entry: RemoteFile, folder: Path, base_url: str | None) -> Path:
    """Download (or extract from the archive) ``entry`` into ``folder``; check it before it is placed."""
    if not is_writable(folder):
        existing = next(path for path in (folder, *folder.parents) if path.exists())
        if not existing.is_dir():
            problem = f"and {existing} is a file, not a folder"
        else:  # the folder itself, or the one it would be made in (naming a missing folder read-only misled)
            problem = "which is read-only" if existing == folder else f"and {existing}, where it would be made, is read-only"
        raise DatasetError(f"{entry.name} is not in {folder}, {problem}: {_how_to_get(entry, folder, base_url, writable=False)}")
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # .download.<pid>-*.staging: one left by a killed download (SIGTERM, SIGKILL) is removed on the next
        staging = new_staging_folder(folder / "download")
    except OSError as error:
        raise DatasetError(f"{entry.name} is not in {folder}, which is not writable ({error.strerror}): "
                           f"{_how_to_get(entry, folder, base_url, writable=False)}") from None
    try:
        if entry.archive:
            archive = folder / entry.archive.name
            if not archive.is_file():
                _retrieve(entry.archive.name, entry.archive.urls, entry.archive.hash, archive, staging,
                          entry, base_url)
            fresh, origin = _extract(archive, entry, staging), str(archive)
        else:
            fresh = staging / entry.name
            origin = _retrieve(entry.name, entry.urls, None, fresh, staging, entry, base_url)
        _check_download(fresh, entry, origin)
        final = folder / entry.name
        if final.suffix == ".gz" and not _gzipped(fresh):  # sent unzipped after all: named as an unzipped file
            final = folder / entry.name.removesuffix(".gz")
        os.replace(fresh, final)  # its permissions: _retrieve's _share, or open()'s for a file extracted from the zip
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for path in created:  # a failed download leaves no empty folders behind (a mistyped --data-dir)
            with contextlib.suppress(OSError):
                path.rmdir()


def _retrieve(name: str, urls: tuple[str, ...], known_hash: str | None, target: Path, staging: Path,
              entry: RemoteFile, base_url: str | None) -> str:
    """Download ``name`` from the first URL that works to ``target`` (via ``staging``); the URL used."""
    try:
        import pooch
    except ImportError:
        raise DatasetError(f"downloading {name} needs pooch: pip install 'inkread[train]'") from None
    pooch.get_logger().setLevel(logging.WARNING)  # else pooch logs every download and its hash at INFO level
    errors = []
    for url in _base_urls(name, urls, base_url):
        # said whatever stderr is: a 535 MB download into a log looked like a hang (the progress bar is a terminal's)
        print(f"inkread: downloading {name} from {_shown(url)}", file=sys.stderr, flush=True)
        # the file's own bytes: a server compressing them on the way (Content-Encoding: gzip) had requests store the
        # IDX data unzipped under the .gz name, five times as large
        http = pooch.HTTPDownloader(progressbar=sys.stderr.isatty(), timeout=TIMEOUT_SECONDS,
                                    headers={"Accept-Encoding": "identity"})
        watchdog = SpeedWatchdog(*MIN_SPEED)
        try:
            # The hash is checked below, not by pooch: its ValueError for a wrong hash is also what
            # requests raises for a malformed URL, which must only mean "this URL failed".
            with watchdog:
                fetched = Path(pooch.retrieve(url, known_hash=None, fname=f"{name}.part", path=staging,
                                              downloader=watchdog.downloader(http)))
        except Exception as error:  # requests/OS errors vary by platform; all mean "this URL failed"
            if disk_full(error):  # ... but a full disk: the next URL would fill it too
                raise disk_full_error(staging.parent / name) from None
            why = (f"the server sent under {MIN_SPEED[0]:,} bytes in {MIN_SPEED[1]} s" if watchdog.too_slow
                   else _why_it_failed(error))
            errors.append(f"{_shown(url)}: {why}")
            continue
        if known_hash:
            algorithm, expected = known_hash.split(":")
            found = pooch.file_hash(str(fetched), alg=algorithm)
            if found != expected:
                raise DatasetError(f"{name} downloaded from {_shown(url)} has the wrong checksum ({algorithm} {found}, expected "
                                   f"{expected}), so it was not kept: try again later or use another mirror")
        _share(fetched)
        os.replace(fetched, target)
        return _shown(url)
    folder = staging.parent
    raise DatasetError(f"{entry.name} is not in {folder} and could not be downloaded ({'; '.join(errors)}): "
                       f"{_how_to_get(entry, folder, base_url)}")


# What requests' and urllib3's long messages say, in a few words (the cause comes last in them, and was cut off)
_FAILURES = (("Failed to resolve", "the host name could not be looked up (no internet connection?)"),
             ("Name or service not known", "the host name could not be looked up (no internet connection?)"),
             ("Temporary failure in name resolution", "the host name could not be looked up (no internet connection?)"),
             ("Connection refused", "the connection was refused"),
             ("Network is unreachable", "the network is unreachable (no internet connection?)"),
             ("timed out", f"the server did not answer in time ({TIMEOUT_SECONDS[0]} s to connect, {TIMEOUT_SECONDS[1]} s to send)"),
             ("CERTIFICATE_VERIFY_FAILED", "the server's certificate is not trusted"),
             ("IncompleteRead", "the server closed the connection before the end of the file"))


def _why_it_failed(error: Exception) -> str:
    """Why a download failed, in a few words: the HTTP status, or what the connection ran into."""
    if type(error).__name__ == "TooManyRedirects":  # it carries the last redirect's response: "HTTP 302 Found"
        return "the server redirected too many times (a redirect loop)"
    response = getattr(error, "response", None)
    if getattr(response, "status_code", None):
        return f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    text = str(error)
    return next((words for pattern, words in _FAILURES if pattern in text),
                f"{type(error).__name__}: {first_line(error, 100)}")


def _share(path: Path) -> None:
    """Give a downloaded file the permissions a new file gets here (the umask's), not the temporary
    file's owner-only 0600: a shared data directory must be readable by its other users."""
    os.chmod(path, 0o666 & ~current_umask())


def _gzipped(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _extract(archive: Path, entry: RemoteFile, staging: Path) -> Path:
    """Copy ``entry`` out of the EMNIST zip archive into ``staging``."""
    member = entry.archive.member_prefix + entry.name
    target = staging / entry.name
    try:
        with zipfile.ZipFile(archive) as zipped, zipped.open(member) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
    except KeyError:
        raise DatasetError(f"{archive} has no {member}: delete it and run again to re-download it") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        if disk_full(error):  # the archive is good: only the file taken out of it did not fit
            raise disk_full_error(staging.parent / entry.name) from None
        raise DatasetError(f"{archive} is not a valid zip file ({error}): delete it and run again to re-download it") from None
    return target


def _check_download(path: Path, entry: RemoteFile, origin: str) -> None:
    """Check a fresh download: the content checksum if known, else that it parses as what it claims."""
    def refuse(problem: str) -> DatasetError:
        return DatasetError(f"{entry.name} from {origin} {problem}, so it was not kept: try again later or use another mirror")

    if entry.name.endswith(".txt"):
        try:
            read_mapping(path)
        except DatasetError:
            raise refuse("is not a valid mapping file") from None
        return
    with open(path, "rb") as handle:
        if handle.read(512).lstrip().lower().startswith((b"<!doctype html", b"<html")):
            raise refuse("is a web page, not the file (a login or error page: check the address)")
    try:
        data = read_idx_bytes(path)
        parse_idx(data, _magic_of(entry.name), where="it")
    except DatasetError as error:
        # the message names the temporary file, which is gone by the time it is read
        problem = str(error).removesuffix(": " + REDOWNLOAD_HINT).replace(str(path), entry.name)
        raise refuse(f"is broken ({problem})") from None
    _check_content(path, data, origin=origin)

