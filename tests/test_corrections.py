"""The corrections store (SQLite, WAL, synchronous=FULL) and ``inkread corrections export``."""

from __future__ import annotations

import csv
import sqlite3
import threading

import pytest
from PIL import Image

from helpers import png, render

from inkread import cli
from inkread.errors import InkreadError, StorageError
from inkread.serving.corrections import DB_FILE, SCHEMA_VERSION, CorrectionStore, database_path, export_corrections


@pytest.fixture
def store(tmp_path):
    return CorrectionStore(database_path(tmp_path))


def add(store, label: str, model: str = "digits", predicted: str | None = None):
    return store.add(image_png=png(render(label)), label=label, model=model, predicted=predicted)


def test_database_lives_in_the_data_dir_in_wal_mode(tmp_path, store):
    assert store.path == tmp_path / DB_FILE and store.path.exists()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store._connect() as conn:  # every connection of the store fsyncs each commit
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_data_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INKREAD_DATA_DIR", str(tmp_path / "env"))
    assert database_path() == tmp_path / "env" / DB_FILE


def test_add_get_page_count_image(store):
    first = add(store, "1", predicted="7")
    second = add(store, "2")
    third = add(store, "A", model="characters")
    assert first.id < second.id < third.id
    assert store.get(first.id) == first and store.get(9999) is None
    assert first.predicted == "7" and first.created_at.endswith("+00:00")
    assert [c.id for c in store.page(limit=10)] == [third.id, second.id, first.id]  # newest first
    assert [c.id for c in store.page(limit=1, offset=1)] == [second.id]
    assert [c.id for c in store.page(model="digits")] == [second.id, first.id]
    assert store.count() == 3 and store.count("digits") == 2 and store.count("nope") == 0
    assert store.image(first.id) == png(render("1")) and store.image(424242) is None


def test_a_reopened_store_keeps_everything(tmp_path, store):
    saved = add(store, "5")
    again = CorrectionStore(database_path(tmp_path))
    assert again.get(saved.id) == saved
    assert add(again, "6").id == saved.id + 1


def test_a_database_of_a_newer_schema_is_refused_untouched(tmp_path, store):
    add(store, "4")
    with sqlite3.connect(store.path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match=f"written by a newer inkread \\(schema {SCHEMA_VERSION + 1}; .*upgrade inkread") as caught:
        CorrectionStore(store.path)
    assert "\n" not in str(caught.value)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1  # not set back to ours


def test_concurrent_writers_all_succeed(store):
    ids, errors = [], []

    def write(n: int) -> None:
        try:
            for _ in range(5):
                ids.append(store.add(image_png=b"\x89PNG fake", label=str(n), model="digits").id)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 30 and store.count() == 30


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InkreadError, match="corrections database"):
        CorrectionStore(blocker / DB_FILE)


# --- export ----------------------------------------------------------------------------------------

def test_export_writes_a_folder_dataset(tmp_path, store):
    saved = [add(store, label) for label in "3141"] + [add(store, "B", model="characters")]
    out = tmp_path / "export"
    assert export_corrections(out, data_dir=tmp_path, model="digits") == (4, "digits", None)
    with open(out / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["label"] for row in rows] == list("3141")
    for row, correction in zip(rows, saved):
        assert row["file"] == f"correction-{correction.id:06d}.png"
        assert (out / row["file"]).read_bytes() == store.image(correction.id)
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind
    # no filter: digits and letters in one data set would fit neither model
    with pytest.raises(InkreadError, match=r"several models \(characters: 1, digits: 4\).*with model"):
        export_corrections(tmp_path / "all", data_dir=tmp_path)
    assert not (tmp_path / "all").exists()


def test_export_is_a_dataset_inkread_can_train_on(tmp_path, store):
    from inkread.data import load_dataset

    for label in "0123456789" * 2:
        add(store, label)
    out = tmp_path / "export"
    export_corrections(out, data_dir=tmp_path, model="digits")
    data = load_dataset(f"folder:{out}")
    assert data.labels == tuple("0123456789")
    assert len(data.train) + len(data.val) + len(data.test) == 20
    assert data.train.images.shape[1:] == (28, 28)


def test_export_errors(tmp_path, store):
    with pytest.raises(InkreadError, match="no corrections database"):
        export_corrections(tmp_path / "out", data_dir=tmp_path / "elsewhere")
    with pytest.raises(InkreadError, match="no corrections"):
        export_corrections(tmp_path / "out", data_dir=tmp_path)  # the database exists but is empty
    assert not (tmp_path / "out" / "labels.csv").exists()
    add(store, "1")
    with pytest.raises(InkreadError, match=r"for the model 'characters' in .*: it holds corrections for digits \(1\): name one"):
        export_corrections(tmp_path / "out", data_dir=tmp_path, model="characters")
    # a line model is never taught one: the web page's advice would never work ("teach the web page some drawings")
    with pytest.raises(InkreadError, match="^'lines' is a line model: the web page's 'Wrong\\? Teach it' teaches models of "
                                           "single characters only"):
        export_corrections(tmp_path / "out", data_dir=tmp_path, model="lines")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InkreadError, match="is a file"):
        export_corrections(tmp_path / "a-file", data_dir=tmp_path)


def test_export_never_unlabels_a_data_set_already_in_the_folder(tmp_path, store):
    add(store, "7")
    dataset = tmp_path / "myset"
    dataset.mkdir()
    (dataset / "a.png").write_bytes(b"png")
    (dataset / "labels.csv").write_text("file,label\na.png,3\n")
    with pytest.raises(InkreadError, match=r"myset already holds other files \('a.png'\).*new or empty folder"):
        export_corrections(dataset, data_dir=tmp_path)
    assert (dataset / "labels.csv").read_text() == "file,label\na.png,3\n"
    assert sorted(p.name for p in dataset.iterdir()) == ["a.png", "labels.csv"]
    out = tmp_path / "export"
    assert export_corrections(out, data_dir=tmp_path).count == 1
    add(store, "9")
    assert export_corrections(out, data_dir=tmp_path).count == 2  # over an earlier export: fine
    assert (out / "labels.csv").read_text().count("\n") == 3
    add(store, "B", model="characters")  # another model's, over it: the digits' images go with their rows
    assert export_corrections(out, data_dir=tmp_path, model="characters").count == 1
    assert sorted(p.name for p in out.iterdir()) == ["correction-000003.png", "labels.csv"]


def test_corrections_export_command(tmp_path, store, capsys):
    add(store, "7")
    add(store, "9")
    out = tmp_path / "dataset"
    assert cli.main(["corrections", "export", str(out), "--data-dir", str(tmp_path)]) == 0
    assert "wrote 2 corrections of the model digits" in capsys.readouterr().out
    assert (out / "labels.csv").read_text().splitlines() == ["file,label", "correction-000001.png,7", "correction-000002.png,9"]
    assert Image.open(out / "correction-000002.png").size == (280, 280)
    # user errors: one line on stderr, exit code 2
    assert cli.main(["corrections", "export", str(out), "--data-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("inkread: error: no corrections database")


def test_corrections_delete_command(tmp_path, store, capsys):
    add(store, "7")
    add(store, "9")
    assert cli.main(["corrections", "delete", "1", "--data-dir", str(tmp_path)]) == 0
    assert "deleted 1 correction(s)" in capsys.readouterr().out
    assert [c.label for c in store.page()] == ["9"] and store.get(1) is None
    assert cli.main(["corrections", "delete", "1", "2", "--data-dir", str(tmp_path)]) == 1  # 1 is gone already
    assert "deleted 1 correction(s); no correction with id 1" in capsys.readouterr().out
    assert store.count() == 0
    with pytest.raises(SystemExit) as refused:  # an id SQLite cannot hold: argparse's one line, no traceback
        cli.main(["corrections", "delete", "99999999999999999999", "--data-dir", str(tmp_path)])
    assert refused.value.code == 2 and "is not a correction id" in capsys.readouterr().err


def test_corrections_export_suggests_fine_tuning_the_model_they_were_made_for(tmp_path, store, capsys):
    add(store, "B", model="characters")
    add(store, "4", model="digits+lines")
    assert cli.main(["corrections", "export", str(tmp_path / "c"), "--data-dir", str(tmp_path), "--model", "characters"]) == 0
    assert "--init-from characters " in capsys.readouterr().out
    assert cli.main(["corrections", "export", str(tmp_path / "d"), "--data-dir", str(tmp_path), "--model", "digits+lines"]) == 0
    assert "--init-from digits " in capsys.readouterr().out
    add(store, "7", model="mine")  # served from a folder: the server knew it by name only
    assert cli.main(["corrections", "export", str(tmp_path / "m"), "--data-dir", str(tmp_path), "--model", "mine"]) == 0
    assert "--init-from PATH-OF-mine " in capsys.readouterr().out


def test_a_schema_1_database_is_migrated_and_its_corrections_kept(tmp_path):
    """Schema 1 had no model_folder: its corrections stay, exported as before; new ones record the folder."""
    path = database_path(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.executescript("""CREATE TABLE corrections (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
            model TEXT NOT NULL, label TEXT NOT NULL, predicted TEXT, image BLOB NOT NULL); PRAGMA user_version=1;""")
        conn.execute("INSERT INTO corrections (created_at, model, label, image) VALUES ('2026-01-01', 'mine', '7', ?)",
                     (png(render("7")),))
    store = CorrectionStore(path)
    assert [c.label for c in store.page()] == ["7"] and store.model_folder("mine") is None
    assert export_corrections(tmp_path / "old", data_dir=tmp_path).fine_tune_from() == "PATH-OF-mine"
    store.add(image_png=png(render("1")), label="1", model="mine", model_folder="/models/mine")
    assert export_corrections(tmp_path / "new", data_dir=tmp_path).fine_tune_from() == "/models/mine"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    CorrectionStore(path)  # opened again: migrated once, not twice ("duplicate column")


def test_a_database_deleted_while_in_use_says_so_and_is_not_recreated_empty(tmp_path):
    """The data folder removed while the server ran: every correction was a 503 "try again" (no use), and a
    read left an empty database file without its table behind ("no such table" for ever after)."""
    import shutil

    store = CorrectionStore(database_path(tmp_path / "data"))
    store.add(image_png=png(render("3")), label="3", model="digits")
    shutil.rmtree(tmp_path / "data")
    for attempt in (lambda: store.add(image_png=png(render("3")), label="3", model="digits"), store.count):
        with pytest.raises(StorageError, match=r"the corrections database .* is gone: restore it, or restart the server"):
            attempt()
    (tmp_path / "data").mkdir()
    with pytest.raises(StorageError, match="is gone"):
        store.count()
    assert not store.path.exists()  # no empty file left for the next request to fail on


def test_the_printed_fine_tuning_command_runs_as_pasted(tmp_path, store, capsys):
    """An export folder with a space ("my corrections") was printed unquoted: pasted, argparse saw two arguments."""
    import shlex

    add(store, "7")
    out = tmp_path / "my corrections ✓"
    assert cli.main(["corrections", "export", str(out), "--data-dir", str(tmp_path)]) == 0
    command = capsys.readouterr().out.split("with: ", 1)[1].rstrip(")\n")
    words = shlex.split(command)
    assert words[:4] == ["inkread", "train", "--dataset", f"folder:{out}"] and words[4:6] == ["--init-from", "digits"]
