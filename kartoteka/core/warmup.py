"""Getting a web process ready before its first request.

A request reads much on first use: templates, the four message catalogs, the
transliteration and pinyin tables, phone-number metadata. Loaded lazily, they make the first
requests slow; left to the cycle collector, they make every full collection slow: after a
few requests a worker holds some 350,000 long-lived container objects, and a full
collection walks them all (70–110 ms, a pause that lands in the 95th percentile of searches
at a million cards, docs/performance.md). `process_ready` loads them at start and then
`gc.freeze()`s everything the process holds, so that collections walk only what requests
make. It is what the gunicorn workers run (kartoteka.wsgi) and what the benchmark runs
before it measures.
"""

import gc
import logging

from django.conf import settings
from django.template.loader import get_template
from django.utils import translation

logger = logging.getLogger(__name__)

# The pages people open all day; each compiles its includes and template tags once.
TEMPLATES = (
    "clients/client_list.html",
    "clients/client_detail.html",
    "clients/client_timeline.html",
    "clients/client_form.html",
)


def _warm() -> None:
    import phonenumbers

    from kartoteka.search.indexing import document_parts  # noqa: F401  (its tables)
    from kartoteka.search.text import variants, words

    for template in TEMPLATES:
        get_template(template)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Clients")
    # Cyrillic, Ukrainian and Chinese words load the transliteration and pinyin tables.
    for text in ("Щукина Юлия", "Ґалаґан Їжак", "王小明 张伟"):
        for word in words(text):
            variants(word)
    for number in ("+79161234567", "+380677654321", "+8613800138000", "+12125550123"):
        phonenumbers.format_number(
            phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )


def process_ready() -> None:
    """Load what requests read on first use, then freeze the process's objects out of the
    cycle collector's reach. Never raises: a warm-up that fails leaves a slower process,
    not one that does not start."""
    try:
        _warm()
    except Exception:  # the server must come up even if a table is missing
        logger.exception("Warm-up failed; serving anyway")
    gc.collect()
    gc.freeze()
