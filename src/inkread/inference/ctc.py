"""CTC decoding and scoring of a line model's (T, classes) log-probabilities, blank at class 0.

* ``ctc_greedy``: best-path decoding (what the line model reads on its own);
* ``ctc_log_likelihood``: how likely given spellings are, summed over every alignment (the forward
  pass), for the lexicon (``inference.lexicon``);
* ``ctc_alignment``: the single most likely alignment of a spelling, for each character's place;
* ``ctc_trie_search``: the listed words most likely under the model, by a prefix beam search that
  only follows a word list's prefix tree (``inference.trie``), for the lexicon's candidates.

numpy only, no PyTorch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from inkread.inference.trie import Trie


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


def ctc_trie_search(log_probs: np.ndarray, trie: Trie, classes: dict[str, int], beam: int, best: int,
                    word_prior: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The ``best`` words of ``trie`` most likely over (T, classes) ``log_probs`` (blank 0), with their scores.

    A CTC prefix beam search whose prefixes are trie nodes: each frame, every kept prefix either
    stays (a blank, or its last character again) or grows by one of its children in the tree, and
    the ``beam`` most likely prefixes (summed over the alignments kept) go on to the next frame;
    the words among all the prefixes of the last frame are ranked.
    ``classes`` maps a character to its class; a child whose character has none is never taken.
    Returns (word index, score) pairs, best first: the likelihood of the word's kept alignments,
    plus ``word_prior[word index]`` where given (e.g. a weighted log frequency).
    """
    lookup = np.array([classes.get(c, -1) for c in trie.chars] + [-1], dtype=np.int64)  # [-1]: the root's char
    nodes = np.zeros(1, dtype=np.int64)
    blank_end, char_end = np.zeros(1), np.full(1, -np.inf)  # log-probability of the prefix ending in a blank / not
    for frame in log_probs:
        if len(nodes) > beam:  # cut before growing, not after: the last frame's words are all weighed
            keep = np.argpartition(-np.logaddexp(blank_end, char_end), beam - 1)[:beam]
            nodes, blank_end, char_end = nodes[keep], blank_end[keep], char_end[keep]
        last = lookup[trie.char[nodes]]
        total = np.logaddexp(blank_end, char_end)
        kids, parent = _children(trie, nodes)
        kid_class = lookup[trie.char[kids]]
        kids, parent, kid_class = kids[kid_class >= 0], parent[kid_class >= 0], kid_class[kid_class >= 0]
        # a child repeating its parent's last character needs a blank between them
        grown = np.where(kid_class == last[parent], blank_end[parent], total[parent]) + frame[kid_class]
        stayed = np.where(last >= 0, char_end + frame[np.maximum(last, 0)], -np.inf)
        nodes, blank_end, char_end = _merged(np.concatenate([nodes, kids]),
                                             np.concatenate([total + frame[0], np.full(len(kids), -np.inf)]),
                                             np.concatenate([stayed, grown]))
    words = trie.word[nodes]
    score = np.logaddexp(blank_end, char_end)[words >= 0]
    words = words[words >= 0]
    if word_prior is not None:
        score = score + word_prior[words]
    order = np.argsort(-score, kind="stable")[:best]
    return [(int(words[k]), float(score[k])) for k in order if np.isfinite(score[k])]


def _children(trie: Trie, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every child of ``nodes``, and the position in ``nodes`` of each one's parent."""
    start, stop = trie.first_child[nodes], trie.first_child[nodes + 1]
    counts = stop - start
    parent = np.repeat(np.arange(len(nodes)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)  # 0, 1, .. within each parent
    return trie.children[start[parent] + offset].astype(np.int64), parent


def _merged(nodes: np.ndarray, blank_end: np.ndarray, char_end: np.ndarray):
    """One entry per node: a node reached by staying and by growing (at most twice) sums both ways."""
    order = np.argsort(nodes, kind="stable")
    nodes, blank_end, char_end = nodes[order], blank_end[order], char_end[order]
    again = np.flatnonzero(nodes[1:] == nodes[:-1]) + 1
    blank_end[again - 1] = np.logaddexp(blank_end[again - 1], blank_end[again])
    char_end[again - 1] = np.logaddexp(char_end[again - 1], char_end[again])
    keep = np.ones(len(nodes), dtype=bool)
    keep[again] = False
    return nodes[keep], blank_end[keep], char_end[keep]
