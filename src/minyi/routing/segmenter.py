"""Word segmentation by the most probable route through a dictionary's words.

This is the part of jieba the matcher uses, and nothing else: jieba's prefix
dictionary (`Tokenizer.gen_pfdict`), the DAG of the dictionary words starting at each
character (`get_DAG`) and the dynamic programme choosing the most probable route
through it (`calc`), as in jieba 0.42.1 with HMM off. No general dictionary, no HMM,
no analyse/posseg/paddle: the dictionary is the caller's, built in memory. The code
is the same algorithm step for step (the same floats, the same tie-breaks), so the
route is exactly jieba's; tests/unit/test_matcher.py compares it against jieba itself.

Adapted from jieba 0.42.1 (https://github.com/fxsjy/jieba), MIT License,
Copyright (c) 2013 Sun Junyi. Permission is hereby granted, free of charge, to any
person obtaining a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions: The above copyright notice and this
permission notice shall be included in all copies or substantial portions of the
Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE
OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import log


class Segmenter:
    """A dictionary of words with frequencies, and jieba's route through a sentence."""

    def __init__(self, words: Mapping[str, int]) -> None:
        # jieba's prefix dictionary: every word with its frequency, and every prefix of a
        # word that is not itself a word with 0 (so the DAG knows to keep extending)
        freq: dict[str, int] = {}
        for word, count in words.items():
            freq[word] = count
            for end in range(1, len(word)):
                freq.setdefault(word[:end], 0)
        self.freq = freq
        self.total = sum(words.values())

    def dag(self, sentence: str) -> dict[int, list[int]]:
        """For each position, the end positions (inclusive) of the dictionary words that
        start there; a single character where none does."""
        freq, n = self.freq, len(sentence)
        dag = {}
        for k in range(n):
            ends = []
            i, frag = k, sentence[k]
            while i < n and frag in freq:
                if freq[frag]:
                    ends.append(i)
                i += 1
                frag = sentence[k:i + 1]
            dag[k] = ends or [k]
        return dag

    def route(self, sentence: str, dag: Mapping[int, list[int]]) -> dict[int, tuple[float, int]]:
        """For each position, (log probability of the best route from there to the end,
        end of the word that route takes first)."""
        freq, n = self.freq, len(sentence)
        route: dict[int, tuple[float, int]] = {n: (0, 0)}
        logtotal = log(self.total)
        for idx in range(n - 1, -1, -1):
            route[idx] = max((log(freq.get(sentence[idx:x + 1]) or 1) - logtotal + route[x + 1][0], x)
                             for x in dag[idx])
        return route
