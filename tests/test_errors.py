"""The one-line summary of a library's exception that error messages quote."""

from inkread.errors import first_line


def test_first_line_skips_a_bare_heading_and_keeps_messages_short():
    heading = RuntimeError("Error(s) in loading state_dict for InkNet:\n\tsize mismatch for fc.weight: [10] vs [11].")
    assert first_line(heading) == "size mismatch for fc.weight: [10] vs [11]."
    assert first_line(OSError("image file is truncated\nmore detail")) == "image file is truncated"
    assert first_line(ValueError("x" * 500), 120) == "x" * 120
    assert first_line(KeyError()) == "KeyError"  # an empty message: the type says something
