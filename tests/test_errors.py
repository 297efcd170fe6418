"""The helpers error messages are written with: a library's exception in one line, a setting's name
as the user spelled it (a command-line option, or a config field from Python)."""

from pathlib import Path

import numpy as np
import pytest

from inkread.errors import InkreadError, command, command_line_spelling, first_line, how_to_resume, option, option_value


def test_first_line_skips_a_bare_heading_and_keeps_messages_short():
    heading = RuntimeError("Error(s) in loading state_dict for InkNet:\n\tsize mismatch for fc.weight: [10] vs [11].")
    assert first_line(heading) == "size mismatch for fc.weight: [10] vs [11]."
    assert first_line(OSError("image file is truncated\nmore detail")) == "image file is truncated"
    assert first_line(ValueError("x" * 500), 120) == "x" * 117 + "..."  # cut, and said to be
    assert first_line(ValueError("a file named " * 20), 40) == "a file named a file named a file..."  # at a word's end
    assert first_line(ValueError("y" * 120), 120) == "y" * 120
    assert first_line(KeyError()) == "KeyError"  # an empty message: the type says something


def test_settings_are_named_as_the_python_caller_wrote_them():
    assert option("data_dir") == "data_dir"
    assert option("cors_origins", "--cors-origin") == "cors_origins"
    assert option_value("out", Path("runs/a")) == "out='runs/a'"
    assert option_value("top_k", 0) == "top_k=0"


def test_settings_are_named_as_options_while_the_command_runs_and_after_it_as_fields():
    with command_line_spelling():
        assert option("data_dir") == "--data-dir"
        assert option("cors_origins", "--cors-origin") == "--cors-origin"
        assert option_value("out", Path("runs/a")) == "--out runs/a"
        assert option_value("only", "") == "--only ''"  # as typed, not "--only " and a gap
        assert option_value("only", np.array([1, 2])) == "--only [1 2]"  # no element-wise comparison with ''
        with command_line_spelling(on=False):  # a server started by the command answers requests
            assert option_value("only", "x") == "only='x'"
        assert option("only") == "--only"
    assert option("data_dir") == "data_dir"
    with pytest.raises(InkreadError):  # an error inside still restores the Python spelling
        with command_line_spelling():
            raise InkreadError(option("limit"))
    assert option("limit") == "limit"


def test_a_python_config_error_names_the_field_and_the_command_names_the_option(tmp_path, capsys):
    from inkread.cli import main
    from inkread.training import TrainConfig, train

    with pytest.raises(InkreadError, match=r"^epochs must be at least 1$"):
        train(TrainConfig(dataset="mnist", epochs=0, out=str(tmp_path / "run")))
    assert main(["train", "--dataset", "mnist", "--epochs", "0", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == "inkread: error: --epochs must be at least 1"


def test_what_to_run_is_said_as_the_user_runs_it():
    assert command("inkread read", "mode='read'") == "mode='read'"
    assert how_to_resume(Path("runs/a")) == "train(TrainConfig(dataset=None, out='runs/a', resume=True))"
    assert how_to_resume("runs/b", lines=True) == "train_lines(LineTrainConfig(out='runs/b', resume=True))"
    with command_line_spelling():
        assert command("inkread read", "mode='read'") == "inkread read"
        assert how_to_resume(Path("runs/a")) == "inkread train --out runs/a --resume"
        assert how_to_resume("runs/b", lines=True) == "inkread train-lines --out runs/b --resume"


def test_a_python_caller_of_predict_is_told_the_mode_to_use_not_a_command(tmp_path):
    from inkread.inference.jobs import PredictConfig, run_predict

    with pytest.raises(InkreadError, match=r"^lines is a line model: it reads whole lines; use mode='read'$"):
        run_predict(PredictConfig(paths=[str(Path(__file__).parent.parent / "samples" / "digits")], model="lines"))
    with pytest.raises(InkreadError, match=r"^lexicon works with mode='read' \(and a line model\)$"):
        run_predict(PredictConfig(paths=["x.png"], lexicon="english"))
