"""A lived-in history for demo and benchmark cards: interactions, orders with lines, services
rendered, invoices, payments, surveys and recommendations, each with its timeline line.

`history_bulk_create` writes the rows the services would write (totals computed with
kartoteka.core.money, base-currency amounts, the timeline line with the services' kind and
title) in batches (COPY on PostgreSQL, `executemany` elsewhere), ids assigned here: for an
otherwise idle database, like demo.cards_bulk_create. Documents are left out (they need
files); their timeline lines are tested elsewhere.
"""

import datetime
import multiprocessing
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients.models import CardNumberCounter
from kartoteka.core.money import money, to_base
from kartoteka.finance.models import Invoice, Payment
from kartoteka.sales.models import Order, OrderLine, ServiceRecord

# How a card's history is made up, in shares of its events.
KIND_WEIGHTS = {
    "interaction": 46,
    "order": 14,
    "service": 6,
    "invoice": 12,
    "payment": 12,
    "survey": 5,
    "recommendation": 5,
}
HISTORY_YEARS = 3
RATES = {"RUB": Decimal("1"), "USD": Decimal("92.500000"), "EUR": Decimal("99.800000")}

SUBJECTS = [
    "Уточнить условия поставки",
    "Повторный заказ",
    "Согласование счёта",
    "Вопрос по гарантии",
    "Запись на процедуру",
    "Обсуждение скидки",
    "Напоминание об оплате",
    "Follow-up on the proposal",
    "Презентация новой линейки",
    "Отзыв о последнем визите",
]
OUTCOMES = [
    "Договорились созвониться через неделю",
    "Клиент подтвердил заказ",
    "Отправили коммерческое предложение",
    "Клиент попросил счёт",
    "Нужно уточнить наличие на складе",
    "",
]
PRODUCTS = [
    ("Консультация", Decimal("2500.00")),
    ("Стрижка", Decimal("1800.00")),
    ("Окрашивание", Decimal("5400.00")),
    ("Набор для ухода", Decimal("3200.00")),
    ("Поставка бумаги А4, коробка", Decimal("2150.00")),
    ("Абонемент на 10 посещений", Decimal("15000.00")),
    ("Доставка", Decimal("500.00")),
    ("Annual support", Decimal("48000.00")),
]
SURVEYS = ["NPS после визита", "Оценка обслуживания", "Квартальный опрос"]
ADVICE = [
    "Повторить процедуру через 6 недель",
    "Заменить картридж фильтра",
    "Записаться на плановый осмотр",
    "Продлить абонемент",
    "Проверить остатки и пополнить запас",
]


@dataclass
class _Table:
    """Rows of one model as lists in column order, from defaults plus the given values."""

    model: type[models.Model]
    columns: list[str] = field(init=False)
    position: dict[str, int] = field(init=False)
    template: list[Any] = field(init=False)
    convert: list[tuple[int, Callable[[Any], Any]]] = field(init=False)

    def __post_init__(self) -> None:
        fields = self.model._meta.concrete_fields
        self.columns = [f.column for f in fields]
        self.position = {f.attname: i for i, f in enumerate(fields)}
        self.template = [f.get_default() for f in fields]
        self.convert = []
        for index, model_field in enumerate(fields):
            internal = model_field.get_internal_type()
            if connection.vendor == "sqlite" and internal == "DateTimeField":
                self.convert.append((index, _sqlite_datetime))
            elif internal == "DateField":
                self.convert.append((index, connection.ops.adapt_datefield_value))

    def row(self, values: dict[str, Any]) -> list[Any]:
        row = self.template.copy()
        position = self.position
        for name, value in values.items():
            row[position[name]] = value
        for index, convert in self.convert:
            if row[index] is not None:
                row[index] = convert(row[index])
        return row

    def insert(self, cursor: Any, rows: list[list[Any]]) -> None:
        """COPY on PostgreSQL (several times faster than row-by-row statements, and what
        makes 10,000,000 events a matter of minutes), one prepared INSERT elsewhere."""
        if connection.vendor != "postgresql":
            cursor.executemany(self.sql, rows)
            return
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in self.columns)
        with cursor.copy(f"COPY {quote(self.model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        return "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.model._meta.db_table),
            ", ".join(quote(c) for c in self.columns),
            ", ".join(["%s"] * len(self.columns)),
        )


def _sqlite_datetime(value: datetime.datetime) -> str:
    return str(value.astimezone(datetime.UTC).replace(tzinfo=None))


MODELS: list[type[models.Model]] = [
    Interaction,
    Order,
    OrderLine,
    ServiceRecord,
    Invoice,
    Payment,
    SurveyResponse,
    Recommendation,
    TimelineEvent,
]


@dataclass
class _Batch:
    rows: dict[type[models.Model], list[list[Any]]]
    events: int
    cards: int
    last_order_number: int


def spread(total: int, cards: int, *, seed: int = 1) -> Iterator[int]:
    """`total` events over `cards` cards, unevenly (some cards have none, some twice the
    average) but adding up to exactly `total`."""
    if cards <= 0:
        return
    rng = random.Random(seed)
    base, extra = divmod(total, cards)
    counts = [base + (1 if i < extra else 0) for i in range(cards)]
    for i in range(0, cards - 1, 2):
        shift = rng.randint(-counts[i], counts[i + 1]) if counts[i] or counts[i + 1] else 0
        counts[i] += shift
        counts[i + 1] -= shift
    yield from counts


class _HistoryMaker:
    """Builds the rows of a card's history. Pure computation: no database access."""

    def __init__(
        self,
        *,
        authors: Sequence[int],
        next_ids: dict[type[models.Model], int],
        next_order_number: int,
        content_types: dict[type[models.Model], int],
        now: datetime.datetime,
        seed: int,
    ) -> None:
        self.tables = {model: _Table(model) for model in MODELS}
        self.authors = list(authors) or [None]
        self.ids = dict(next_ids)
        self.order_number = next_order_number
        self.content_types = content_types
        self.now = now
        self.rng = random.Random(seed)
        self.kinds = list(KIND_WEIGHTS)
        self.weights = list(KIND_WEIGHTS.values())
        # Translated once: a lazy label formatted per event was a gettext call per event.
        self.interaction_labels = {kind: str(label) for kind, label in Interaction.Kind.choices}

    def _id(self, model: type[models.Model]) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def card(self, client_id: int, count: int, out: dict[type[models.Model], list[list[Any]]]):
        rng = self.rng
        span = HISTORY_YEARS * 365 * 24 * 3600
        moments = sorted(
            self.now - datetime.timedelta(seconds=rng.randint(0, span)) for _ in range(count)
        )
        open_invoices: list[tuple[int, Decimal, str, Decimal]] = []
        for moment, kind in zip(
            moments, rng.choices(self.kinds, self.weights, k=count), strict=True
        ):
            author = rng.choice(self.authors)
            maker = getattr(self, "_" + kind)
            model, pk, event = maker(client_id, moment, author, out, open_invoices)
            out[model].append(self.tables[model].row({"id": pk, **event.pop("row")}))
            out[TimelineEvent].append(
                self.tables[TimelineEvent].row(
                    {
                        "id": self._id(TimelineEvent),
                        "client_id": client_id,
                        "kind": kind,
                        "content_type_id": self.content_types[model],
                        "object_id": pk,
                        "author_id": author,
                        **event,
                    }
                )
            )

    # -- one maker per kind: (model, id, timeline values with the record's row under "row") --

    def _interaction(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        kind = rng.choice(["call", "call", "call", "meeting", "email", "message", "visit", "note"])
        subject = rng.choice(SUBJECTS)
        outcome = rng.choice(OUTCOMES)
        pk = self._id(Interaction)
        label = self.interaction_labels[kind]
        return (
            Interaction,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "kind": kind,
                    "direction": rng.choice(["in", "out"]) if kind == "call" else "",
                    "occurred_at": moment,
                    "duration_minutes": rng.randint(2, 40) if kind == "call" else None,
                    "author_id": author,
                    "subject": subject,
                    "content": "Обсудили текущие вопросы по обслуживанию.",
                    "outcome": outcome,
                    "created_at": moment,
                    "updated_at": moment,
                },
                "subkind": kind,
                "occurred_at": moment,
                "title": f"{label}: {subject}",
                "summary": outcome or "Обсудили текущие вопросы по обслуживанию.",
            },
        )

    def _order(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(Order)
        self.order_number += 1
        currency = "RUB" if rng.random() < 0.85 else rng.choice(["USD", "EUR"])
        rate = RATES[currency]
        subtotal = vat_total = Decimal("0.00")
        names = []
        for position in range(rng.randint(1, 3)):
            name, price = rng.choice(PRODUCTS)
            if currency != "RUB":
                price = money(price / rate)
            quantity = Decimal(rng.randint(1, 4))
            net = money(quantity * price)
            vat = money(net * Decimal("0.20"))
            subtotal += net
            vat_total += vat
            names.append(name)
            out[OrderLine].append(
                self.tables[OrderLine].row(
                    {
                        "id": self._id(OrderLine),
                        "order_id": pk,
                        "position": position,
                        "name": name,
                        "quantity": quantity,
                        "unit_price": price,
                        "vat_rate": Decimal("20.00"),
                        "net": net,
                        "vat": vat,
                        "total": net + vat,
                    }
                )
            )
        total = subtotal + vat_total
        status = "completed" if moment < self.now - datetime.timedelta(days=30) else "in_progress"
        if rng.random() < 0.05:
            status = "cancelled"
        day = moment.date()
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=moment.tzinfo)
        return (
            Order,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "number": self.order_number,
                    "ordered_on": day,
                    "status": status,
                    "currency": currency,
                    "exchange_rate": rate,
                    "payment_method": rng.choice(["card", "bank", "cash"]),
                    "responsible_id": author,
                    "subtotal": subtotal,
                    "vat_total": vat_total,
                    "total": total,
                    "total_base": to_base(total, rate),
                    "created_at": moment,
                    "updated_at": moment,
                },
                "subkind": status,
                "occurred_at": midnight,
                "title": f"Заказ № {self.order_number}",
                "summary": "; ".join(names),
                "amount": total,
                "currency": currency,
            },
        )

    def _service(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(ServiceRecord)
        name = rng.choice(PRODUCTS[:3])[0]
        rating = rng.choice([None, 4, 5, 5, 3])
        feedback = "Всё понравилось" if rating and rating >= 4 else ""
        return (
            ServiceRecord,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "name": name,
                    "performed_at": moment,
                    "performer_id": author,
                    "feedback": feedback,
                    "rating": rating,
                    "created_at": moment,
                },
                "occurred_at": moment,
                "title": name,
                "summary": feedback,
            },
        )

    def _invoice(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(Invoice)
        currency = "RUB" if rng.random() < 0.85 else rng.choice(["USD", "EUR"])
        rate = RATES[currency]
        amount = money(Decimal(rng.randint(1000, 90000)) / (rate if currency != "RUB" else 1))
        day = moment.date()
        number = f"С-{pk}"
        open_invoices.append((pk, amount, currency, rate))
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=moment.tzinfo)
        return (
            Invoice,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "number": number,
                    "issued_on": day,
                    "due_on": day + datetime.timedelta(days=14),
                    "currency": currency,
                    "exchange_rate": rate,
                    "amount": amount,
                    "amount_base": to_base(amount, rate),
                    "status": "issued",
                    "created_by_id": author,
                    "created_at": moment,
                },
                "subkind": "issued",
                "occurred_at": midnight,
                "title": f"Счёт № {number}",
                "amount": amount,
                "currency": currency,
            },
        )

    def _payment(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(Payment)
        if open_invoices:
            invoice_id, amount, currency, rate = open_invoices.pop(0)
        else:
            invoice_id, currency, rate = None, "RUB", RATES["RUB"]
            amount = money(Decimal(rng.randint(500, 20000)))
        method = rng.choice(["card", "bank", "cash", "online"])
        day = moment.date()
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=moment.tzinfo)
        return (
            Payment,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "invoice_id": invoice_id,
                    "paid_on": day,
                    "amount": amount,
                    "currency": currency,
                    "exchange_rate": rate,
                    "amount_base": to_base(amount, rate),
                    "method": method,
                    "created_by_id": author,
                    "created_at": moment,
                },
                "subkind": method,
                "occurred_at": midnight,
                "title": "Оплата" if invoice_id is None else f"Оплата по счёту № С-{invoice_id}",
                "amount": amount,
                "currency": currency,
            },
        )

    def _survey(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(SurveyResponse)
        score = rng.choice([10, 9, 9, 8, 7, 10, 6, 3])
        name = rng.choice(SURVEYS)
        day = moment.date()
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=moment.tzinfo)
        return (
            SurveyResponse,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "taken_on": day,
                    "name": name,
                    "scale": "nps",
                    "score": score,
                    "author_id": author,
                    "created_at": moment,
                },
                "subkind": "nps",
                "occurred_at": midnight,
                "title": f"{name}: {score}/10",
            },
        )

    def _recommendation(self, client_id, moment, author, out, open_invoices):
        rng = self.rng
        pk = self._id(Recommendation)
        text = rng.choice(ADVICE)
        day = moment.date()
        due = day + datetime.timedelta(days=rng.choice([14, 30, 42, 90]))
        if due < self.now.date():
            status = rng.choice(["followed", "followed", "not_followed", "pending"])
        else:
            status = "pending"
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=moment.tzinfo)
        return (
            Recommendation,
            pk,
            {
                "row": {
                    "client_id": client_id,
                    "given_on": day,
                    "text": text,
                    "due_on": due,
                    "author_id": author,
                    "status": status,
                    "created_at": moment,
                },
                "subkind": status,
                "occurred_at": midnight,
                "title": text,
            },
        )


def _batches(
    cards: Iterable[tuple[int, int]], maker: _HistoryMaker, batch_events: int
) -> Iterator[_Batch]:
    rows: dict[type[models.Model], list[list[Any]]] = {model: [] for model in MODELS}
    events = cards_done = 0
    for client_id, count in cards:
        if count:
            maker.card(client_id, count, rows)
        events += count
        cards_done += 1
        if events >= batch_events:
            yield _Batch(rows, events, cards_done, maker.order_number)
            rows = {model: [] for model in MODELS}
            events = cards_done = 0
    if events or cards_done:
        yield _Batch(rows, events, cards_done, maker.order_number)


def _produce(batches: Iterator[_Batch], queue: Any) -> None:
    try:
        for batch in batches:
            queue.put(batch)
    finally:
        queue.put(None)


def _from_child(batches: Iterator[_Batch]) -> Iterator[_Batch]:
    """Build batches in a forked child while this process writes (both cores busy)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    child = context.Process(target=_produce, args=(batches, queue), daemon=True)
    child.start()
    try:
        while (batch := queue.get()) is not None:
            yield batch
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
    if child.exitcode:
        raise RuntimeError(f"History generation failed in the child process ({child.exitcode}).")


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def history_bulk_create(
    cards: Iterable[tuple[int, int]],
    *,
    authors: Sequence[int],
    seed: int = 1,
    batch_events: int = 20_000,
    progress: Callable[[int], None] | None = None,
    parallel: bool = False,
    now: datetime.datetime | None = None,
) -> int:
    """Write a history for each (card id, number of events), over the last three years.

    Returns the number of timeline events written. Each batch is one transaction; order
    numbers continue after the highest and the order counter is left at the last one.
    """
    from django.utils import timezone

    now = now or timezone.now()
    with transaction.atomic():
        counter, _created = CardNumberCounter.objects.select_for_update().get_or_create(
            name="order", defaults={"value": 0}
        )
        last_number = max(
            counter.value,
            Order.objects.order_by("-number").values_list("number", flat=True).first() or 0,
        )
    content_types = {
        model: ContentType.objects.get_for_model(model).pk
        for model in MODELS
        if model not in (OrderLine, TimelineEvent)
    }
    maker = _HistoryMaker(
        authors=authors,
        next_ids={model: _next_id(model) for model in MODELS},
        next_order_number=last_number,
        content_types=content_types,
        now=now,
        seed=seed,
    )
    batches = _batches(cards, maker, batch_events)
    if parallel and "fork" in multiprocessing.get_all_start_methods():
        batches = _from_child(batches)
    tables = {model: _Table(model) for model in MODELS}
    total = 0
    try:
        for batch in batches:
            with transaction.atomic(), connection.cursor() as cursor:
                for model in MODELS:
                    if batch.rows[model]:
                        tables[model].insert(cursor, batch.rows[model])
            last_number = batch.last_order_number
            total += batch.events
            if progress:
                progress(total)
    finally:
        with transaction.atomic():
            CardNumberCounter.objects.filter(name="order").update(value=last_number)
            if connection.vendor == "postgresql":
                from django.core.management.color import no_style

                with connection.cursor() as cursor:
                    for statement in connection.ops.sequence_reset_sql(no_style(), MODELS):
                        cursor.execute(statement)
    return total


def history_spread(
    card_ids: Sequence[int], total: int, *, seed: int = 1
) -> Iterator[tuple[int, int]]:
    """(card id, events) for `total` events spread unevenly over `card_ids`."""
    return zip(card_ids, spread(total, len(card_ids), seed=seed), strict=True)
