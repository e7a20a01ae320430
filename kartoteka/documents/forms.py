"""The upload form of the documents section: input shape only. What a file may be (size,
real type, honest name, a readable image) is decided by services.document_upload."""

from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from kartoteka.clients.models import Client
from kartoteka.documents import selectors
from kartoteka.documents.models import Document
from kartoteka.documents.services import ALLOWED_EXTENSIONS
from kartoteka.sales.models import Order


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Order) -> str:
        return f"№ {obj.number} · {date_format(obj.ordered_on, 'SHORT_DATE_FORMAT')}"


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Document.Kind.choices)
    number = forms.CharField(label=_("Number"), max_length=50, required=False)
    dated_on = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    order = OrderChoiceField(
        label=_("Order"), queryset=Order.objects.none(), required=False, empty_label="—"
    )
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        # Unique ids on the card page, where every section's form sits side by side.
        kwargs.setdefault("auto_id", "id_document-%s")
        super().__init__(*args, **kwargs)
        order_field = self.fields["order"]
        assert isinstance(order_field, forms.ModelChoiceField)
        order_field.queryset = selectors.document_order_choices(client=client)
        self.fields["file"].help_text = _("PDF, images, office documents; up to %(limit)s MB.") % {
            "limit": _max_mb()
        }


def _max_mb() -> int:
    from django.conf import settings

    return int(getattr(settings, "KARTOTEKA_MAX_UPLOAD_MB", 20))
