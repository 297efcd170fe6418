"""Corrections: drawings a user labelled by hand on the web page, kept for fine-tuning.

They live in one SQLite database, ``corrections.sqlite3`` in the inkread data directory, in WAL
mode with ``synchronous=FULL``: a correction is on disk (the WAL fsynced) before ``add`` returns,
so the web app only says "saved" for corrections that survive a crash or ``kill -9``, and SQLite's
journal keeps the file consistent whatever moment the process dies.

``export_corrections`` writes them as a ``folder:`` data set (``labels.csv`` + PNG files) that
``inkread train --init-from digits --dataset folder:DIR`` fine-tunes on.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, NamedTuple

from inkread.errors import InkreadError, StorageError, option
from inkread.files import check_replaceable, default_data_dir, write_bytes_atomic, write_text_atomic

DB_FILE = "corrections.sqlite3"
SCHEMA_VERSION = 2  # 2: model_folder
EXPORTED_FILE, EXPORTED_FILES = "correction-{id:06d}.png", "correction-*.png"  # beside labels.csv in an export
BUSY_TIMEOUT_S = 10.0  # concurrent writers wait for each other instead of failing at once

_SCHEMA = ("""
CREATE TABLE IF NOT EXISTS corrections (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused, so exports stay stable
    created_at TEXT    NOT NULL,                   -- ISO 8601, UTC
    model      TEXT    NOT NULL,                   -- the model the user corrected
    label      TEXT    NOT NULL,                   -- the right answer (a class of that model)
    predicted  TEXT,                               -- what the model said, if the page told us
    image      BLOB    NOT NULL,                   -- PNG
    model_folder TEXT                              -- the model's bundle folder, unless it is a shipped one
)""", "CREATE INDEX IF NOT EXISTS corrections_model ON corrections (model, id)")


MAX_ID = 2**62  # SQLite integers are 64-bit: larger ids cannot exist (and would overflow)


@dataclass(frozen=True)
class Correction:
    """One stored correction (without its image, which ``CorrectionStore.image`` returns)."""

    id: int
    created_at: str
    model: str
    label: str
    predicted: str | None


def database_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Where the corrections database lives for this data directory."""
    return default_data_dir(data_dir) / DB_FILE


class CorrectionStore:
    """The corrections database; safe to use from many threads (one connection per operation)."""

    def __init__(self, path: str | os.PathLike, create: bool = True):
        self.path = Path(path)
        self._uri = self.path.resolve().as_uri()  # opened by URI: see _connect
        if not create and not self.path.exists():
            raise InkreadError(f"no corrections database at {self.path}: draw and correct some characters "
                               f"on the web page (inkread serve) first, or pass the right {option('data_dir')}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect(create=True) as conn:
                # WAL is a property of the file: set once, every later connection uses it
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")  # two servers starting on one old file: one migrates it
                found = conn.execute("PRAGMA user_version").fetchone()[0]  # 0: a new file
                if found > SCHEMA_VERSION:  # checked first: setting our version would downgrade it
                    raise StorageError(f"the corrections database {self.path} was written by a newer inkread "
                                       f"(schema {found}; this one knows up to {SCHEMA_VERSION}): upgrade inkread, "
                                       f"or pass another {option('data_dir')}")
                if found == 1:  # schema 1 knew the model by name only
                    conn.execute("ALTER TABLE corrections ADD COLUMN model_folder TEXT")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open the corrections database {self.path}: {error}: "
                               f"check the {option('data_dir')} permissions and free space") from None

    @contextlib.contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A fresh connection, committed on success and always closed. Only the constructor creates the file:
        one deleted while the server ran came back as an empty file without its table."""
        uri = f"{self._uri}?mode={'rwc' if create else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            # FULL: fsync the WAL at every commit, so an acknowledged correction survives power loss
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _storage(self, doing: str, check: str = "the folder") -> Iterator[sqlite3.Connection]:
        """A connection to ``doing`` something; a locked, missing or broken database is a ``StorageError`` (503)
        whose message says to check ``check`` of the database's folder."""
        try:
            with self._connect() as conn:
                yield conn
        except sqlite3.Error as error:
            if not self.path.exists():  # deleted (with its folder, maybe) while the server ran: trying again is no use
                raise StorageError(f"cannot {doing}: the corrections database {self.path} is gone: restore it, or restart "
                                   "the server to start a new one") from None
            raise StorageError(f"cannot {doing} in {self.path}: {error}: try again; if it persists, check {check} {self.path.parent}") from None

    def add(self, *, image_png: bytes, label: str, model: str, predicted: str | None = None,
            model_folder: str | None = None) -> Correction:
        """Store a correction and return it once it is committed to disk. ``model_folder``: where the model's
        bundle is, for one not shipped (its name alone cannot be fine-tuned from)."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self._storage("save the correction", "the free space and permissions of") as conn:
            cursor = conn.execute(
                "INSERT INTO corrections (created_at, model, label, predicted, image, model_folder) VALUES (?, ?, ?, ?, ?, ?)",
                (created, model, label, predicted, sqlite3.Binary(image_png), model_folder),
            )  # autocommit mode (isolation_level=None): committed and fsynced when execute returns
            return Correction(cursor.lastrowid, created, model, label, predicted)

    def count(self, model: str | None = None) -> int:
        """How many corrections are stored (for one model, or all)."""
        where, args = _model_filter(model)
        with self._storage("read the corrections") as conn:
            return conn.execute(f"SELECT COUNT(*) FROM corrections {where}", args).fetchone()[0]

    def models(self) -> dict[str, int]:
        """How many corrections each model has, by model name."""
        with self._storage("read the corrections") as conn:
            return dict(conn.execute("SELECT model, COUNT(*) FROM corrections GROUP BY model ORDER BY model").fetchall())

    def page(self, limit: int = 20, offset: int = 0, model: str | None = None) -> list[Correction]:
        """A page of corrections, newest first."""
        return self.page_and_total(limit, offset, model)[0]

    def page_and_total(self, limit: int = 20, offset: int = 0, model: str | None = None) -> tuple[list[Correction], int]:
        """A page of corrections, newest first, and how many there are in all, as of one moment.

        One read transaction (a WAL snapshot): a correction added or deleted meanwhile cannot make
        the total disagree with the page.
        """
        where, args = _model_filter(model)
        with self._storage("read the corrections") as conn:
            conn.execute("BEGIN")
            try:
                rows = conn.execute(
                    f"SELECT id, created_at, model, label, predicted FROM corrections {where} "
                    "ORDER BY id DESC LIMIT ? OFFSET ?",
                    (*args, limit, offset),
                ).fetchall()
                total = conn.execute(f"SELECT COUNT(*) FROM corrections {where}", args).fetchone()[0]
            finally:
                conn.execute("COMMIT")
        return [Correction(*row) for row in rows], total

    def get(self, correction_id: int) -> Correction | None:
        """One correction, or None if there is no such id."""
        with self._storage("read the corrections") as conn:
            row = conn.execute("SELECT id, created_at, model, label, predicted FROM corrections WHERE id = ?",
                               (correction_id,)).fetchone()
        return None if row is None else Correction(*row)

    def image(self, correction_id: int) -> bytes | None:
        """The PNG of one correction, or None if there is no such id."""
        with self._storage("read the corrections") as conn:
            row = conn.execute("SELECT image FROM corrections WHERE id = ?", (correction_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def delete(self, correction_id: int) -> bool:
        """Remove one correction (a label taught by mistake); False if there is no such id."""
        with self._storage("delete the correction", "the free space and permissions of") as conn:
            return conn.execute("DELETE FROM corrections WHERE id = ?", (correction_id,)).rowcount > 0

    def model_folder(self, model: str) -> str | None:
        """The bundle folder the latest correction of ``model`` was made with (None: a shipped model)."""
        with self._storage("read the corrections") as conn:
            row = conn.execute("SELECT model_folder FROM corrections WHERE model = ? ORDER BY id DESC LIMIT 1",
                               (model,)).fetchone()
        return None if row is None else row[0]

    def iter_with_images(self, model: str | None = None) -> Iterator[tuple[Correction, bytes]]:
        """Every correction with its PNG, oldest first."""
        where, args = _model_filter(model)
        with self._storage("read the corrections") as conn:
            rows = conn.execute(
                f"SELECT id, created_at, model, label, predicted, image FROM corrections {where} ORDER BY id", args
            )
            for *fields, image in rows:
                yield Correction(*fields), bytes(image)


def _model_filter(model: str | None) -> tuple[str, tuple]:
    return ("WHERE model = ?", (model,)) if model else ("", ())


class Exported(NamedTuple):
    """What ``export_corrections`` wrote: how many corrections, of which model, and where its bundle was
    (None for a shipped model)."""

    count: int
    model: str
    model_folder: str | None = None

    def fine_tune_from(self) -> str:
        """What ``inkread train --init-from`` takes to fine-tune that model: its folder, else a shipped model's
        name, else (corrections stored before inkread kept the folder) a stand-in for the path."""
        from inkread.inference.onnx_model import PRETRAINED

        if self.model_folder:
            return self.model_folder
        start = self.model.split("+")[0]  # "digits+lines" corrections are single characters of its digits model
        return start if start in PRETRAINED else f"PATH-OF-{start}"


def _nothing_to_export(path: Path, model: str | None, models: dict[str, int]) -> str:
    """What to say when no correction is exported: a line model is never taught one, another model may have some."""
    if model is not None and _reads_lines(model):
        return (f"{model!r} is a line model: the web page's 'Wrong? Teach it' teaches models of single characters only, "
                "so it has no corrections; a line model is trained with inkread train-lines")
    if model is not None and models:
        counts = ", ".join(f"{name} ({count})" for name, count in models.items())
        return f"no corrections for the model {model!r} in {path}: it holds corrections for {counts}: name one of them"
    which = f"for the model {model!r} " if model else ""
    return f"no corrections {which}in {path}: teach the web page some drawings first (the 'Wrong? Teach it' button)"


def _reads_lines(model: str) -> bool:
    """Whether ``model`` (a name or a bundle folder) is a line model; False if it cannot be found or read."""
    from inkread.inference.bundle_format import LINE_ARCH, ModelMeta
    from inkread.inference.onnx_model import resolve_bundle

    try:
        return ModelMeta.read(resolve_bundle(model)).arch == LINE_ARCH
    except InkreadError:
        return False


def export_corrections(out_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                       model: str | None = None) -> Exported:
    """Write the stored corrections as a ``folder:`` data set in ``out_dir``; returns how many, of which model.

    ``model`` picks one model's corrections; without it the store must hold one model's only.

    ``out_dir/labels.csv`` (columns ``file,label``) lists ``correction-<id>.png`` files written
    beside it. Every file is written atomically and ``labels.csv`` last, so an interrupted export
    never leaves a ``labels.csv`` naming a missing or half-written image.
    """
    from inkread.data.folder import LABELS_CSV  # the folder: data set's file (imported here: the server need not load it)

    store = CorrectionStore(database_path(data_dir), create=False)
    out = Path(out_dir)
    # An earlier export is written over; anything else (a data set's own labels.csv and images) would
    # be unlabelled by the new labels.csv.
    check_replaceable(out, (LABELS_CSV, EXPORTED_FILES))
    models = store.models()
    if model is None and len(models) > 1:  # one data set of digits and letters fits no model's labels
        counts = ", ".join(f"{name}: {count}" for name, count in models.items())
        raise InkreadError(f"the corrections are for several models ({counts}): export one at a time with {option('model')}")
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["file", "label"])
    written = set()
    for correction, png in store.iter_with_images(model):
        name = EXPORTED_FILE.format(id=correction.id)
        write_bytes_atomic(out / name, png)
        writer.writerow([name, correction.label])
        written.add(name)
    if not written:
        raise InkreadError(_nothing_to_export(store.path, model, models))
    write_text_atomic(out / LABELS_CSV, table.getvalue())
    for stale in out.glob(EXPORTED_FILES):  # an earlier export's images that the new labels.csv does not list
        if stale.name not in written:
            stale.unlink(missing_ok=True)
    exported_model = model or next(iter(models))
    return Exported(len(written), exported_model, store.model_folder(exported_model))
