"""Sentence splitting with character offsets, for English and French.

pysbd does the splitting. French gets the abbreviations pysbd misses (months such as
``janv.``, ``p. 12``, ``P.-D.G.``, titles such as ``M.`` and ``Mme``). Line breaks are hard
boundaries (headlines and datelines carry no full stop). A run of text with no sentence
end longer than ``MAX_SENTENCE_CHARS`` is cut at the last whitespace before the cap, or at
the cap itself, so one runaway "sentence" cannot stall a batch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.lang.english import English
from pysbd.lang.french import French

MAX_SENTENCE_CHARS = 1000
WINDOW_CHARS = 1500

_FRENCH_EXTRA = [
    "janv", "févr", "fév", "avr", "juil", "sept", "oct", "nov", "déc",
    "p", "pp", "m", "mm", "mme", "mmes", "mlle", "mgr", "me", "dr", "pr", "st", "ste",
    "gén", "gal", "col", "cdt", "cne", "lt", "sgt", "adj", "p.-d.g", "pdg", "n°", "no",
    "av. j.-c", "apr. j.-c", "j.-c", "cie", "ets", "éd", "min", "env",
]


class _French(French):
    class AbbreviationReplacer(French.AbbreviationReplacer):
        def replace_period_of_abbr(self, txt: str, abbr: str) -> str:
            # pysbd's own rule only keeps an abbreviation before [a-z]; French needs "janv. à".
            return re.sub(
                r"(?<=\s{abbr})\.(?=((\.|:|-|\?|,)|(\s([a-zà-öø-ÿœ]|\d|\())))".format(abbr=re.escape(abbr.strip())),
                "∯", " " + txt)[1:]

    class Abbreviation(French.Abbreviation):
        ABBREVIATIONS = sorted(set(French.Abbreviation.ABBREVIATIONS) | set(_FRENCH_EXTRA))
        PREPOSITIVE_ABBREVIATIONS = ["m", "mm", "mme", "mmes", "mlle", "mgr", "me", "dr", "pr", "gén", "gal", "col", "cdt", "cne", "lt", "sgt", "st", "ste"]
        NUMBER_ABBREVIATIONS = ["p", "pp", "n°", "no", "art", "vol", "chap", "fig"]


_LANGUAGES = {"fr": _French, "en": English}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@lru_cache(maxsize=8)
def _segmenter(lang: str) -> pysbd.Segmenter:
    seg = pysbd.Segmenter(language="en", clean=False, char_span=False)
    seg.language_module = _LANGUAGES.get(lang, English)
    return seg


# pysbd mistakes "P.-D.G." for sentence ends; protect it with a placeholder of equal length.
_PDG = re.compile(r"P\.-D\.G\.", re.IGNORECASE)
_PROTECT = "\ue000"


def _cap(start: int, piece: str) -> list[tuple[int, int]]:
    """Cut an over-long piece at whitespace (or hard) under MAX_SENTENCE_CHARS."""
    out = []
    pos = 0
    while len(piece) - pos > MAX_SENTENCE_CHARS:
        window = piece[pos:pos + MAX_SENTENCE_CHARS]
        cut = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
        cut = cut + 1 if cut > MAX_SENTENCE_CHARS // 2 else MAX_SENTENCE_CHARS
        out.append((start + pos, start + pos + cut))
        pos += cut
    out.append((start + pos, start + len(piece)))
    return out


_SAFE_CUT = re.compile(r"(?<=[a-zà-ÿ]{3}[.!?]) +(?=[A-ZÀ-Ý«\"“])")


def _windows(block: str) -> list[str]:
    """Cut a long paragraph into short windows for pysbd, whose cost grows faster than linearly
    with text length: each window ends at a safe sentence end (a full stop after a lower-case word,
    before a capital) when there is one, else at whitespace, so a 20 MB article costs linear time."""
    out = []
    while len(block) > WINDOW_CHARS:
        cuts = [m.end() for m in _SAFE_CUT.finditer(block, WINDOW_CHARS // 3, WINDOW_CHARS)]
        cut = cuts[-1] if cuts else (block.rfind(" ", WINDOW_CHARS // 3, WINDOW_CHARS) + 1 or WINDOW_CHARS)
        out.append(block[:cut])
        block = block[cut:]
    out.append(block)
    return out


def split_sentences(text: str, lang: str = "en") -> list[Span]:
    """Split ``text`` into sentences whose offsets slice back exactly: ``text[s.start:s.end] == s.text``.

    Leading and trailing whitespace is left out of each span; empty pieces are dropped.
    """
    segmenter = _segmenter(lang)
    spans: list[Span] = []
    for para in re.finditer(r"[^\n\r\u2028\u2029]+", text):
        block = para.group()
        if not block.strip():
            continue
        protected = _PDG.sub(lambda m: _PROTECT * len(m.group()), block)
        pos = 0
        # Processor.process() directly: Segmenter.segment() would also compile one regex per sentence
        # to find offsets, which we compute ourselves below.
        for seg in (s for window in _windows(protected) if window.strip()
                    for s in segmenter.processor(window).process()):
            core = seg.strip()
            if not core:
                continue
            found = protected.find(core, pos)
            if found < 0:  # pysbd altered the text; fall back to the rest of the block
                found, core = pos, protected[pos:].strip()
                if not core:
                    break
                found = protected.find(core, pos)
            pos = found + len(core)
            for s, e in _cap(para.start() + found, text[para.start() + found:para.start() + pos]):
                piece = text[s:e]
                lead = len(piece) - len(piece.lstrip())
                trail = len(piece.rstrip())
                if trail > lead:
                    spans.append(Span(s + lead, s + trail, piece[lead:trail]))
    return spans


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = {c: " " for c in range(32) if chr(c) not in "\n\t"} | {0x7F: " "}


def model_text(text: str) -> str:
    """The text a model sees: zero-width characters and soft hyphens removed, controls as spaces."""
    return text.translate(_INVISIBLE).translate(_CONTROL)


def splitter_text(text: str) -> str:
    """Same length as ``text`` (so offsets hold), with invisible and control characters as spaces."""
    return text.translate({**{k: " " for k in _INVISIBLE}, **_CONTROL})
