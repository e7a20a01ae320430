"""Import pages: the list with the upload form, and one page per import that is in turn
the mapping screen (with the preview and the dry run), the progress bar (polled by HTMX)
and the outcome (with undo)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.imports import selectors, services
from kartoteka.imports.forms import ImportSettingsForm, ImportUploadForm
from kartoteka.imports.models import Import

DETAIL = "imports/import_detail.html"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def import_list(request: HttpRequest) -> HttpResponse:
    services.ensure_can_import(request.user)
    services.mark_interrupted()
    form = ImportUploadForm()
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.import_upload(
                    actor=request.user,
                    file=form.cleaned_data["file"],
                    encoding=form.cleaned_data["encoding"],
                    delimiter=form.cleaned_data["delimiter"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect(job)
    imports = list(selectors.import_list(user=request.user)[:50])
    status = 400 if form.errors else 200
    return render(
        request, "imports/import_list.html", {"form": form, "imports": imports}, status=status
    )


def _detail_context(request: HttpRequest, job: Import, form=None) -> dict:
    context: dict = {"job": job, "form": form}
    if job.status in services.CONFIGURABLE:
        form = form or ImportSettingsForm(job=job, user=request.user)
        context["form"] = form
        preview, context["preview_problem"] = selectors.import_preview(job=job)
        context["preview"] = preview
        first = preview[0].cells if preview else []
        context["columns"] = [
            (index, field, first[index] if index < len(first) else "")
            for index, field in form.column_fields()
        ]
        context["option_fields"] = [
            "match_by", "on_match", "default_kind", "phone_region", "responsible", "team",
            "encoding", "delimiter",
        ]  # fmt: skip
    if job.status == Import.Status.CHECKED:
        context["errors"] = selectors.import_errors(job=job, dry_run=True)
    elif job.status not in services.CONFIGURABLE:
        context["errors"] = selectors.import_errors(job=job, dry_run=False)
    context["resumable"] = services._resumable(job)
    return context


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    services.ensure_can_import(request.user)
    job = selectors.import_get(user=request.user, pk=pk)
    if request.method == "POST":
        return _configure(request, job)
    return render(request, DETAIL, _detail_context(request, job))


def _configure(request: HttpRequest, job: Import) -> HttpResponse:
    """Save the mapping and options; then check or start when that button was pressed."""
    form = ImportSettingsForm(request.POST, job=job, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        reading = {}
        if "encoding" in form.fields:
            reading = {"encoding": data["encoding"], "delimiter": data["delimiter"]}
        try:
            job = services.import_configure(
                actor=request.user,
                job=job,
                mapping=form.mapping(),
                match_by=data["match_by"],
                on_match=data["on_match"],
                default_kind=data["default_kind"],
                phone_region=data["phone_region"],
                responsible=data["responsible"],
                team=data["team"],
                **reading,
            )
            action = request.POST.get("action")
            if action == "check":
                services.import_check(actor=request.user, job=job)
            elif action == "start":
                services.import_start(actor=request.user, job=job)
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(job)
    job.refresh_from_db()
    return render(request, DETAIL, _detail_context(request, job, form), status=200)


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment, polled while the import runs; the whole page once it ends,
    so the outcome and its buttons appear."""
    services.ensure_can_import(request.user)
    services.mark_interrupted()
    job = selectors.import_get(user=request.user, pk=pk)
    if _is_htmx(request) and not job.is_active:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, f"{DETAIL}#progress", {"job": job})


def _action(request: HttpRequest, pk: int, service, done_message: str) -> HttpResponse:
    services.ensure_can_import(request.user)
    job = selectors.import_get(user=request.user, pk=pk)
    try:
        service(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done_message)
    return redirect(job)


@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, services.import_resume, _("The import goes on."))


@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, services.import_undo, _("The import is being undone."))


@require_POST
def import_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, services.import_rollback, _("The import is being rolled back."))
