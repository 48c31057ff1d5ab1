"""Target mentions as placeholder tokens, so the TF-IDF baseline learns "anger at <west> presence" once
rather than once per name (the US, Paris, Barkhane, l'Occident...).

Terms are declared in the config per target. A term written in capitals (``US``, ``EU``, ``OTAN``)
matches case-sensitively, so the pronoun "us" is not the United States; any other term matches
case-insensitively. Matches are whole words; the longest term wins where terms overlap.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


def placeholder(target: str) -> str:
    """The token standing for a target: letters only, so no tokenizer splits it."""
    return f"zz{re.sub(r'[^a-z]', '', target.lower())}zz"


@dataclass
class TargetMasker:
    terms: dict[str, list[str]]

    def __post_init__(self) -> None:
        entries = sorted(((term, target) for target, ts in self.terms.items() for term in ts), key=lambda e: -len(e[0]))
        self._target_of: dict[str, str] = {}
        alternatives = []
        for k, (term, target) in enumerate(entries):
            body = r"\s+".join(map(re.escape, term.split()))
            flags = "" if term.isupper() else "(?i:"
            alternatives.append(f"(?P<t{k}>{flags}{body}{')' if flags else ''})")
            self._target_of[f"t{k}"] = target
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)") if alternatives else None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, target) of every mention, left to right."""
        if self._pattern is None:
            return []
        return [(m.start(), m.end(), self._target_of[m.lastgroup]) for m in self._pattern.finditer(text)]

    def mask(self, text: str) -> str:
        """``text`` with every mention replaced by its target's placeholder."""
        out, pos = [], 0
        for start, end, target in self.spans(text):
            out += [text[pos:start], f" {placeholder(target)} "]
            pos = end
        return "".join(out) + text[pos:]
