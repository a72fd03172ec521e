"""The two-judge rules of ``audiogen_lib.judges``: a goal by both, a choice by the worse rank."""

import pytest

from audiogen_lib.errors import AudiogenError
from audiogen_lib.judges import both_hold, worse_rank_order


def test_a_goal_holds_only_when_every_judge_says_it_holds():
    assert both_hold({"cnn": "met", "mfcc": "met"}) == "met"
    assert both_hold({"cnn": "met", "mfcc": "missed"}) == "missed"
    assert both_hold({"cnn": "undecided", "mfcc": "missed"}) == "missed"
    assert both_hold({"cnn": "met", "mfcc": "undecided"}) == "undecided"


def test_the_order_follows_each_candidates_worse_rank_not_either_judge_alone():
    # a is first by the CNN and last by the MFCC judge, c the reverse; b is second by both
    scores = {"a": {"cnn": 1.0, "mfcc": 9.0}, "b": {"cnn": 2.0, "mfcc": 2.0}, "c": {"cnn": 9.0, "mfcc": 1.0}}
    order, ranks = worse_rank_order(scores)
    assert ranks == {"a": {"cnn": 1, "mfcc": 3}, "b": {"cnn": 2, "mfcc": 2}, "c": {"cnn": 3, "mfcc": 1}}
    assert order[0] == "b"


def test_equal_worse_ranks_go_to_the_better_rank_or_to_the_callers_tie_break():
    # worse ranks: a 3, d 3 (better ranks 1 and 2); b 4, c 4 (better ranks 2 and 1)
    scores = {"a": {"cnn": 1.0, "mfcc": 3.0}, "b": {"cnn": 2.0, "mfcc": 4.0},
              "c": {"cnn": 4.0, "mfcc": 1.0}, "d": {"cnn": 3.0, "mfcc": 2.0}}
    order, _ = worse_rank_order(scores)
    assert order == ["a", "d", "c", "b"]
    order, _ = worse_rank_order(scores, tie_break=lambda c, ranks: {"a": 2, "b": 0, "c": 1, "d": 0}[c])
    assert order == ["d", "a", "b", "c"]


def test_nothing_to_rank_is_refused():
    with pytest.raises(AudiogenError, match="no candidates"):
        worse_rank_order({})
