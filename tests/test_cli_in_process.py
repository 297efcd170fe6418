"""``helpers.inkread_cli``, which most CLI tests use: it must show what a user's terminal would show."""

from __future__ import annotations

import ctypes
import sys
import warnings

from helpers import inkread_cli


def test_the_in_process_command_line_shows_what_a_terminal_would(monkeypatch):
    import inkread.cli

    def noisy_main(argv):
        print("a result")
        print("inkread: warning: a warning of ours", file=sys.stderr)
        warnings.warn("a library's warning")  # shown by Python outside pytest: a test must see it
        warnings.warn("a deprecation", DeprecationWarning)  # hidden by Python's default filters
        ctypes.CDLL(None).write(2, b"a C++ library's log line\n", 25)  # as ONNX Runtime logs
        return 3

    monkeypatch.setattr(inkread.cli, "main", noisy_main)
    noisy = inkread_cli("anything")
    assert noisy.returncode == 3 and noisy.stdout == "a result\n"
    lines = noisy.stderr.splitlines()
    assert lines[0] == "inkread: warning: a warning of ours" and "UserWarning: a library's warning" in lines[1]
    assert lines[-1] == "a C++ library's log line" and "deprecation" not in noisy.stderr
    monkeypatch.undo()
    assert inkread_cli("--version").stdout.startswith("inkread ")
    unknown = inkread_cli("train", "--no-such-option")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and unknown.stderr.startswith("inkread: error:")
