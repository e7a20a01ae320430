"""REST operations of exports and saved searches (under /api/v1/).

Thin doors onto exports.services and selectors; errors take the API's one error shape.
Exports: POST /exports/ starts one (small ones are ready in the answer, large ones run in
the background: poll GET /exports/{id}), GET /exports/{id}/download gives the file to its
owner or an administrator only.
"""

import uuid

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from kartoteka.audit import services as audit_services
from kartoteka.exports import selectors, services
from kartoteka.exports.models import Export, SavedSearch

router = Router(tags=["exports"])


class ExportIn(Schema):
    format: str = Field(description="xlsx, csv, csv_bom, csv_1251 or vcard.")
    filters: str = Field(
        "", description="The client list's filters as a query string, e.g. 'status=lead&team=2'."
    )
    saved_search: int | None = Field(None, description="Use a saved search's filters instead.")
    background: bool | None = Field(
        None, description="Force the background path; by default decided by size."
    )


class ExportOut(Schema):
    id: uuid.UUID = Field(alias="public_id")
    format: str
    filters: str = Field(alias="query")
    status: str
    progress: int
    row_count: int
    expected_rows: int | None
    replaced: int = Field(description="Values transliterated to fit Windows-1251.")
    error: str
    download_url: str | None

    @staticmethod
    def resolve_download_url(obj: Export) -> str | None:
        if obj.status != Export.Status.DONE or not obj.file:
            return None
        return f"/api/v1/exports/{obj.public_id}/download"


class SavedSearchIn(Schema):
    name: str
    filters: str = ""
    shared: bool = False


class SavedSearchOut(Schema):
    id: int
    name: str
    filters: str = Field(alias="query")
    shared: bool
    owner_id: int


@router.post("/exports/", response={201: ExportOut})
def create_export(request: HttpRequest, payload: ExportIn):
    search = None
    if payload.saved_search is not None:
        search = selectors.saved_search_get(user=request.auth, pk=payload.saved_search)  # type: ignore[attr-defined]
    export = services.export_create(
        actor=request.auth,  # type: ignore[attr-defined]
        format=payload.format,
        query=payload.filters,
        saved_search=search,
        background=payload.background,
    )
    return Status(201, export)


@router.get("/exports/", response=list[ExportOut])
def list_exports(request: HttpRequest):
    return list(selectors.export_list(user=request.auth)[:100])  # type: ignore[attr-defined]


@router.get("/exports/{uuid:export_id}", response=ExportOut)
def get_export(request: HttpRequest, export_id: uuid.UUID):
    return selectors.export_get(user=request.auth, public_id=export_id)  # type: ignore[attr-defined]


@router.get("/exports/{uuid:export_id}/download", response={200: None})
def download_export(request: HttpRequest, export_id: uuid.UUID):
    export = selectors.export_get(user=request.auth, public_id=export_id)  # type: ignore[attr-defined]
    if export.status != Export.Status.DONE or not export.file:
        raise HttpError(409, _("This export has no file to download yet."))
    audit_services.record(
        "download",
        obj=export,
        request=request,
        details={"format": export.format, "rows": export.row_count},
    )
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1]
    )


@router.get("/saved-searches/", response=list[SavedSearchOut])
def list_saved_searches(request: HttpRequest):
    return list(selectors.saved_search_list(user=request.auth))  # type: ignore[attr-defined]


@router.post("/saved-searches/", response={201: SavedSearchOut})
def create_saved_search(request: HttpRequest, payload: SavedSearchIn):
    search = services.saved_search_create(
        actor=request.auth,  # type: ignore[attr-defined]
        name=payload.name,
        query=payload.filters,
        shared=payload.shared,
    )
    return Status(201, search)


@router.delete("/saved-searches/{int:search_id}", response={204: None})
def delete_saved_search(request: HttpRequest, search_id: int):
    search: SavedSearch = selectors.saved_search_get(user=request.auth, pk=search_id)  # type: ignore[attr-defined]
    services.saved_search_delete(actor=request.auth, search=search)  # type: ignore[attr-defined]
    return Status(204, None)
