from django.db import models

# PostgreSQL: the trigram index over the documents also holds each one's id bucket,
# client_id / SEARCH_BUCKET (migration 0003), so a search can ask it for the matches
# among a range of ids (see clients.selectors._bucketed_id_windows). The index is built
# on this number: changing it needs a migration that rebuilds the index.
SEARCH_BUCKET = 2048


class SearchEntry(models.Model):
    """The search document of one card: every string a user might type to find it.

    Names with their transliterations and pinyin, phone digits, emails, handles,
    registration numbers and the card number, lowercased. Indexed by the database itself:
    an FTS5 trigram table kept in sync by triggers on SQLite (migration 0002), a pg_trgm
    GIN index on PostgreSQL with the id bucket as its first column (migration 0003).
    Written only through search.indexing.
    """

    client = models.OneToOneField(
        "clients.Client", primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    document = models.TextField(default="")

    def __str__(self) -> str:
        return self.document[:80]
