"""Turning names into the forms people type: transliterations, pinyin, a loose 'skeleton'."""

import re
from functools import lru_cache

from pypinyin import lazy_pinyin
from unidecode import unidecode

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w@.+\-]+")

# Spelling differences between transliteration systems (Юлия: Yuliya, Iuliia, Julia;
# Хабаров: Khabarov, Habarov; Щукин: Shchukin, Schukin). Applied to both the document and
# the query so any system finds any other.
_SKELETON_RULES = [
    ("shch", "sh"),
    ("sch", "sh"),
    ("tch", "ch"),
    ("kh", "h"),
    ("zh", "j"),
    ("ts", "c"),
    ("tz", "c"),
    ("yu", "u"),
    ("iu", "u"),
    ("ju", "u"),
    ("ya", "a"),
    ("ia", "a"),
    ("ja", "a"),
    ("yo", "o"),
    ("io", "o"),
    ("jo", "o"),
    ("ye", "e"),
    ("ie", "e"),
    ("je", "e"),
    ("y", "i"),
    ("j", "i"),
    ("w", "v"),
    ("ck", "k"),
    ("x", "ks"),
    ("q", "k"),
    ("'", ""),
]


def has_cjk(value: str) -> bool:
    return bool(_CJK.search(value))


@lru_cache(maxsize=65536)
def skeleton(latin: str) -> str:
    """A loose Latin spelling that different transliterations of one name share."""
    value = latin.lower()
    for old, new in _SKELETON_RULES:
        value = value.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", value)


@lru_cache(maxsize=65536)
def variants(word: str) -> tuple[str, ...]:
    """The forms under which `word` is indexed and searched, lowercased, original first."""
    word = word.lower().strip()
    if not word:
        return ()
    out = [word]
    if has_cjk(word):
        syllables = lazy_pinyin(word)
        out += ["".join(syllables), " ".join(syllables)]
    else:
        latin = unidecode(word).lower().strip()
        if latin and latin != word:
            out.append(latin)
        if latin:
            skel = skeleton(latin)
            if skel not in out:
                out.append(skel)
    return tuple(dict.fromkeys(v for v in out if v))


def words(value: str) -> list[str]:
    return [w for w in _NON_WORD.split(value.lower()) if w]
