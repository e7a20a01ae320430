from django.db import models


class SearchEntry(models.Model):
    """The search document of one card: every string a user might type to find it.

    Names with their transliterations and pinyin, phone digits, emails, handles,
    registration numbers and the card number, lowercased. Indexed by the database itself:
    an FTS5 trigram table kept in sync by triggers on SQLite (migration 0002), a pg_trgm
    GIN index on PostgreSQL. Written only through search.indexing.
    """

    client = models.OneToOneField(
        "clients.Client", primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    document = models.TextField(default="")

    def __str__(self) -> str:
        return self.document[:80]
