"""The shipped translations are whole: every message of the source is in the ru, uk and
zh-hans catalogs, translated (no fuzzy guesses), with the same placeholders, and compiled.

A string added without `make messages` and a translation fails here, not in front of a
Chinese or Ukrainian user reading English."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
LOCALE = PACKAGE / "locale"
TRANSLATED = ("ru", "uk", "zh_Hans")
# Plural forms each language's catalog must fill (one / few / many for the Slavic ones).
PLURALS = {"ru": 3, "uk": 3, "zh_Hans": 1}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w*\}")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_a_guess(language):
    entries = [entry for entry in catalog(language) if not entry.obsolete]

    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    untranslated = [
        entry.msgid
        for entry in entries
        if (entry.msgid_plural and not all(entry.msgstr_plural.values()))
        or (not entry.msgid_plural and not entry.msgstr)
    ]

    assert fuzzy == []
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_plural_forms(language):
    wrong = []
    for entry in catalog(language).translated_entries():
        if entry.msgid_plural:
            if len(entry.msgstr_plural) != PLURALS[language]:
                wrong.append((entry.msgid, "plural forms"))
            # The singular may name the number in words ("one card"); the forms may not drop
            # a named placeholder the plural msgid has.
            expected = set(placeholders(entry.msgid_plural))
            for form in entry.msgstr_plural.values():
                if set(placeholders(form)) - expected:
                    wrong.append((entry.msgid, form))
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append((entry.msgid, entry.msgstr))

    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_matches_its_source(language):
    source = {(e.msgctxt, e.msgid): e for e in catalog(language).translated_entries()}
    compiled = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    found = {(e.msgctxt, e.msgid): e for e in compiled if e.msgid}

    assert found.keys() == source.keys()
    changed = [key for key, entry in found.items() if entry.msgstr != source[key].msgstr]
    assert changed == []


def test_the_catalogs_hold_every_message_of_the_source(tmp_path):
    """Extract the messages afresh (Django's makemessages over a copy of the package) and
    compare with the shipped catalog: nothing missing, nothing stale."""
    assert shutil.which("xgettext"), "GNU gettext is needed: apt-get install gettext"
    copy = tmp_path / "kartoteka"
    shutil.copytree(
        PACKAGE,
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor"),
    )
    command = [sys.executable, "-m", "django", "makemessages", "-l", "ru", "--no-obsolete"]
    # Without settings, as `make messages` runs it: the copy's own locale/ is written, never
    # the LOCALE_PATHS of the settings (the real catalogs).
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    subprocess.run(command, cwd=copy, check=True, capture_output=True, env=environment)

    fresh = polib.pofile(str(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    shipped = catalog("ru")
    fresh_ids = {(e.msgctxt, e.msgid) for e in fresh if not e.obsolete}
    shipped_ids = {(e.msgctxt, e.msgid) for e in shipped if not e.obsolete}
    assert sorted(fresh_ids - shipped_ids, key=str) == []  # in the code, not in the catalog
    assert sorted(shipped_ids - fresh_ids, key=str) == []  # in the catalog, gone from the code
