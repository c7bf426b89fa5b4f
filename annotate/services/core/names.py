"""Names people choose (study names, material titles, audit causes): one set of rules.

A name is NFC-normalised, its runs of spaces (any Unicode space) become one space and its ends
are trimmed. It is refused when it holds a control character (a newline, a tab ...), a
bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE ...), a zero-width or other invisible
character (U+200B, U+FEFF, U+2060, variation selectors, Hangul fillers ...), a private-use or
unassigned code point; when it has no letter or digit; or when it is longer than its cap.

A new name is also refused when it *looks like* an existing one: their confusable skeletons
are equal. The skeleton follows Unicode TS #39 (map each character to its prototype, with NFD
around it) over a small table of the Latin/Cyrillic/Greek homoglyphs that matter for names,
after NFKC (full-width and mathematical letters); a second skeleton folds case. So "demo-study"
written with a Cyrillic "е" or "о", as "DEMO-STUDY", or as "ｄｅｍｏ-study" all meet "demo-study",
and "PayPaI" (capital I) meets "PayPal".

Example:
    >>> clean_name("  pilot\u00a0 study ", what="study name", max_len=80)
    'pilot study'
    >>> skeleton("d\u0435mo-study") == skeleton("demo-study")        # Cyrillic e
    True
    >>> check_not_confusable("d\u0435mo-study", ["demo-study"], what="study")
    Traceback (most recent call last):
    ...
    annotate.services.core.errors.Conflict: the study 'd\u0435mo-study' looks the same as the existing study 'demo-study'; choose a clearly different name
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import TypeVar

from annotate.services.core.errors import Conflict, InputError

__all__ = ["MAX_STUDY_NAME", "MAX_TITLE", "MAX_CAUSE", "clean_name", "skeleton", "folded_skeleton", "check_not_confusable",
           "printable", "shown_name", "shown_names", "file_name_part"]

K = TypeVar("K")

MAX_STUDY_NAME = 80
MAX_TITLE = 200
MAX_CAUSE = 100

#: Categories refused anywhere in a name: controls, format characters (bidi controls, zero-width
#: characters, soft hyphen ...), surrogates, private use, unassigned, line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
#: Invisible characters of other categories (fillers, joiners and variation selectors).
_INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180E, 0x180F, 0x2800,
              0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}

# A subset of Unicode's confusables.txt (TS #39): character -> prototype, for the scripts a
# spoofed name here would use. Upper- and lower-case forms are listed because case is folded after.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic capitals that look like Latin ones
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ү": "Y", "Ѕ": "S", "І": "l", "Ӏ": "l", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ь": "b",
    # Cyrillic small letters
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ү": "y", "ԁ": "d", "ѵ": "v", "ɡ": "g", "ҽ": "e", "ѡ": "w",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "l", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "ι": "i", "α": "a", "κ": "k", "ρ": "p",
    "υ": "u", "ϲ": "c", "ϳ": "j", "ς": "c", "γ": "y",
    # Latin and common look-alikes (TS #39 prototypes: 0 -> O, 1/I/| -> l, m -> rn)
    "ı": "i", "ɩ": "i", "ɪ": "i", "ℓ": "l", "ɑ": "a", "ǀ": "l", "|": "l", "I": "l", "1": "l",
    "0": "O", "m": "rn", "ȷ": "j", "ɢ": "G", "ʜ": "H", "ʟ": "L", "ɴ": "N", "ʀ": "R", "ʏ": "Y",
    # dashes and dots
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "˗": "-", "⁃": "-", "ー": "-",
    "․": ".", "‧": ".", "·": ".", "•": ".",
}


def _bad_character(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES or ord(ch) in _INVISIBLE


def clean_name(value: str | None, *, what: str, max_len: int, field: str = "name") -> str:
    """``value`` as a name: NFC, single spaces, trimmed; refused if it hides characters.

    Raises:
        InputError: empty, too long, no letter or digit, or a control, bidi, zero-width or
            other invisible character (named by its code point).

    Example:
        >>> clean_name("pilot\u202e", what="study name", max_len=80)
        Traceback (most recent call last):
        ...
        annotate.services.core.errors.InputError: field name: the study name holds U+202E (RIGHT-TO-LEFT OVERRIDE); names may not hold control, bidirectional or invisible characters
    """
    text = unicodedata.normalize("NFC", value or "")
    for ch in text:
        if _bad_character(ch):
            label = unicodedata.name(ch, "a control character" if unicodedata.category(ch) == "Cc" else "unnamed")
            raise InputError(f"the {what} holds U+{ord(ch):04X} ({label}); names may not hold control, "
                             "bidirectional or invisible characters", field=field)
    text = " ".join("".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text).split())
    if not text:
        raise InputError(f"the {what} is empty", field=field)
    if len(text) > max_len:
        raise InputError(f"the {what} has {len(text):,} characters; the limit is {max_len}", field=field)
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise InputError(f"the {what} needs at least one letter or digit", field=field)
    return text


def skeleton(name: str) -> str:
    """The confusable skeleton of ``name`` as TS #39 defines it (case kept), over this module's table.

    Example:
        >>> skeleton("dеmo-study") == skeleton("demo‐study") == skeleton("ｄｅｍｏ-study")
        True
        >>> skeleton("rn") == skeleton("m"), skeleton("PayPaI") == skeleton("PayPal"), skeleton("A") == skeleton("a")
        (True, True, False)
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", name))
    return unicodedata.normalize("NFD", "".join(_CONFUSABLES.get(ch, ch) for ch in text))


def folded_skeleton(name: str) -> str:
    """The skeleton with case folded before and after the mapping: "DEMO-STUDY" meets "demo-study".

    Example:
        >>> folded_skeleton("DEMO-Study") == folded_skeleton("dеmo-study")
        True
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", name).casefold())
    mapped = "".join(_CONFUSABLES.get(ch, ch) for ch in text).casefold()
    return unicodedata.normalize("NFD", mapped)


def check_not_confusable(name: str, existing: Iterable[str], *, what: str) -> None:
    """Refuse ``name`` when it looks like another name in ``existing``: equal skeletons, with or
    without case (an identical name is left to the caller's own duplicate check).

    Raises:
        Conflict: naming the existing look-alike.
    """
    mine = (skeleton(name), folded_skeleton(name))
    for other in existing:
        if other != name and (skeleton(other) == mine[0] or folded_skeleton(other) == mine[1]):
            raise Conflict(f"the {what} {name!r} looks the same as the existing {what} {other!r}; "
                           "choose a clearly different name")


def printable(name: str) -> str:
    """``name`` with control, bidi and invisible characters shown as ``\\uXXXX`` escapes, for
    one-line output of names stored before these rules (``annotate study list``).

    Example:
        >>> printable("a\\nb\u202e")
        'a\\\\u000ab\\\\u202e'
    """
    return "".join(f"\\u{ord(ch):04x}" if _bad_character(ch) else ch for ch in name)


#: Characters a name shows at most on a page or in a list (longer names end in an ellipsis).
SHOWN_MAX = 80


def shown_name(name: object, *, max_len: int = SHOWN_MAX) -> str:
    """A stored name as pages, exports and the command line show it: the one display function.

    Names stored before the rules of this module may hold anything; shown, every control,
    bidi and invisible character becomes a visible ``\\uXXXX`` escape (:func:`printable`), runs of
    spaces become one, and a name longer than ``max_len`` characters is cut with an ellipsis
    ("…"). ``None`` is the empty string.

    Example:
        >>> shown_name("pay\u202eroll")
        'pay\\\\u202eroll'
        >>> shown_name("x" * 10_000, max_len=8)
        'xxxxxxx…'
    """
    if name is None:
        return ""
    text = " ".join(printable(str(name)).split(" "))
    text = " ".join(text.split())
    return text if len(text) <= max_len else text[: max(max_len - 1, 0)] + "…"


def shown_names(names: Mapping[K, str], *, ids: Mapping[K, object] | None = None, what: str = "study",
                max_len: int = SHOWN_MAX) -> dict[K, str]:
    """:func:`shown_name` of each of ``names`` (key -> name), telling look-alikes apart.

    Two names whose shown forms are equal, or whose confusable skeletons are equal once hidden
    characters are left out (:func:`folded_skeleton`: "demo-study" and "dеmo-study" with a
    Cyrillic е), would look the same in a picker; each of them gets its id appended (``ids[key]``,
    else the key itself).

    Example:
        >>> shown_names({3: "demo-study", 7: "d\u0435mo-study", 9: "pilot"})
        {3: 'demo-study (study #3)', 7: 'dеmo-study (study #7)', 9: 'pilot'}
    """
    shown = {key: shown_name(name, max_len=max_len) for key, name in names.items()}
    groups: dict[str, list[K]] = {}
    for key, name in names.items():
        visible = "".join(ch for ch in str(name) if not _bad_character(ch))  # hidden ones do not tell apart
        groups.setdefault(folded_skeleton(visible), []).append(key)
    seen: dict[str, list[K]] = {}
    for key, text in shown.items():
        seen.setdefault(text, []).append(key)
    clash = {k for group in (*groups.values(), *seen.values()) if len(group) > 1 for k in group}
    for key in clash:
        ident = key if ids is None else ids.get(key, key)
        suffix = f" ({what} #{ident})"
        shown[key] = shown_name(names[key], max_len=max(max_len - len(suffix), 8)) + suffix
    return shown


def file_name_part(name: object, *, max_len: int = 60) -> str:
    """A stored name as part of a download's file name: letters, digits, ``.``, ``_`` and ``-``
    kept (any script), everything else (spaces, slashes, escapes, controls) one ``_``, capped.

    Example:
        >>> file_name_part("pilot/../x\\u202e y")
        'pilot_.._x_y'
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", "" if name is None else str(name)):
        keep = ch in "._-" or (unicodedata.category(ch)[0] in "LN" and not _bad_character(ch))
        if keep:
            out.append(ch)
        elif not out or out[-1] != "_":
            out.append("_")
    text = "".join(out).strip("_.")[:max_len]
    return text or "study"
