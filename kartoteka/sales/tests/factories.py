"""Sales test data, built through the real services so it obeys the same rules."""

import datetime
import io
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.sales import services
from kartoteka.sales.models import Order, Product

D = Decimal


def make_product(actor: User, **data: Any) -> Product:
    fields = {
        "name": "Стрижка",
        "kind": Product.Kind.SERVICE,
        "price": D("1500.00"),
        "currency": "RUB",
        "unit": "шт",
        "vat_rate": D("20"),
        **data,
    }
    return services.product_create(actor=actor, data=fields)


def line(name: str = "Шампунь", quantity: str = "1", unit_price: str = "100.00", **extra: Any):
    return {"name": name, "quantity": D(quantity), "unit_price": D(unit_price), **extra}


def make_order(
    actor: User,
    client: Client,
    *,
    lines: list[dict[str, Any]] | None = None,
    allow_over_limit: bool = False,
    **data: Any,
) -> Order:
    fields = {"ordered_on": datetime.date(2024, 3, 1), **data}
    return services.order_create(
        actor=actor,
        client=client,
        data=fields,
        lines=lines if lines is not None else [line()],
        allow_over_limit=allow_over_limit,
    )


def jpeg(name: str = "before.jpg", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 80)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    body = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")
