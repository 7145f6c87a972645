"""The coco-caption tokenisation in Python: Stanford PTBTokenizer 3.4.1 rules, then punctuation removal.

coco-caption (pycocoevalcap) writes every caption on its own line of one file, runs
``java edu.stanford.nlp.process.PTBTokenizer -preserveLines -lowerCase`` (CoreNLP 3.4.1) and drops
the tokens in ``REMOVED_PUNCTUATION``. This module reproduces that on caption text: the lexer is a
longest-match scanner over the same token classes (words with internal ``.!?``, hyphenated and
``_`` compounds, slash compounds, numbers, fractions, clitics ``'s 're 've 'll 'd 'm n't``, the
assimilations ``cannot gonna gotta wanna lemme gimme 'tis 'twas``, the abbreviation lists, quote,
bracket, dash and currency normalisation) and ``tests/evaluation/metrics`` checks it token for token
against the jar on every RSICD caption and on a corpus of model-style captions.

Quirks kept on purpose because the reference has them: brackets become ``-lrb-``/``-rrb-`` (the
removal list is upper-case, so they survive lower-casing), ``!!`` and ``?!`` survive, a fraction such
as ``3 1/2`` is one token holding a non-breaking space, a one-letter abbreviation ``A.`` followed by
a sentence starter (``The``, ``It``, ...) loses its period, and ``€``/``£`` become ``$``/``#``.

Not modelled (use ``engine="corenlp"`` of ``caption_scores`` for such text): SGML/HTML tags, URLs
and e-mail addresses, phone numbers, emoticons, and the lexer's rarer special cases. Every line-break
character is turned into a space first; pycocoevalcap passes ``\\r``/``\\u2028`` through to Java,
which splits the line and misaligns every later caption.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["REMOVED_PUNCTUATION", "coco_tokenize", "ptb_tokens"]

#: Tokens that coco-caption drops after tokenising (its PUNCTUATIONS list, compared after lower-casing).
REMOVED_PUNCTUATION = frozenset(
    ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"]
)

_LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]")
_SP = "[ \t\u00a0\u2000-\u200a\u3000]"  # one SPACE character of the lexer
_SPNL = "[ \t\u00a0\u2000-\u200a\u3000\n]"  # SPACE or newline
_APOS = "['\u0092\u2019]"
_APOSETC = "['\u0092\u2019`\u0091\u2018\u201b]"
# super/subscripts, fractions, roman numerals: not letters to the lexer (U+2183/U+2184 are letters)
_SUPSUB = "\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u209f\u2150-\u2182\u2185-\u218f"
_LETTER = rf"[^\W\d_{_SUPSUB}]"
_ALNUM = rf"[^\W_{_SUPSUB}]"
# Combining marks are letters of the lexer's WORD (its LETTER macro lists them) but not of its hyphenated
# THING ([:letter:]): "cafe\u0301" is one word, "e\u0301-e\u0301" three tokens. Probed on the 3.4.1 jar.
_MARKS = "\u0300-\u036f\u0483-\u0487"
_WLETTER = rf"(?:{_LETTER}|[{_MARKS}])"
_WALNUM = rf"(?:{_ALNUM}|[{_MARKS}])"
_WORD = rf"{_WLETTER}{_WALNUM}*(?:[.!?]{_WLETTER}{_WALNUM}*)*"
# Vulgar fractions (the lexer's FRAC2) are tokens of their own; five of them are spelled out in ASCII.
_FRAC2 = "[\u00bc-\u00be\u2153-\u215e]"
_FRAC2_ASCII = {"\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4", "\u2153": "1/3", "\u2154": "2/3"}
_REDAUX = rf"{_APOS}(?:[msdMSD]|(?i:re|ve|ll))"
_NUM = r"(?:\d*(?:[.:,]\d+)+|\d+)"
_HYPHEN = "[-_\u058a\u2010\u2011]"
_ACRO = "[A-Za-z](?:\\.[A-Za-z])*"
# Hyphenated and "_" compounds; HTHING also lets the first part hold "." and "," and the last be an acronym.
_THING = f"(?:[dDoOlL]{_APOSETC}{_ALNUM})?{_ALNUM}+(?:{_HYPHEN}(?:[dDoOlL]{_APOSETC}{_ALNUM})?{_ALNUM}+)*"
_HTHING = f"{_ALNUM}(?:{_ALNUM}|[.,])*(?:-(?:[A-Za-z](?:\\.[A-Za-z])+\\.|{_ALNUM}+))+"

# Abbreviations kept with their period in any context (CoreNLP 3.4.1 ABBREV1 ∪ ABBREV2 bodies).
# Upper-case first letters in brackets are case-sensitive in the lexer; the rest is caseless.
_ABBREV1 = (
    "(?i:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|mon|tue|tues|wed|thu|thurs|fri|ala|ariz|calif|colo"
    "|conn|ct|dak|fla|ga|ind|kans?|ky|md|mich|minn|mo|mont|neb|nev|okla|penn|tenn|va|vt|wisc?|wyo|inc|cos?"
    "|corp|ltd|plc|rt|bancorp|bhd|assn|univ|intl|sys|tel|est|ext|sq|jr|sr|bros|blvd|rd|esq|etc|al|seq|bldg"
    "|(?:ed|ph)\\.d)|[A](?i:z|rk)|[D](?i:el)|[I](?i:ll)|[L](?i:a)|[M](?i:ass|iss)|[O](?i:re)|[P](?i:a)"
    "|[T](?i:ex)|[W](?i:ash)|[Pp]{1,2}[Tt][ye][Ss]?"
)
_ABTITLE = (
    "(?i:mr|mrs|ms|drs?|profs?|sens?|reps?|attys?|lt|col|gen|messrs|govs?|adm|rev|maj|sgt|cpl|pvt|capt|ste?"
    "|ave|pres|lieut|hon|brig|co?mdr|pfc|spc|supts?|det|mt|ft|adj|adv|asst|assoc|ens|insp|mlle|mme|msgr"
    "|sfc|vs|alex|wm|jos|cie|cf|treas|ph|invt|elec|natl|dept|a\\.k\\.a)|[M](?i:iss)|[v]|[Mm][ft][Gg]"
)
_ABBREV2 = f"(?:{_ABTITLE}|{_ACRO})\\."
# Words after which an acronym ends a sentence (established by probing the 3.4.1 jar): the first
# letter must be upper case, the rest is caseless.
_STARTERS = (  # noqa: SIM905 (one readable string)
    "A About According Additionally After An As At But Earlier He Her Here However If In It Last Many More"
    " Mr. Ms. Now Once One Other Our She Since So Some Such That The Their Then There These They This We"
    " When While What Yet You"
).split()
_STARTER_CASE = "(?:" + "|".join(f"{w[0]}(?i:{re.escape(w[1:])})" if len(w) > 1 else w for w in _STARTERS) + ")"
_ABBREV3 = "(?i:ca|figs?|prop|nos?|art|bldg|pp|op)\\."

_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "[": "-LSB-", "]": "-RSB-", "{": "-LCB-", "}": "-RCB-"}
_CURRENCY = {"\u20ac": "$", "\u00a3": "#", "\u00a2": "cents", "\u00a5": "$", "\u0080": "$"}
_OPEN_QUOTES = {
    "\u2018": "`",
    "\u201b": "`",
    "\u201c": "``",
    "\u0091": "`",
    "\u0093": "``",
    "\u2039": "`",
    "\u00ab": "``",
}
_CLOSE_QUOTES = {"\u2019": "'", "\u201d": "''", "\u0092": "'", "\u0094": "''", "\u203a": "'", "\u00bb": "''"}


@dataclass(frozen=True)
class _Rule:
    """One lexer rule: a pattern, an optional trailing context (counted for longest match) and an action."""

    name: str
    pattern: re.Pattern[str]
    context: re.Pattern[str] | None = None


def _rule(name: str, body: str, context: str | None = None) -> _Rule:
    return _Rule(name, re.compile(body), re.compile(context) if context is not None else None)


# Order matters: among matches of equal total length (token + trailing context) the first rule wins.
_RULES: tuple[_Rule, ...] = (
    _rule("assim3", "(?i:cannot|'twas)"),
    _rule("assim2", "(?i:'tis|gonna|gotta|lemme|gimme|wanna)"),
    _rule("word", _WORD, _REDAUX),
    _rule("word", rf"[A-Za-z]*[A-MO-Za-mo-z](?=[nN]{_APOSETC}[tT])", f"[nN]{_APOSETC}[tT]"),
    _rule("word", _WORD),
    _rule(
        "apoword",
        rf"{_APOS}n{_APOS}|[lLdDjJ]{_APOS}|{_APOS}(?i:em|cause|til[l]?)|{_APOS}[2-9]0[Ss]"
        rf"|[A-HJ-XZn]{_APOSETC}{_LETTER}{{2,}}|{_LETTER}+[aeiouyAEIOUY]{_APOSETC}[aeiouA-Z]{_LETTER}*",
    ),
    _rule("word", f"[Yy]{_APOS}", _LETTER),
    _rule("redaux", _REDAUX, "[^A-Za-z]"),
    _rule("redaux", "[\u2019\u0092](?:[msdMSD]|(?i:re|ve|ll))"),  # a curly apostrophe splits "’mile" too
    _rule("plain", f"{_APOS}[0-9]{{2}}", f"{_SPNL}|$"),  # '98 (the curly one kept as written)
    _rule("redaux", f"[nN]{_APOSETC}[tT]", "[^A-Za-z]"),
    _rule("plain", r"\d{1,2}[-/]\d{1,2}[-/]\d{2,4}"),
    _rule("plain", f"[-+]?{_NUM}"),
    _rule("frac", "(?:\\d{1,4}[- \u00a0])?\\d{1,4}(?:\\\\?/|\u2044)\\d{1,4}"),
    _rule("frac2", _FRAC2),
    _rule("plain", f"{_ALNUM}+(?:-{_LETTER}+){{0,2}}(?:\\\\?/{_ALNUM}+(?:-{_LETTER}+){{0,2}}){{1,2}}"),
    _rule("plain", "[A-Z]*\\$|#"),
    _rule("plain", _ABBREV3, f"{_SPNL}?\\d"),
    _rule("acronym_end", f"{_ACRO}\\.", f"{_SPNL}+{_STARTER_CASE}{_SPNL}"),
    _rule("abbrev1", f"(?:{_ABBREV1})\\."),
    _rule("plain", _ABBREV2),
    _rule("plain", f"{_WORD}\\.", "[,;:]"),
    _rule("plain", "\\.{3,5}|\u2026"),
    _rule("dash", "[\u2013\u2014\u2015\u0096\u0097]"),
    _rule("ldots", "\\.(?: \\.){2,4}"),
    _rule("dblquote", '"', f"[^\\W_{_SUPSUB}]|\\$"),
    _rule("quote_close", '"'),
    _rule("plain", "[?!]+|[.,;:=/@]"),
    _rule("hyphens", "-+"),
    _rule("plain", "\\*+|_+|#+"),
    _rule("quote", f"''|[`\u2018-\u201f\u0091-\u0094\u2039\u203a\u00ab\u00bb]{{1,2}}|{_APOS}"),
    _rule("plain", _THING),
    _rule("plain", _HTHING),
    _rule("plain", f"(?:{_THING}|{_HTHING})\\.", "[,;:]"),
    _rule("plain", "[\u207a\u207b\u208a\u208b]?(?:[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+|[\u2080-\u2089]+)"),
    _rule("plain", f"#{_LETTER}+|@[A-Za-z_][A-Za-z_0-9]*"),
    _rule("plain", "[A-Z]+(?:[+&][A-Z]+)+"),
)


_FAST = re.compile(r"(?:[A-Za-z]+|[,;:])(?=[ \n]|$)|\d+(?=[ \n]|$)(?! \d{1,4}\\?/)|\.(?=\n|$| (?!\.))")
_ASSIMILATIONS = frozenset(["cannot", "gonna", "gotta", "lemme", "gimme", "wanna"])


def _sentence_end_follows(text: str, end: int) -> bool:
    """The lexer's SENTEND1 after an abbreviation: whitespace, then whitespace or an upper-case letter, or EOF."""
    if end >= len(text):
        return True
    if not re.match(_SPNL, text[end]):
        return False
    return end + 1 >= len(text) or bool(re.match(_SPNL, text[end + 1])) or text[end + 1].isupper()


def _longest_match(text: str, pos: int) -> tuple[_Rule, str] | None:
    """The rule with the longest token + trailing context at pos (first rule on ties) and its token."""
    best: tuple[int, _Rule, str] | None = None
    for rule in _RULES:
        m = rule.pattern.match(text, pos)
        if m is None or m.end() == pos:
            continue
        total = m.end() - pos
        if rule.context is not None:
            c = rule.context.match(text, m.end())
            if c is None:
                continue
            total += c.end() - m.end()
        if best is None or total > best[0]:
            best = (total, rule, m.group())
    return None if best is None else (best[1], best[2])


def _action(rule: _Rule, tok: str, text: str, pos: int) -> tuple[list[str], int]:
    """The tokens a rule returns and how many characters it consumes (the lexer re-scans the rest)."""
    kind = rule.name
    if kind == "assim3":
        return [tok[:-3]], len(tok) - 3
    if kind == "assim2":
        return [tok[:-2]], len(tok) - 2
    if kind == "acronym_end":  # a one-letter "A." gives "A"; longer ones keep the period and repeat it
        return ([tok[:-1]], 1) if len(tok) == 2 else ([tok], len(tok) - 1)
    if kind == "abbrev1":
        return ([tok], len(tok) - 1) if _sentence_end_follows(text, pos + len(tok)) else ([tok], len(tok))
    if kind == "redaux":  # its apostrophe in ASCII: "n\u2019t" -> "n't", "n\u201bt" -> "n`t"
        return ["".join(_OPEN_QUOTES.get(c) or _CLOSE_QUOTES.get(c) or c for c in tok)], len(tok)
    if kind == "frac":
        return [tok.replace(" ", "\u00a0")], len(tok)
    if kind == "frac2":
        return [_FRAC2_ASCII.get(tok, tok)], len(tok)
    if kind == "dblquote":
        return ["``"], len(tok)
    if kind == "quote_close":
        return ["''"], len(tok)
    if kind == "ldots" or tok.startswith("...") or tok == "\u2026":
        return ["..."], len(tok)
    if kind == "dash":
        return ["--"], len(tok)
    if kind == "hyphens":
        return (["--"] if len(tok) in (2, 3, 4) else [tok]), len(tok)
    if kind == "quote":
        return [_quote(tok, text, pos)], len(tok)
    return [tok], len(tok)


def _quote(tok: str, text: str, pos: int) -> str:
    """LaTeX-style quotes: an ASCII ' before a letter opens (`); each curly quote of a one- or two-character
    token becomes its side's ASCII form (`` ` `` / ``'``, doubled ones ``` `` ``` / ``''``); '' closes."""
    if tok == "'":
        return "`" if re.match(r"[A-Za-z]\S", text[pos + 1 : pos + 3]) else "'"
    return "".join(_OPEN_QUOTES.get(c) or _CLOSE_QUOTES.get(c) or c for c in tok)  # "“‘" -> "```", as the jar


_MISC_SYMBOLS = re.compile(
    "[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e\u00a6-\u00b3\u00b4-\u00ba\u00d7\u00f7"
    "\u2016\u2017\u2020-\u2023\u2030-\u2038\u203b\u2043\u203e-\u2042\u2044\u207a-\u207f"
    "\u208a-\u208e\u2100-\u214f\u2190-\u2bff\u3012\u30fb\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40"
    "\uff5b-\uff65]"
)


def _scan_symbol(ch: str) -> str | None:
    """A lone character no rule covers: brackets, currency, the lexer's symbols; None when it is deleted."""
    if ch in _BRACKETS:
        return _BRACKETS[ch]
    if ch in _CURRENCY:
        return _CURRENCY[ch]
    return ch if _MISC_SYMBOLS.match(ch) else None


def _tokenize_text(text: str) -> list[list[str]]:
    """Tokens of every line of text (lines separated by '\\n'), before lower-casing and removal."""
    lines: list[list[str]] = [[]]
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "\n":
            lines.append([])
            pos += 1
            continue
        if re.match(_SP, ch) or ch.isspace():
            pos += 1
            continue
        fast = _FAST.match(text, pos)  # a plain word, number or separator: no other rule can do better
        if fast is not None and fast.group().lower() not in _ASSIMILATIONS:
            lines[-1].append(fast.group())
            pos = fast.end()
            continue
        found = _longest_match(text, pos)
        if found is None:
            symbol = _scan_symbol(ch)
            if symbol is not None:
                lines[-1].append(symbol)
            pos += 1
            continue
        rule, tok = found
        out, consumed = _action(rule, tok, text, pos)
        lines[-1].extend(out)
        pos += consumed
    return lines


def ptb_tokens(captions: Sequence[str]) -> list[list[str]]:
    """PTB tokens (lower-cased, punctuation kept) of each caption, captions tokenised as one file.

    The captions are joined with newlines exactly as coco-caption does, because a few rules look
    past the end of a line (an abbreviation at the end of one caption reacts to how the next begins).
    """
    text = "\n".join(_LINE_BREAKS.sub(" ", c) for c in captions)
    lines = _tokenize_text(text)
    return [[t.lower() for t in line] for line in lines[: len(captions)]]


def coco_tokenize(captions: Sequence[str]) -> list[str]:
    """Each caption as coco-caption scores it: PTB tokens, lower-cased, punctuation dropped, space-joined."""
    return [" ".join(t for t in line if t not in REMOVED_PUNCTUATION) for line in ptb_tokens(captions)]
