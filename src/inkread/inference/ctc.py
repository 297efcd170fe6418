"""CTC decoding and scoring of a line model's (T, classes) log-probabilities, blank at class 0.

* ``ctc_greedy``: best-path decoding (what the line model reads on its own);
* ``ctc_log_likelihood``: how likely given spellings are, summed over every alignment (the forward
  pass), for the lexicon (``inference.lexicon``);
* ``ctc_alignment``: the single most likely alignment of a spelling, for each character's place.

numpy only, no PyTorch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def ctc_greedy(log_probs: np.ndarray, labels: Sequence[str]) -> list[tuple[str, float, int, int]]:
    """Best-path CTC decoding of one line's (T, len(labels) + 1) log-probabilities, blank at 0.

    Returns (character, confidence, first column, last column) per character read: a run of
    columns with the same best class is one character (a doubled letter needs a blank between its
    two runs), and its confidence is the highest probability it had in that run.
    """
    best = log_probs.argmax(axis=1)
    probability = np.exp(log_probs[np.arange(len(best)), best])
    out: list[tuple[str, float, int, int]] = []
    previous = 0
    for column, cls in enumerate(best):
        if cls != 0 and cls == previous:
            char, confidence, first, _ = out[-1]
            out[-1] = (char, max(confidence, float(probability[column])), first, column)
        elif cls != 0:
            out.append((labels[cls - 1], float(probability[column]), column, column))
        previous = cls
    return out


def _extended(target: Sequence[int]) -> np.ndarray:
    """CTC's state sequence for ``target`` (class indices, blank 0): blank, c1, blank, c2, ..., blank."""
    states = np.zeros(2 * len(target) + 1, dtype=np.int64)
    states[1::2] = target
    return states


def _may_skip(states: np.ndarray) -> np.ndarray:
    """Where a path may jump two states: onto a character that differs from the one before the blank."""
    skip = np.zeros(states.shape, dtype=bool)
    skip[..., 2:] = (states[..., 2:] != 0) & (states[..., 2:] != states[..., :-2])
    return skip


def ctc_log_likelihood(log_probs: np.ndarray, targets: Sequence[Sequence[int]]) -> np.ndarray:
    """The log-probability of each non-empty target (class indices, blank 0) over (T, classes) ``log_probs``.

    The CTC forward pass, summing every alignment of the target, for all targets at once.
    """
    lengths = np.array([len(target) for target in targets])
    states = np.zeros((len(targets), 2 * int(lengths.max(initial=1)) + 1), dtype=np.int64)
    for k, target in enumerate(targets):
        states[k, :2 * len(target) + 1] = _extended(target)
    emit = log_probs[:, states]  # (T, targets, states)
    emit[:, np.arange(states.shape[1]) > 2 * lengths[:, None]] = -np.inf  # past a shorter target's end
    skip = _may_skip(states)
    alpha = np.full(states.shape, -np.inf)
    alpha[:, :2] = emit[0, :, :2]
    for t in range(1, len(log_probs)):
        step = np.pad(alpha[:, :-1], ((0, 0), (1, 0)), constant_values=-np.inf)
        jump = np.where(skip, np.pad(alpha[:, :-2], ((0, 0), (2, 0)), constant_values=-np.inf), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, step), jump) + emit[t]
    rows = np.arange(len(targets))
    return np.logaddexp(alpha[rows, 2 * lengths], alpha[rows, 2 * lengths - 1])


def ctc_alignment(log_probs: np.ndarray, target: Sequence[int]) -> list[tuple[int, int]]:
    """The most likely alignment of ``target`` over ``log_probs``: each character's first and last frame."""
    states = _extended(target)
    emit = log_probs[:, states]
    skip = _may_skip(states)
    score = np.full(len(states), -np.inf)
    score[:2] = emit[0, :2]
    came_from = np.zeros((len(log_probs), len(states)), dtype=np.int64)  # 0 stay, 1 step, 2 jump
    for t in range(1, len(log_probs)):
        options = np.stack([score, np.r_[-np.inf, score[:-1]], np.where(skip, np.r_[-np.inf, -np.inf, score[:-2]], -np.inf)])
        came_from[t] = options.argmax(axis=0)
        score = options.max(axis=0) + emit[t]
    state = len(states) - 1 if score[-1] >= score[-2] else len(states) - 2
    path = []
    for t in range(len(log_probs) - 1, -1, -1):
        path.append(state)
        state -= came_from[t, state]
    path.reverse()
    frames = np.array(path)
    return [(int(np.flatnonzero(frames == s)[0]), int(np.flatnonzero(frames == s)[-1]))
            for s in range(1, len(states), 2)]
