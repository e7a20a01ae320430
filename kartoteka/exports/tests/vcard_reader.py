"""A small vCard reader for the tests (RFC 6350 §3.2 unfolding, §3.4 unescaping), written
independently of the writer so the two check each other."""

import re


def unfold(text: str) -> list[str]:
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def split_unescaped(value: str, separator: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in value:
        if escaped:
            current += {"n": "\n", "N": "\n"}.get(ch, ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def read_cards(text: str) -> list[dict[str, list[str]]]:
    """Each card as {PROPERTY: [raw values]} (parameters dropped)."""
    cards: list[dict[str, list[str]]] = []
    card: dict[str, list[str]] | None = None
    for line in unfold(text):
        if not line:
            continue
        name_part, _, value = line.partition(":")
        name = name_part.split(";")[0].upper()
        if name == "BEGIN":
            card = {}
        elif name == "END":
            assert card is not None
            cards.append(card)
            card = None
        else:
            assert card is not None
            card.setdefault(name, []).append(value)
    return cards
