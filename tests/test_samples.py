"""The embedded default: shipped models on the shipped sample images, through the CLI as a user types it."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _inkread(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inkread", *args], capture_output=True, text=True, timeout=120)


def test_shipped_digits_model_reads_every_sample_digit():
    files = sorted(SAMPLES.glob("digits/*.png"))
    assert len(files) == 10
    result = _inkread("predict", *map(str, files), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    for row in rows:
        expected = re.search(r"hwd1000-(\d)-", row["file"]).group(1)
        assert row["label"] == expected, row


def test_shipped_characters_model_reads_sample_letters_case_insensitively():
    files = sorted(SAMPLES.glob("letters/*.png"))
    result = _inkread("predict", *map(str, files), "--model", "characters", "--only", "letters", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    correct = sum(row["label"].lower() == re.search(r"_([A-Za-z])_", row["file"]).group(1).lower() for row in rows)
    assert correct >= len(rows) - 1, rows  # UNIPEN letters: at most one of six misread


def test_read_finds_characters_spaces_and_lines():
    result = _inkread("read", str(SAMPLES / "text" / "phone-0612-334.png"), str(SAMPLES / "text" / "two-lines-2026-1121.png"),
                      "--model", "digits", "--format", "csv")
    assert result.returncode == 0, result.stderr
    texts = [row["text"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert texts == ["0612 334", "2026\n1121"]


def test_the_line_model_reads_the_sample_words():
    files = sorted(SAMPLES.glob("words/*.png"))
    assert len(files) == 4
    result = _inkread("read", *map(str, files), "--model", "lines", "--only", "letters", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4 and all(row["text"].isalpha() for row in rows)
    truths = [re.search(r"unipen-(\w+)\.png", row["file"]).group(1) for row in rows]
    assert sum(row["text"].lower() == truth for row, truth in zip(rows, truths)) >= 1  # lunch, as shipped
