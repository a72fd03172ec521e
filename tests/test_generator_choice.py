"""The default generator of `audiogen generate`: the written rule, and where its choice is read."""

import pytest

from audiogen_lib import AudiogenError, generator_choice
from audiogen_lib.generation import command


def test_the_rule_takes_the_best_worse_rank_then_the_smaller_relative_kids():
    kids = {"a": {"cnn": 1.0, "mfcc": 9.0},     # best by one judge, worst by the other: worse rank 3
            "b": {"cnn": 2.0, "mfcc": 2.0},     # second by both: worse rank 2
            "c": {"cnn": 3.0, "mfcc": 1.0}}     # worse rank 3
    choice = generator_choice.apply_rule(kids)
    assert choice["model"] == "b" and choice["ranks"]["a"] == {"cnn": 1, "mfcc": 3}
    assert choice["order"] == ["b", "c", "a"]   # a and c tie on rank 3: c's KIDs are 3 + 1 times the best, a's 1 + 9
    assert choice["kid_ratio_sum"]["c"] == pytest.approx(4.0)
    with pytest.raises(AudiogenError, match="no generator"):
        generator_choice.apply_rule({})


def test_a_recorded_choice_of_the_ldm_is_the_default_without_a_digit(monkeypatch):
    monkeypatch.setattr(command, "validation_choice", lambda config="paper": {"model": "ldm"})
    assert command.default_model(None, "paper") == "ldm"      # the ldm is shipped for paper
    assert command.default_model(3, "paper") == "cvae"        # asked for a digit: the model told the digit
    monkeypatch.setattr(command, "validation_choice", lambda config="paper": None)
    assert command.default_model(None, "paper") == "cvae"     # no record: the first shipped VAE


def test_the_command_refuses_before_any_work(tmp_path):
    with pytest.raises(AudiogenError, match="whole validation split"):
        generator_choice.run_choose_generator(tmp_path / "c.json", ship=True, profile="smoke")
    with pytest.raises(AudiogenError, match="at least 20"):
        generator_choice.run_choose_generator(tmp_path / "c.json", n=5, profile="smoke")
    assert not (tmp_path / "c.json").exists()
