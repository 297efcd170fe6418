"""load_dataset: mnist, folder:, csv:, limits, label sets and errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inkread.data import DatasetSplits, ImageSet, load_dataset
from inkread.errors import DatasetError
from inkread.labels import DIGITS, LABEL_SETS


def _draw(path, kind: int, variant: int = 0) -> None:
    """A dark-on-white drawing: a different simple shape per kind, a little wider per variant
    (every image of a class differs: folders are split by the images' content)."""
    image = Image.new("L", (64, 64), 255)
    draw = ImageDraw.Draw(image)
    grow = variant % 8
    shapes = [lambda: draw.ellipse((16 - grow, 8, 48 + grow, 56), outline=0, width=5),
              lambda: draw.line((34 + grow, 6, 30 - grow, 58), fill=0, width=6),  # a "1" (slanted like a hand would)
              lambda: draw.line((10, 10 + grow, 54, 54 - grow), fill=0, width=6)]
    shapes[kind % 3]()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _class_folders(root, labels="012", per_class=10):
    for i, label in enumerate(labels):
        for n in range(per_class):
            _draw(root / label / f"{n}.png", i, n)
    return root


# ---------------------------------------------------------------- mnist (real files)

def test_mnist_counts_and_format(shared_datasets):
    splits = load_dataset("mnist", shared_datasets)
    assert isinstance(splits, DatasetSplits) and isinstance(splits.train, ImageSet)
    assert splits.counts() == {"train": 54000, "val": 6000, "test": 10000}
    assert splits.labels == DIGITS and splits.recipe == "mnist" and splits.name == "mnist"
    assert splits.train.images.dtype == np.uint8 and splits.train.images.shape[1:] == (28, 28)
    assert splits.test.targets.dtype == np.int64
    # The official test histogram (mnist/SOURCE.md); train + val together make the official train one.
    assert np.bincount(splits.test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    together = np.concatenate([splits.train.targets, splits.val.targets])
    assert np.bincount(together).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert splits.train.images.mean() < 60  # ink high: mostly black background
    assert splits.source["counts"] == splits.counts() and len(splits.source["files"]) == 4

    other = load_dataset("mnist", shared_datasets, seed=1, val_fraction=0.2, limit=900)
    assert other.counts() == {"train": 900, "val": 225, "test": 188}  # 900/48000 of 12000 and 10000, rounded up
    assert not np.array_equal(other.val.targets[:200], splits.val.targets[:200])


def test_mnist_into_a_larger_label_set(shared_datasets):
    bymerge = LABEL_SETS["bymerge"]
    splits = load_dataset("mnist", shared_datasets, labels=bymerge, limit=100)
    assert splits.labels == bymerge
    plain = load_dataset("mnist", shared_datasets, limit=100)
    assert [bymerge[t] for t in splits.test.targets] == [DIGITS[t] for t in plain.test.targets]
    with pytest.raises(DatasetError, match="classes that fit no single class of the given label set: '0', '1'"):
        load_dataset("mnist", shared_datasets, labels=LABEL_SETS["letters"], limit=10)


def test_unknown_spec_lists_the_valid_ones(tmp_path):
    with pytest.raises(DatasetError, match="unknown data set 'kmnist'.*mnist.*emnist-balanced.*emnist-pool.*folder:PATH.*csv:PATH"):
        load_dataset("kmnist", tmp_path)
    with pytest.raises(DatasetError, match="unknown data set 'folder:'"):
        load_dataset("folder:", tmp_path)
    with pytest.raises(DatasetError, match="val_fraction"):
        load_dataset("mnist", tmp_path, val_fraction=1.5)


def test_a_path_object_names_a_folder_or_csv_data_set_and_a_bare_path_gets_the_fix(tmp_path):
    root = _class_folders(tmp_path / "mine")
    by_path = load_dataset(root, seed=0)  # a pathlib.Path, as Python users pass folders
    by_spec = load_dataset(f"folder:{root}", seed=0)
    assert by_path.name == by_spec.name and np.array_equal(by_path.train.images, by_spec.train.images)
    _, _, rows = _csv_rows()
    (tmp_path / "digits.csv").write_text("\n".join(rows) + "\n")
    assert load_dataset(tmp_path / "digits.csv", seed=0).source["header"] is False
    with pytest.raises(DatasetError, match=f"unknown data set '{root}'.*for the images in that folder: folder:{root}"):
        load_dataset(str(root))
    with pytest.raises(DatasetError, match="named by a string.*got 3 \\(int\\)"):
        load_dataset(3)
    # names in any case (MNIST, Folder:) were unknown data sets; a path keeps its case
    from inkread.data.load import dataset_spec

    assert [dataset_spec(name) for name in ("MNIST", "EMNIST-Pool:ByClass", "Folder:My_Digits", "CSV:A.csv", "kmnist")] == \
        ["mnist", "emnist-pool:byclass", "folder:My_Digits", "csv:A.csv", "kmnist"]
    assert load_dataset(f"Folder:{root}", seed=0).name == by_spec.name


# ---------------------------------------------------------------- folder:

def test_folder_with_class_subfolders(tmp_path):
    root = _class_folders(tmp_path / "mine")
    (root / "0" / "notes.txt").write_text("not an image")
    splits = load_dataset(f"folder:{root}", seed=0)
    assert splits.labels == ("0", "1", "2") and splits.recipe == "mnist"  # its own classes, the digits recipe
    counts = splits.counts()
    assert sum(counts.values()) == 30 and counts["train"] >= 18 and counts["val"] >= 3 and counts["test"] >= 3  # 80/10/10, each class held out
    images = np.concatenate([splits.train.images, splits.val.images, splits.test.images])
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    assert images.dtype == np.uint8 and images.shape == (30, 28, 28)
    assert np.bincount(targets).tolist() == [10] * 3
    assert images.max() == 255 and images.mean() < 80  # ink high, on black
    # A vertical line (class 1) is taller than wide once preprocessed.
    ones = images[targets == 1] > 64
    assert ones.any(axis=2).sum(axis=1).mean() > 2 * ones.any(axis=1).sum(axis=1).mean()


def test_folder_takes_nested_images_and_every_image_type_but_not_hidden_files(tmp_path):
    import shutil

    root = _class_folders(tmp_path / "mine", per_class=4)
    (root / "1" / "batch-2").mkdir()
    _draw(root / "1" / "batch-2" / "a.png", 1)                     # nested in its class folder: a 1
    shutil.copy(root / "2" / "0.png", root / "2" / "b.jfif")       # JPEG's other name (a PNG inside: decoding decides)
    (root / "0" / "._0.png").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")  # not an image
    (root / "0" / ".DS_Store").write_bytes(b"Bud1")
    (root / "2" / ".hidden").mkdir()
    _draw(root / "2" / ".hidden" / "c.png", 2)
    splits = load_dataset(f"folder:{root}", seed=0)
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    assert np.bincount(targets, minlength=3)[:3].tolist() == [4, 5, 5]


def test_folder_with_a_train_folder_but_no_test_folder_is_refused(tmp_path):
    _class_folders(tmp_path / "half" / "train", per_class=2)
    with pytest.raises(DatasetError, match="has a train/ folder but no test/ beside it"):
        load_dataset(f"folder:{tmp_path / 'half'}")


def test_adding_images_to_a_folder_never_moves_the_others_between_parts(tmp_path):
    """Folders are split by each image's pixels and the seed: a test image stays a test image
    however many images are added (a seeded shuffle by position reshuffled them all), and copies
    of one image are never in two parts."""
    root = _class_folders(tmp_path / "grows", "012", per_class=8)

    def parts(splits) -> dict[bytes, str]:
        return {image.tobytes(): name for name in ("train", "val", "test") for image in getattr(splits, name).images}

    before = parts(load_dataset(f"folder:{root}", seed=3))
    by_content = parts(load_dataset(f"folder:{root}", seed=3, split_by="content"))  # without the per-class hold-out
    for n in range(8, 16):
        _draw(root / "1" / f"{n}.png", 1, n + 100)  # eight new 1s
    (root / "2" / "copy.png").write_bytes((root / "2" / "0.png").read_bytes())
    grown = load_dataset(f"folder:{root}", seed=3)
    after = parts(grown)
    # a training image never becomes a validation or test image (a model would be scored on what it
    # learned from); only a class too small to be held out otherwise has one of its images moved
    assert all(after[image] == "train" for image, part in before.items() if part == "train")
    assert grown.source["split_by"] == "source+class" and sum(grown.counts().values()) == 24 + 8 + 1
    assert all(parts(load_dataset(f"folder:{root}", seed=3, split_by="content"))[image] == part
               for image, part in by_content.items())
    other_seed = parts(load_dataset(f"folder:{root}", seed=4))
    assert any(other_seed[image] != part for image, part in after.items())  # the seed still picks the parts
    old = load_dataset(f"folder:{root}", seed=3, split_by="position")  # how models before 2026-12-04 were split
    assert old.counts() == {"train": 27, "val": 3, "test": 3} and old.source["split_by"] == "position"


def test_every_class_of_a_small_folder_is_validated_and_tested(tmp_path):
    root = _class_folders(tmp_path / "small", "0123456789", per_class=5)  # 50 images: 5 val, 5 test by the fractions
    for seed in range(4):
        splits = load_dataset(f"folder:{root}", seed=seed)
        for part in (splits.val, splits.test):
            assert sorted(set(part.targets.tolist())) == list(range(10)), seed  # one of each class, at least
        assert sorted(set(splits.train.targets.tolist())) == list(range(10))
        plain = load_dataset(f"folder:{root}", seed=seed, split_by="content")
        assert len(set(plain.test.targets.tolist())) < 10  # the fractions alone leave classes untested


def test_folder_with_labels_csv_and_letters(tmp_path):
    root = tmp_path / "csvfolder"
    rows = ["file,label,extra"]
    for n, label in enumerate("bAab"):
        _draw(root / "img" / f"{n}.png", n)
        rows.append(f"img/{n}.png,{label},x")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    splits = load_dataset(f"folder:{root}", val_fraction=0.25)
    assert splits.labels == ("A", "a", "b") and splits.recipe == "emnist"
    assert sum(splits.counts().values()) == 4 and splits.source["layout"] == "labels.csv"
    given = load_dataset(f"folder:{root}", labels=LABEL_SETS["byclass"], recipe="mnist")
    assert given.labels == LABEL_SETS["byclass"] and given.recipe == "mnist"


def test_a_folder_is_split_alike_whatever_the_models_recipe(tmp_path):
    """A digits model (MNIST's preprocessing) and a characters model (EMNIST's) fine-tuned on one folder were
    tested on different images: the split hashed the images as each recipe preprocessed them."""
    root = tmp_path / "digits"
    for n in range(40):
        _draw(root / str(n % 4) / f"{n}.png", n % 3, variant=n)
    mnist = load_dataset(f"folder:{root}", recipe="mnist")
    emnist = load_dataset(f"folder:{root}", recipe="emnist")
    for part in ("train", "val", "test"):
        assert sorted(getattr(mnist, part).names) == sorted(getattr(emnist, part).names), part
    older = [load_dataset(f"folder:{root}", recipe=recipe, split_by="content+class") for recipe in ("mnist", "emnist")]
    assert sorted(older[0].test.names) != sorted(older[1].test.names)  # how runs before it were split


def test_images_a_labels_csv_does_not_list_are_said_to_be_left_out(tmp_path, capsys):
    """They were silently ignored: a user who added images and forgot the CSV trained without them."""
    root = tmp_path / "csvfolder"
    for n in range(6):
        _draw(root / "img" / f"{n}.png", n)
    (root / "notes.txt").write_text("not an image")
    _draw(root / ".ipynb_checkpoints" / "0-checkpoint.png", 0)  # hidden: not the user's images
    _draw(root / "report" / "confusion_matrix.png", 1)  # an evaluate report saved in the folder
    (root / "report" / "report.html").write_text("<html></html>")
    (root / "labels.csv").write_text("file,label\nimg/0.png,0\nimg/1.png,1\nimg/2.png,0\n./img/3.png,1\n")
    splits = load_dataset(f"folder:{root}", val_fraction=0.25)
    assert sum(splits.counts().values()) == 4
    err = capsys.readouterr().err
    assert "2 images in" in err and "not listed in labels.csv" in err and "img/4.png" in err and "notes.txt" not in err
    assert "checkpoint" not in err and "confusion_matrix" not in err


def test_training_and_testing_folders_are_not_read_as_two_classes(tmp_path):
    root = tmp_path / "ds"
    for part in ("training", "testing"):
        for n, label in enumerate("0101"):
            _draw(root / part / label / f"{n}.png", n)
    with pytest.raises(DatasetError, match=r"has testing/, training/ holding class folders.*name them train/ and test/"):
        load_dataset(f"folder:{root}")


def test_folder_labels_merge_case_into_a_given_set(tmp_path):
    root = _class_folders(tmp_path / "cases", "cCa", per_class=1)
    bymerge = load_dataset(f"folder:{root}", labels=LABEL_SETS["bymerge"], val_fraction=0.0)
    found = sorted(LABEL_SETS["bymerge"][t] for part in (bymerge.train, bymerge.test) for t in part.targets)
    assert found == ["C", "C", "a"]  # c and C are one class of the 47; a is kept apart
    assert bymerge.source["merged_classes"] == ["c->C"]  # evaluation reports list the merge
    letters = load_dataset(f"folder:{root}", labels=LABEL_SETS["letters"], val_fraction=0.0)
    assert sorted(LABEL_SETS["letters"][t] for part in (letters.train, letters.test) for t in part.targets) == ["A", "C", "C"]


def test_folder_with_train_and_test(tmp_path):
    root = tmp_path / "split"
    _class_folders(root / "train", "01", per_class=5)
    _class_folders(root / "test", "01", per_class=2)
    splits = load_dataset(f"folder:{root}", val_fraction=0.2)
    assert splits.counts()["train"] + splits.counts()["val"] == 10 and splits.counts()["test"] == 4
    assert sorted(splits.test.targets.tolist()) == [0, 0, 1, 1]


def test_folder_labels_outside_the_given_set(tmp_path):
    root = _class_folders(tmp_path / "mixed", "1AB", per_class=1)
    with pytest.raises(DatasetError, match="labels outside the model's label set: 'A', 'B'"):
        load_dataset(f"folder:{root}", labels=DIGITS)



def test_a_label_spelled_two_ways_in_unicode_is_one_class(tmp_path):
    """macOS names a folder "é" as "e" + a combining accent (NFD): against a model's "é" (NFC) it was
    'outside the label set', and mixed with NFC folders it made two classes that look alike."""
    import unicodedata

    nfc, nfd = "\u00e9", unicodedata.normalize("NFD", "\u00e9")
    assert nfc != nfd
    root = _class_folders(tmp_path / "accents", ["a", nfd, "b"], per_class=2)
    _class_folders(root, [nfc], per_class=2)  # the same class, as another system spells it
    data = load_dataset(f"folder:{root}")
    assert data.labels == ("a", "b", nfc)
    assert load_dataset(f"folder:{_class_folders(tmp_path / 'mac', ['a', nfd], per_class=2)}", labels=("a", nfc)).labels == ("a", nfc)
    # a model trained before labels were normalized keeps its own spelling: NFC folders are its classes
    old_model = load_dataset(f"folder:{_class_folders(tmp_path / 'pc', ['a', nfc], per_class=2)}", labels=("a", nfd))
    assert old_model.labels == ("a", nfd) and {*old_model.train.targets.tolist(), *old_model.test.targets.tolist()} == {0, 1}


def test_labels_outside_a_set_of_words_are_listed_as_words(tmp_path):
    root = _class_folders(tmp_path / "pets", ["cat", "dog", "eel"], per_class=1)
    with pytest.raises(DatasetError, match=r"'eel' \(allowed: 'cat', 'dog'\)"):
        load_dataset(f"folder:{root}", labels=("cat", "dog"))

def test_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "empty" / "7").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images in .*empty: use one sub-folder per class"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    bad = _class_folders(tmp_path / "bad", "12", per_class=2)
    (bad / "2" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DatasetError, match=r"broken.png cannot be decoded \(.*\): it may be truncated .*: replace the image or remove it from the data set$"):
        load_dataset(f"folder:{bad}")
    for name in ("empty.png", "text.png"):  # several bad images: all named in one error, not one per run
        (bad / "1" / name).write_bytes(b"" if name == "empty.png" else b"hello")
    with pytest.raises(DatasetError, match=r"^3 images of the data set cannot be used: .*empty.png is empty \(0 bytes\): replace .*"
                                           r"\(the others: '.*text.png', '.*broken.png'\)$"):
        load_dataset(f"folder:{bad}")
    linked = _class_folders(tmp_path / "linked", "12", per_class=2)
    (linked / "1" / "gone.png").symlink_to(tmp_path / "nowhere.png")  # a broken link: named, not skipped
    with pytest.raises(DatasetError, match="gone.png: no such file: replace the image or remove it from the data set"):
        load_dataset(f"folder:{linked}")
    (tmp_path / "cols").mkdir()
    (tmp_path / "cols" / "labels.csv").write_text("name,class\na.png,1\n")
    with pytest.raises(DatasetError, match="'file' and 'label' columns"):
        load_dataset(f"folder:{tmp_path / 'cols'}")
    (tmp_path / "cols" / "labels.csv").write_text("file,label\na.png,1\n")
    with pytest.raises(DatasetError, match="line 2 names a.png, which is not in"):
        load_dataset(f"folder:{tmp_path / 'cols'}")


def test_real_canvas_folder(shared_datasets):
    splits = load_dataset(f"folder:{shared_datasets / 'hwd1000'}")
    counts = splits.counts()  # 80/10/10 by each image's pixels: the parts are near those sizes, not exactly
    assert sum(counts.values()) == 1000 and 70 <= counts["val"] <= 130 and 70 <= counts["test"] <= 130
    assert splits.labels == DIGITS and splits.recipe == "mnist"
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    assert np.bincount(targets).tolist() == [100] * 10


# ---------------------------------------------------------------- csv:

def _csv_rows(n=20):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(n, 28, 28))
    pixels[:, :3], pixels[:, -3:], pixels[:, :, :3], pixels[:, :, -3:] = 0, 0, 0, 0  # a black border, as MNIST's
    pixels = pixels.reshape(n, 784)
    labels = np.arange(n) % 10
    return labels, pixels, [",".join(map(str, [label, *row])) for label, row in zip(labels, pixels)]


@pytest.mark.parametrize("header", [True, False, "pandas"])
def test_csv(tmp_path, header):
    labels, pixels, rows = _csv_rows()
    path = tmp_path / "train.csv"
    names = [str(i) for i in range(784)] if header == "pandas" else [f"pixel{i}" for i in range(784)]
    head = ["label," + ",".join(names)] if header else []
    header = bool(header)
    path.write_text("\n".join(head + rows) + "\n")
    splits = load_dataset(f"csv:{path}", seed=0)
    assert splits.labels == DIGITS and splits.recipe == "mnist" and splits.source["header"] is header
    assert sum(splits.counts().values()) == 20
    images = np.concatenate([splits.train.images, splits.val.images, splits.test.images])
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    # Every row comes back unchanged (no preprocessing), with its own label.
    by_pixels = {row.astype(np.uint8).tobytes(): label for row, label in zip(pixels, labels)}
    assert {image.tobytes(): target for image, target in zip(images, targets)} == by_pixels


def test_csv_bad_rows_give_the_line_number(tmp_path):
    _, _, rows = _csv_rows(5)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows[:3] + ["7,1,2,3"] + rows[3:]))
    with pytest.raises(DatasetError, match="bad.csv line 4 has 4 values, expected 785"):
        load_dataset(f"csv:{path}")
    path.write_text("\n".join(rows[:3] + [rows[3].rsplit(",", 1)[0]] + rows[4:]))  # one pixel short: not "no labels"
    with pytest.raises(DatasetError, match="bad.csv line 4 has 784 values, expected 785 .*fix or remove that line"):
        load_dataset(f"csv:{path}")
    path.write_text("\n".join(rows[:2] + [rows[2].replace(",", ",300,", 1).rsplit(",", 1)[0]]))
    with pytest.raises(DatasetError, match="line 3: pixel0 is '300', expected a number 0..255"):
        load_dataset(f"csv:{path}")
    path.write_text("\n".join(rows[:1] + ["x" + rows[1][1:].replace(",5,", ",five,", 1)]))
    with pytest.raises(DatasetError, match="line 2"):
        load_dataset(f"csv:{path}")
    with pytest.raises(DatasetError, match="labels outside the model's label set: '0'"):
        path.write_text("\n".join(rows))
        load_dataset(f"csv:{path}", labels=tuple("123456789"))
    first = rows[0].split(",")
    path.write_text("\n".join([",".join(first[:1] + ["x"] + first[2:])] + rows[1:]))  # one bad pixel: data, not a header
    with pytest.raises(DatasetError, match="line 1: pixel0 is 'x'"):
        load_dataset(f"csv:{path}")
    path.write_text("\n".join(rows[:2] + ["," + rows[2].split(",", 1)[1]]))  # numbers parse; the label is empty
    with pytest.raises(DatasetError, match="line 3 has an empty label"):
        load_dataset(f"csv:{path}")
    path.write_text("\n".join(rows[:1] + [rows[1].replace(",", ",\u0663,", 1).rsplit(",", 1)[0]]))  # an Arabic-Indic 3
    with pytest.raises(DatasetError, match="line 2: pixel0 is '\u0663', expected a number 0..255"):
        load_dataset(f"csv:{path}")
    path.write_text("")
    with pytest.raises(DatasetError, match="no data rows"):
        load_dataset(f"csv:{path}")
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(f"csv:{tmp_path / 'none.csv'}")


# ---------------------------------------------------------------- what folder:/csv: data sets hold and say

def _warnings(capsys) -> list[str]:
    """The warnings printed on stderr so far, each checked to be one line of its own."""
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("inkread: warning: ") for line in lines), lines
    return lines


def test_a_subset_of_the_digits_is_a_model_of_those_classes_only(tmp_path, capsys):
    """Folders 1, 4 and 7 made a 10-class model: 7 classes never taught, in its top-3 and its reports."""
    root = _class_folders(tmp_path / "three", "147", per_class=4)
    splits = load_dataset(f"folder:{root}", val_fraction=0.25)
    assert splits.labels == ("1", "4", "7") and splits.recipe == "mnist"  # still digits: the digits recipe
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    assert np.bincount(targets).tolist() == [4, 4, 4]
    fine_tune = load_dataset(f"folder:{root}", labels=DIGITS)  # --init-from a digits model: its 10 classes
    assert fine_tune.labels == DIGITS
    assert sorted(set(np.concatenate([fine_tune.train.targets, fine_tune.test.targets]).tolist())) == [1, 4, 7]
    _, pixels, _ = _csv_rows(12)
    path = tmp_path / "three.csv"
    path.write_text("\n".join(",".join(map(str, ["147"[n % 3], *row])) for n, row in enumerate(pixels)))
    assert load_dataset(f"csv:{path}").labels == ("1", "4", "7")
    assert _warnings(capsys) == []


def test_a_class_folder_named_only_by_spaces_is_refused(tmp_path):
    root = _class_folders(tmp_path / "spaced", ["a", " ", "b"], per_class=2)
    with pytest.raises(DatasetError, match=r"has a class named only by spaces \(' '\): name it by the character"):
        load_dataset(f"folder:{root}")


def test_labels_written_as_decimal_numbers_are_refused_with_the_fix(tmp_path):
    labels, pixels, _ = _csv_rows(20)
    path = tmp_path / "floats.csv"
    path.write_text("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n"
                    + "\n".join(",".join([f"{label}.0", *map(str, row)]) for label, row in zip(labels, pixels)))
    with pytest.raises(DatasetError, match=r"floats.csv has labels written as decimal numbers \('0.0', '1.0', '2.0' \.\.\.\), "
                                           r"as pandas writes a float column: write them as whole numbers "
                                           r"\('0', '1', '2' \.\.\.\), e.g. with df\['label'\].astype\(int\)"):
        load_dataset(f"csv:{path}")
    root = tmp_path / "listed"
    for n in range(4):
        _draw(root / f"{n}.png", n, n)
    (root / "labels.csv").write_text("file,label\n0.png,3\n1.png,3\n2.png,7.00\n3.png,7\n")
    with pytest.raises(DatasetError, match=r"labels.csv has labels written as decimal numbers \('7.00'\).*\('7'\)"):
        load_dataset(f"folder:{root}")


def test_a_file_listed_twice_with_different_labels_is_refused(tmp_path, capsys):
    root = tmp_path / "twice"
    for n in range(4):
        _draw(root / "img" / f"{n}.png", n, n)
    (root / "labels.csv").write_text("file,label\nimg/0.png,1\nimg/1.png,1\nimg/2.png,7\nimg/3.png,7\n./img/0.png,7\n")
    with pytest.raises(DatasetError, match=r"labels.csv lists ./img/0.png twice with different labels "
                                           r"\('1' on line 2, '7' on line 6\): keep the right one, remove the other$"):
        load_dataset(f"folder:{root}")
    (root / "labels.csv").write_text("file,label\nimg/0.png,1\nimg/1.png,1\nimg/2.png,7\nimg/3.png,7\nimg/0.png,1\n")
    # listed twice with the same label: read once (it was trained twice), and said
    assert sum(load_dataset(f"folder:{root}").counts().values()) == 4
    assert _warnings(capsys) == [f"inkread: warning: {root / 'labels.csv'} lists 1 file again with the same label (line 6): "
                                 "each is read once"]


def test_a_labels_csv_that_gives_a_class_folders_images_another_class_is_said_to_win(tmp_path, capsys):
    """Class folders 0-2 beside an old labels.csv: every label came from the CSV, silently (evaluated, 0.00%)."""
    root = tmp_path / "both"
    for n in range(9):
        _draw(root / str(n % 3) / f"{n}.png", n % 3, n // 3)
    rows = [f"{n % 3}/{n}.png,{(n + 1) % 3}" for n in range(5)] + [f"{n % 3}/{n}.png,{n % 3}" for n in range(5, 9)]
    (root / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    load_dataset(f"folder:{root}", val_fraction=0.25)
    assert _warnings(capsys) == [f"inkread: warning: {root / 'labels.csv'} gives 5 images in a class's folder another "
                                 "class (0/0.png as '1', 1/1.png as '2', 2/2.png as '0' ...): its labels are the ones "
                                 "used; fix them, or remove labels.csv to use the folders' names"]
    (root / "labels.csv").write_text("file,label\n" + "\n".join(f"{n % 3}/{n}.png,{n % 3}" for n in range(9)) + "\n")
    load_dataset(f"folder:{root}", val_fraction=0.25)  # agreeing: nothing to say
    assert _warnings(capsys) == []


def test_suspicious_labels_and_classes_are_warned_about_in_one_line_each(tmp_path, capsys):
    root = tmp_path / "words"
    rows = ["file,label"]
    for n, label in enumerate(["one"] * 3 + ["two"] * 3 + ["x"]):
        _draw(root / f"{n}.png", n, n)
        rows.append(f"{n}.png,{label}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    splits = load_dataset(f"folder:{root}")
    assert splits.labels == ("one", "two", "x")  # legal: word-level classes
    assert _warnings(capsys) == [
        f"inkread: warning: {root / 'labels.csv'} has labels longer than one character ('one', 'two'): each is a class "
        "of its own, as for whole words; if they should be single characters, rename them",
        f"inkread: warning: {root / 'labels.csv'} has classes with a single image ('x'): too few to learn them and "
        "test them (the image is either trained on or tested); add images of them"]
    load_dataset(f"folder:{root}", labels=("one", "two", "x"))  # a model of words: its labels are no news
    assert len(_warnings(capsys)) == 1
    classes = _class_folders(tmp_path / "classes", ["e\u0301", "a"], per_class=2)  # "é" as macOS names a folder: e + accent
    (classes / "5").mkdir()
    (classes / "6").mkdir()
    (classes / "6" / "notes.txt").write_text("no images")
    splits = load_dataset(f"folder:{classes}")
    assert splits.labels == ("a", "\u00e9")  # one character, one class, however it is spelled (NFC)
    assert _warnings(capsys) == [f"inkread: warning: class folders of {classes} hold no images and are left out "
                                 "('5', '6'): add images of those classes, or remove the folders"]


def test_images_beside_the_class_folders_are_not_left_out_unsaid(tmp_path, capsys):
    root = _class_folders(tmp_path / "mine", "147", per_class=2)
    for n in range(3):
        _draw(root / f"loose-{n}.png", n, n + 20)
    (root / ".hidden.png").write_bytes(b"not data")
    splits = load_dataset(f"folder:{root}")
    assert sum(splits.counts().values()) == 6
    assert _warnings(capsys) == [f"inkread: warning: 3 images at the top of {root} are left out ('loose-0.png', "
                                 "'loose-1.png', 'loose-2.png'): only images in a class sub-folder have a label; "
                                 "move them into theirs (e.g. 7/loose-0.png)"]


def test_a_flat_folder_of_images_says_how_to_lay_it_out(tmp_path):
    root = tmp_path / "flat"
    for n in range(30):
        _draw(root / f"{n:02}.png", n, n)
    with pytest.raises(DatasetError, match=rf"^{root} holds 30 images but no class sub-folders and no labels.csv: move "
                                           r"each image into a sub-folder named by its label \(7/00.png\), or list "
                                           r"them in a labels.csv with file,label columns$"):
        load_dataset(f"folder:{root}")


def _header(names) -> str:
    return ",".join(names) + "\n"


def test_csv_label_column_is_found_by_its_header_name(tmp_path):
    labels, pixels, _ = _csv_rows(20)
    pixel_names = [f"pixel{i}" for i in range(784)]
    path = tmp_path / "last.csv"
    path.write_text(_header(pixel_names + [" Label"])
                    + "\n".join(",".join(map(str, [*row, "ABCD"[label % 4]])) for label, row in zip(labels, pixels)))
    splits = load_dataset(f"csv:{path}", val_fraction=0.0)
    assert splits.labels == ("A", "B", "C", "D") and splits.source["label_column"] == 784
    images = np.concatenate([splits.train.images, splits.test.images])
    targets = np.concatenate([splits.train.targets, splits.test.targets])
    assert {image.tobytes(): target for image, target in zip(images, targets)} == \
        {row.astype(np.uint8).tobytes(): label % 4 for row, label in zip(pixels, labels)}
    path.write_text("\n".join(",".join(map(str, ["y" if label % 2 else "x", *row])) for label, row in zip(labels, pixels)))
    assert load_dataset(f"csv:{path}").source["rows"] == 20  # a first row labelled "y" is data, not a header


def test_csv_label_column_under_another_name(tmp_path, capsys):
    labels, pixels, _ = _csv_rows(20)
    path = tmp_path / "named.csv"
    rows = "\n".join(",".join(map(str, [label % 4, *row])) for label, row in zip(labels, pixels))
    path.write_text(_header(["klass", *(f"pixel{i}" for i in range(784))]) + rows)
    assert load_dataset(f"csv:{path}", val_fraction=0.0).labels == ("0", "1", "2", "3")  # the first column, as Kaggle's
    assert "its first column, 'klass', is taken as the labels; rename it to label" in capsys.readouterr().err
    # a label column in the middle under a name not known: the first column is a pixel, so refused, not misread
    rows = "\n".join(",".join(map(str, [*row[:5], label % 4, *row[5:]])) for label, row in zip(labels, pixels))
    path.write_text(_header([*(f"pixel{i}" for i in range(5)), "digit", *(f"pixel{i}" for i in range(5, 784))]) + rows)
    with pytest.raises(DatasetError, match=r"named.csv's header names no label column \(one of label, labels, class, "
                                           r"target, y\) and its first column, 'pixel0', is a pixel: rename the label "
                                           r"column to label$"):
        load_dataset(f"csv:{path}")


def test_csv_without_a_label_column_says_so(tmp_path):
    _, pixels, _ = _csv_rows(5)
    body = "\n".join(",".join(map(str, row)) for row in pixels)
    path = tmp_path / "test.csv"
    path.write_text(_header(f"pixel{i}" for i in range(784)) + body)  # Kaggle's test.csv
    with pytest.raises(DatasetError, match=r"test.csv has no labels \(its header names 784 columns, one per pixel, and no "
                                           r"label column\): training needs label,pixel0,...,pixel783 lines; Kaggle's "
                                           r"test.csv has no labels \(train on its train.csv\)$"):
        load_dataset(f"csv:{path}")
    path.write_text(body)
    with pytest.raises(DatasetError, match=r"has no labels \(line 1 has 784 values, one per pixel\)"):
        load_dataset(f"csv:{path}")
    labels, _, rows = _csv_rows(5)
    path.write_text(_header(["", "label", *(f"pixel{i}" for i in range(784))])
                    + "\n".join(f"{n},{row}" for n, row in enumerate(rows)))
    with pytest.raises(DatasetError, match=r"line 2 has 786 values, expected 785 .*; its first column is the row index "
                                           r"pandas writes: save it with to_csv\(index=False\)$"):
        load_dataset(f"csv:{path}")
    # a column of its own (an id) in every line: said as the file's layout, not as one bad line
    path.write_text(_header(["id", "label", *(f"pixel{i}" for i in range(784))])
                    + "\n".join(f"{n},{row}" for n, row in enumerate(rows)))
    with pytest.raises(DatasetError, match=r"line 2 has 786 values, expected 785 .*; its header names columns besides the "
                                           r"label and the pixels \('id'\): remove them$"):
        load_dataset(f"csv:{path}")


@pytest.mark.parametrize("header", [True, False])
def test_csv_pixels_may_be_decimal_numbers(tmp_path, header):
    labels, pixels, _ = _csv_rows(20)
    head = _header(["label", *(f"pixel{i}" for i in range(784))]) if header else ""
    path = tmp_path / "floats.csv"

    def loaded(values) -> dict[bytes, int]:
        path.write_text(head + "\n".join(",".join([str(label), *values[n]]) for n, label in enumerate(labels)))
        splits = load_dataset(f"csv:{path}", val_fraction=0.0)
        assert splits.source["rows"] == 20 and splits.labels == DIGITS
        return {image.tobytes(): target for part in (splits.train, splits.test)
                for image, target in zip(part.images, part.targets)}

    expected = {row.astype(np.uint8).tobytes(): label for row, label in zip(pixels, labels)}
    assert loaded([[f"{value:.1f}" for value in row] for row in pixels]) == expected  # "0.0".."255.0"
    assert loaded([[f"{value / 255:.6f}" for value in row] for row in pixels]) == expected  # 0..1: scaled
    assert loaded([[f"{value - 0.3:.1f}" if value else "0" for value in row] for row in pixels]) == expected  # rounded
    binarized = (pixels > 127).astype(int)
    assert loaded([[str(value) for value in row] for row in binarized]) == \
        {(row * 255).astype(np.uint8).tobytes(): label for row, label in zip(binarized, labels)}
    for bad in ("-0.5", "255.5", "nan", "1e999"):
        values = [[str(value) for value in row] for row in pixels]
        values[3][10] = bad
        with pytest.raises(DatasetError, match=rf"line {4 + header}: pixel10 is '{bad}', expected a number 0..255 \(or 0..1 "
                                               r"throughout the file\): fix or remove that line$"):
            loaded(values)


def _labelled_folder(root, header: str, delimiter: str = ",", names=None) -> None:
    rows = [header]
    for n, label in enumerate("0011"):
        _draw(root / "img" / f"{n}.png", n, n)
        rows.append(delimiter.join([(names or "img/{}.png").format(n), label]))
    (root / "labels.csv").write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("header, delimiter", [("File, Label", ","), (" FILE ;label", ";"), ("file\tlabel\tnote", "\t"),
                                               ('"file","label"', ",")])
def test_labels_csv_headers_in_any_case_and_delimiter(tmp_path, header, delimiter):
    _labelled_folder(tmp_path / "d", header, delimiter)
    splits = load_dataset(f"folder:{tmp_path / 'd'}", val_fraction=0.0)
    assert splits.labels == ("0", "1") and sum(splits.counts().values()) == 4


def test_labels_csv_without_the_columns_says_which_it_has(tmp_path):
    _labelled_folder(tmp_path / "d", "name;class", ";")
    with pytest.raises(DatasetError, match=r"labels.csv must have a header line with 'file' and 'label' columns and at "
                                           r"least one row \(its first line has 'name', 'class'\): write file,label as its "
                                           r"first line$"):
        load_dataset(f"folder:{tmp_path / 'd'}")
    _labelled_folder(tmp_path / "d", "image,label,writer")
    with pytest.raises(DatasetError, match=r"\(its first line has 'image', 'label', 'writer'\)"):
        load_dataset(f"folder:{tmp_path / 'd'}")


def test_labels_csv_windows_paths_are_found(tmp_path):
    _labelled_folder(tmp_path / "d", "file,label", names="img\\{}.png")
    splits = load_dataset(f"folder:{tmp_path / 'd'}", val_fraction=0.0)
    assert sum(splits.counts().values()) == 4
    _labelled_folder(tmp_path / "e", "file,label", names="img\\missing{}.png")
    with pytest.raises(DatasetError, match=r"line 2 names img\\missing0.png, which is not in"):
        load_dataset(f"folder:{tmp_path / 'e'}")


def test_csv_with_another_separator_says_so(tmp_path):
    _, _, rows = _csv_rows(3)
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(row.replace(",", ";") for row in rows))
    with pytest.raises(DatasetError, match=r"semi.csv line 1 has 1 values, expected 785 \(label,pixel0,...,pixel783\); "
                                           r"its values are separated by semicolons: save it with commas$"):
        load_dataset(f"csv:{path}")


def test_drawings_on_a_transparent_canvas_hash_apart(tmp_path):
    """The split hashes each image as decoded: black ink on a transparent canvas is all black in its colour
    bands, and only its alpha tells two drawings apart (they must not all fall into one part)."""
    from inkread.data.folder import preprocess_files

    paths = []
    for n in range(3):
        image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(image).line((10 + 10 * n, 8, 30, 56), fill=(0, 0, 0, 255), width=6)
        paths.append(tmp_path / f"{n}.png")
        image.save(paths[-1])
    _, digests = preprocess_files(paths, "mnist")
    assert len({bytes(row) for row in digests}) == 3


@pytest.mark.parametrize("style", ["r", "all", "label_last"])
def test_csv_quoted_fields_are_read_without_their_quotes(tmp_path, capsys, style):
    """R's write.csv quotes the header and the labels; Excel's "quote all" every field: "0" is the label 0."""
    labels, pixels, _ = _csv_rows(20)
    names = [f"pixel{i}" for i in range(784)]
    quote = lambda value: f'"{value}"'  # noqa: E731
    if style == "label_last":
        lines = [",".join(map(quote, names + ["label"]))]
        lines += [",".join([*map(str, row), quote(label)]) for label, row in zip(labels, pixels)]
    else:
        pixel = quote if style == "all" else str
        lines = [",".join(map(quote, ["label", *names]))]
        lines += [",".join([quote(label), *map(pixel, row)]) for label, row in zip(labels, pixels)]
    path = tmp_path / "quoted.csv"
    path.write_text("\n".join(lines) + "\n")
    splits = load_dataset(f"csv:{path}", seed=0)
    assert splits.labels == DIGITS and splits.source["header"] is True
    assert capsys.readouterr().err == ""  # the header's "label" is found: no warning of a label column taken
    images = np.concatenate([splits.train.images, splits.val.images, splits.test.images])
    targets = np.concatenate([splits.train.targets, splits.val.targets, splits.test.targets])
    assert {image.tobytes(): target for image, target in zip(images, targets)} == \
        {row.astype(np.uint8).tobytes(): label for row, label in zip(pixels, labels)}


def test_csv_0_to_1_pixels_with_round_off_above_1_are_scaled_and_mixed_scales_refused(tmp_path):
    labels, pixels, _ = _csv_rows(20)
    path = tmp_path / "unit.csv"

    def write(values) -> None:
        path.write_text("\n".join(",".join([str(label), *values[n]]) for n, label in enumerate(labels)))

    unit = [[f"{value / 255:.6f}" for value in row] for row in pixels]
    unit[2][5] = "1.0000001"  # float32 round-off of a pixel normalized by 255
    write(unit)
    splits = load_dataset(f"csv:{path}", val_fraction=0.0)
    assert splits.source["pixels"] == "0-1, scaled to 0-255"
    expected = pixels.astype(np.uint8)
    expected[2, 5] = 255
    assert {image.tobytes() for image in np.concatenate([splits.train.images, splits.test.images])} == \
        {row.tobytes() for row in expected}  # as saved, not near-blank
    mixed = [[str(value) for value in row] for row in pixels]
    mixed[3] = unit[3]  # one line saved 0..1 in a 0..255 file: it would be trained on as blank
    write(mixed)
    with pytest.raises(DatasetError, match=r"unit.csv mixes pixel scales: line 4 lies within 0..1, other lines reach 255: "
                                           r"save every line on one scale, 0..255 or 0..1$"):
        load_dataset(f"csv:{path}")


def test_csv_images_of_dark_ink_on_a_light_background_are_warned_about(tmp_path, capsys):
    labels, pixels, _ = _csv_rows(20)
    pixels[[4, 9]] = 255 - pixels[[4, 9]]  # two images saved inverted
    path = tmp_path / "inverted.csv"
    path.write_text("\n".join(",".join(map(str, [label, *row])) for label, row in zip(labels, pixels)))
    load_dataset(f"csv:{path}")
    assert _warnings(capsys) == [f"inkread: warning: {path}: 2 of 20 images are dark ink on a light background (line 5, 10): "
                                 "the model expects light ink on black, as MNIST's; save 255 - pixel for them"]


def test_labels_csv_naming_images_by_absolute_paths_leaves_none_out(tmp_path, capsys, monkeypatch):
    """Each was said to be 'not listed in labels.csv and left out' while it was used (the folder given by a
    relative path): the paths were compared as written."""
    root = tmp_path / "abs"
    _labelled_folder(root, "file,label", names=str(root / "img" / "{}.png"))
    monkeypatch.chdir(tmp_path)
    assert sum(load_dataset("folder:abs", val_fraction=0.25).counts().values()) == 4
    assert _warnings(capsys) == []


def test_labels_csv_names_match_files_named_in_another_unicode_form(tmp_path):
    """macOS may store "café" decomposed (NFD); a labels.csv typed by hand holds it composed (NFC)."""
    root = tmp_path / "nfd"
    _labelled_folder(root, "file,label", names="img/caf\u00e9-{}.png")
    for n in range(4):
        (root / "img" / f"{n}.png").rename(root / "img" / f"cafe\u0301-{n}.png")
    splits = load_dataset(f"folder:{root}", val_fraction=0.25)
    assert sum(splits.counts().values()) == 4 and splits.labels == ("0", "1")


def test_other_files_in_class_folders_are_said_to_be_left_out(tmp_path, capsys):
    """An iPhone's .HEIC photos and notes were skipped silently: a user would think them trained on."""
    root = _class_folders(tmp_path / "mine", "147", per_class=3)
    (root / "4" / "IMG_0001.HEIC").write_bytes(b"ftypheic")
    (root / "7" / "notes.txt").write_text("to do")
    (root / "7" / "Thumbs.db").write_bytes(b"litter")  # the operating system's, not the user's
    (root / "1" / ".hidden").write_text("hidden")
    _draw(root / "loose.png", 0, 30)
    load_dataset(f"folder:{root}")
    assert _warnings(capsys) == [
        f"inkread: warning: 1 image at the top of {root} is left out ('loose.png'): only images in a class sub-folder "
        "have a label; move them into theirs (e.g. 7/loose.png)",
        f"inkread: warning: 2 files in the class folders of {root} are not an image and left out ('4/IMG_0001.HEIC', "
        "'7/notes.txt'): save images as PNG or JPEG to use them"]


def test_the_same_image_under_two_labels_is_warned_about(tmp_path, capsys):
    root = _class_folders(tmp_path / "mine", "17", per_class=3)
    (root / "7" / "copy.png").write_bytes((root / "1" / "2.png").read_bytes())
    (root / "1" / "again.png").write_bytes((root / "1" / "0.png").read_bytes())  # a copy under its own label: no harm
    load_dataset(f"folder:{root}")
    assert _warnings(capsys) == [f"inkread: warning: 1 image of {root} has the same pixels as one under another label "
                                 "(e.g. 1/2.png as '1', 7/copy.png as '7'): each is trained as both; keep the right one, "
                                 "remove the other"]


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_labels_csv_with_any_line_ending_is_read(tmp_path, ending):
    """Lines ended by a lone CR (old Mac spreadsheets) were refused with 'fix the quoting of that line'."""
    root = tmp_path / "mac"
    _labelled_folder(root, "file,label")
    (root / "labels.csv").write_bytes((root / "labels.csv").read_bytes().replace(b"\n", ending.encode()))
    assert sum(load_dataset(f"folder:{root}", val_fraction=0.25).counts().values()) == 4


def test_csv_lines_ending_in_a_comma_are_read(tmp_path):
    """Some exports end every line with a comma: the file was refused for a header column named ''."""
    labels, pixels, rows = _csv_rows(20)
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join([_header(["label", *(f"pixel{i}" for i in range(784))]).strip() + ","]
                              + [row + "," for row in rows]) + "\n")
    splits = load_dataset(f"csv:{path}")
    assert splits.labels == DIGITS and splits.source["rows"] == 20
