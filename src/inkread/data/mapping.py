"""EMNIST mapping files: which character each label number of a split stands for.

``emnist-<split>-mapping.txt`` has one ``label ascii_code`` line per class; the letters file has
``label upper_code lower_code`` (its classes are case-merged, named here by the capital), with
CRLF line endings. The characters must agree with the label sets in ``inkread.labels``.
"""

from __future__ import annotations

from pathlib import Path

from inkread.errors import DatasetError
from inkread.labels import LABEL_SETS, merge_case

SPLITS = ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")


def split_label_set(split: str) -> tuple[str, ...]:
    """The inkread label set of an EMNIST split (``digits`` and ``mnist`` are the 10 digits)."""
    return LABEL_SETS["digits" if split in ("digits", "mnist") else split]


def split_first_label(split: str) -> int:
    """The label number of the first class: EMNIST letters count from 1, every other split from 0."""
    return 1 if split == "letters" else 0


def mapping_name(split: str) -> str:
    """The official file name of a split's mapping file."""
    return f"emnist-{split}-mapping.txt"


def read_mapping(path: str | Path) -> dict[int, str]:
    """Parse a mapping file into {label number: character}; a malformed file raises ``DatasetError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path} ({error}): delete it and run again to re-download it") from None
    mapping: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):  # splitlines also eats the CR of CRLF
        fields = line.split()
        if not fields:
            continue
        try:
            label, code = int(fields[0]), int(fields[1])
            mapping[label] = chr(code)
        except (ValueError, IndexError, OverflowError):
            raise DatasetError(
                f"{path} line {number} is not 'label ascii_code': delete it and run again to re-download it"
            ) from None
    if not mapping:
        raise DatasetError(f"{path} is empty: delete it and run again to re-download it")
    return mapping


def split_mapping(split: str, folder: str | Path) -> dict[int, str]:
    """{label number: character} of ``split``, from its mapping file in ``folder`` if present.

    The file must agree with ``inkread.labels``; without the file the built-in label set is used
    (it is the same table, spelled out in inkread.labels).
    """
    expected = split_label_set(split)
    first = split_first_label(split)
    builtin = {first + index: char for index, char in enumerate(expected)}
    path = Path(folder) / mapping_name(split)
    if not path.exists():
        return builtin
    found = read_mapping(path)
    if split == "letters":
        found = {label: char.upper() for label, char in found.items()}
    if found != builtin:
        raise DatasetError(
            f"{path} does not match the {split} label set of inkread.labels "
            f"({''.join(found.values())[:20]}... vs {''.join(expected)[:20]}...): delete it and run again to re-download it"
        )
    return found


def class_in(char: str, labels: tuple[str, ...]) -> str | None:
    """The class of ``labels`` that ``char`` falls into (``labels.merge_case``), None if none."""
    try:
        return merge_case(char, labels)
    except KeyError:  # e.g. a letter and a digits label set
        return None


def candidates(char: str, labels: tuple[str, ...]) -> list[str]:
    """The exact (byclass) characters that class ``char`` of ``labels`` may stand for.

    byclass "c" -> [c]; bymerge "C" -> [C, c] (bymerge merges the case of 15 letters);
    letters "A" -> [A, a]; a label outside the 62 characters stands for itself.
    """
    found = [exact for exact in LABEL_SETS["byclass"] if class_in(exact, labels) == char]
    return found or [char]
