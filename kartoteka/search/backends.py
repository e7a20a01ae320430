"""Finding card ids by the search documents, with the database's own index.

SQLite: FTS5 with the trigram tokenizer (any substring of three or more characters).
PostgreSQL: LIKE on a pg_trgm GIN index. Queries shorter than three characters, which no
trigram index can answer, fall back to a prefix match on the indexed sort name.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from kartoteka.clients.normalize import digits, normalize_email
from kartoteka.search.text import variants, words

_PHONEISH = re.compile(r"^[\d\s()+\-.]+$")
_WHOLE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
# More cards than this with one address is not a search any more but a mailing list.
EMAIL_MATCHES = 1000


def whole_email(query: str) -> str | None:
    """The query as a normalised address when it is one whole email address, else None.

    Such a query asks for the card(s) with that address: it is answered from the contacts'
    (kind, normalized) index, exactly, in a fraction of a millisecond, where a substring
    search of the documents must intersect the trigram lists of some twenty trigrams
    ("yan", ".ru", ...) that half the base shares (10–30 ms on PostgreSQL at a million
    cards). A part of an address ("ivanov@", "@mail.ru", "ivanov@mail") is still searched
    as a substring."""
    text = query.strip()
    if not _WHOLE_EMAIL.match(text):
        return None
    try:
        return normalize_email(text)
    except ValidationError:
        return None


def _email_owners(email: str) -> Q:
    from kartoteka.clients.models import ContactPoint

    # Read first: a list of a few ids lets the planner start from the primary key, where a
    # subquery could have it walk the cards in list order looking for them.
    owners = ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, normalized=email)
    return Q(pk__in=list(owners.order_by().values_list("client_id", flat=True)[:EMAIL_MATCHES]))


def _phone_terms(query: str) -> list[str]:
    """Digit strings to look for when the query is a phone number in any format."""
    raw_digits = digits(query)
    terms = [raw_digits]
    try:
        number = phonenumbers.parse(query, settings.KARTOTEKA_PHONE_REGION)
        if phonenumbers.is_possible_number(number):
            terms.insert(0, f"{number.country_code}{number.national_number}")
    except phonenumbers.NumberParseException:
        pass
    return list(dict.fromkeys(terms))


def parse_query(query: str) -> tuple[list[list[str]], str]:
    """The query as groups of alternatives (all groups must match, any term of a group), plus
    the leftover too-short text for the prefix fallback."""
    query = query.strip().lower()
    if _PHONEISH.match(query) and len(digits(query)) >= 3:
        return [_phone_terms(query)], ""
    groups: list[list[str]] = []
    short: list[str] = []
    for word in words(query):
        if "@" in word:
            # An email is indexed as typed; the looser spellings exist only for names, so
            # they could not match and would double the cost of the search.
            alternatives = [word] if len(word) >= 3 else []
        else:
            alternatives = [v for v in variants(word) if len(v) >= 3]
        if alternatives:
            groups.append(alternatives)
        else:
            short.append(word)
    return groups, " ".join(short)


def _fts_expression(groups: list[list[str]]) -> str:
    def phrase(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    return " AND ".join("(" + " OR ".join(phrase(t) for t in group) + ")" for group in groups)


def match_filter(query: str) -> Q | None:
    """A Q on Client narrowing to cards matching `query`, or None when the query is empty."""
    email = whole_email(query)
    if email is not None:
        return _email_owners(email)
    groups, short = parse_query(query)
    if not groups and not short:
        return None
    condition = Q()
    number = digits(query)
    is_number = bool(number) and number == query.strip().lstrip("#") and len(number) <= 12
    if groups and is_number and connection.vendor != "sqlite":
        # Documents or card number in one id subquery: OR-ing the number onto a join with
        # the documents would make PostgreSQL scan every card instead of using its indexes.
        from kartoteka.clients.models import Client
        from kartoteka.search.models import SearchEntry

        documents = Q()
        for group in groups:
            alternatives = Q()
            for term in group:
                alternatives |= Q(document__contains=term)
            documents &= alternatives
        matching = (
            SearchEntry.objects.filter(documents)
            .values("client_id")
            .union(Client.objects.filter(number=int(number)).values("pk"))
        )
        return Q(pk__in=matching)
    if groups:
        if connection.vendor == "sqlite":
            condition &= Q(
                pk__in=RawSQL(
                    "SELECT rowid FROM search_fts WHERE search_fts MATCH %s",
                    [_fts_expression(groups)],
                )
            )
        else:
            group_q = Q()
            for group in groups:
                alternatives = Q()
                for term in group:
                    alternatives |= Q(search_entry__document__contains=term)
                group_q &= alternatives
            condition &= group_q
    if short and not groups:
        condition &= Q(sort_name__gte=short, sort_name__lt=short + "\uffff")
    if is_number:
        condition |= Q(number=int(number))
    return condition


def fts_join_expression(query: str) -> str | None:
    """SQLite: the FTS5 MATCH expression when `query` is answered by the search index alone,
    so a caller may drive the query from the FTS table (see clients.selectors.client_list).

    None on other databases, for queries with no word of three characters or more (prefix
    fallback), for bare numbers (which `match_filter` also matches as card numbers) and for
    whole email addresses (looked up among the contacts, see `whole_email`).
    """
    if connection.vendor != "sqlite" or whole_email(query) is not None:
        return None
    groups, _short = parse_query(query)
    if not groups:
        return None
    number = digits(query)
    if number and number == query.strip().lstrip("#") and len(number) <= 12:
        return None
    return _fts_expression(groups)


def document_filter(query: str) -> Q | None:
    """PostgreSQL: a Q on SearchEntry for the documents matching `query`, when the query is
    answered by the documents alone, so a caller may page through matching ids first
    (see clients.selectors.client_list). None on SQLite and where `fts_join_expression`
    would be None."""
    if connection.vendor == "sqlite" or whole_email(query) is not None:
        return None
    groups, _short = parse_query(query)
    if not groups:
        return None
    number = digits(query)
    if number and number == query.strip().lstrip("#") and len(number) <= 12:
        return None
    documents = Q()
    for group in groups:
        alternatives = Q()
        for term in group:
            alternatives |= Q(document__contains=term)
        documents &= alternatives
    return documents
