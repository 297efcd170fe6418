"""A prefix tree (trie) of a word list in numpy arrays, for searching the words a CTC model may have read.

Each node is a prefix of some listed word; the root (node 0) is the empty prefix. Node ids follow
the words in sorted order, so a node's children are listed in alphabetical order. Arrays rather
than a dict per node: 307,000 English words make ~700,000 nodes, which fit in a few megabytes
this way (dicts would take hundreds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True, eq=False)
class Trie:
    """A word list's prefix tree.

    chars: the characters of the words; ``char[node]`` indexes it (-1 at the root).
    children: node ids grouped by parent: node n's children are ``children[first_child[n]:first_child[n + 1]]``.
    word: the index in the word list of the word that ends at each node, -1 where none does.
    """

    chars: str
    char: np.ndarray
    first_child: np.ndarray
    children: np.ndarray
    word: np.ndarray

    @property
    def nbytes(self) -> int:
        """The memory its arrays take."""
        return sum(a.nbytes for a in (self.char, self.first_child, self.children, self.word))


def build_trie(words: Sequence[str]) -> Trie:
    """The prefix tree of ``words`` (distinct strings); each word's node records its index in ``words``."""
    chars = "".join(sorted(set().union(*words))) if words else ""
    code = {c: k for k, c in enumerate(chars)}
    parent, char, word = [-1], [-1], [-1]
    path = [0]  # the nodes of the previous word, root first: a sorted neighbour shares its first ones
    previous = ""
    for index in sorted(range(len(words)), key=words.__getitem__):
        spelling = words[index]
        common = 0
        for a, b in zip(previous, spelling):
            if a != b:
                break
            common += 1
        del path[common + 1:]
        for c in spelling[common:]:
            parent.append(path[-1])
            char.append(code[c])
            word.append(-1)
            path.append(len(parent) - 1)
        word[path[-1]] = index
        previous = spelling
    parents = np.array(parent[1:], dtype=np.int32)
    counts = np.bincount(parents, minlength=len(parent))
    return Trie(chars=chars, char=np.array(char, dtype=np.int32),
                first_child=np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
                children=(np.argsort(parents, kind="stable") + 1).astype(np.int32),
                word=np.array(word, dtype=np.int32))
