"""A form renderer that writes Django's stock widget markup in Python.

The list page's filter panel has a few hundred `<option>`s (responsible employees, teams,
tags, statuses, sort orders): Django's template renderer renders each one through two
template includes, which took about a third of the list page's time. `WidgetRenderer`
produces the same markup as Django's templates for the widgets listed in `_PYTHON`
(select, select multiple, checkboxes and radios, plain inputs) with string formatting, and
hands every other template to the project's form renderer. Tests compare its output with
Django's own, widget by widget (clients/tests/test_widgets.py).
"""

from collections.abc import Callable
from typing import Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.formats import localize
from django.utils.html import conditional_escape

_WIDGETS = "django/forms/widgets/"


def _text(value: Any) -> str:
    """What `{{ value }}` writes: localized, then escaped unless marked safe."""
    value = localize(value)
    if not isinstance(value, str):
        value = str(value)
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """What `{{ value|stringformat:'s' }}` writes (the filter keeps safe strings safe)."""
    return conditional_escape(value if isinstance(value, str) else str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_text(name)}")
        else:
            out.append(f' {_text(name)}="{_formatted(value)}"')
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html (text, date, search, … and each checkbox or radio)."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/select.html with select_option.html for each option."""
    if not _options_are(widget, _WIDGETS + "select_option.html"):
        return None
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _options_are(widget: dict[str, Any], *template_names: str) -> bool:
    """Whether every option uses one of Django's own option templates (a widget subclass
    with a template of its own is left to the template renderer)."""
    return all(
        option["template_name"] in template_names
        for _group, options, _index in widget["optgroups"]
        for option in options
    )


def _input_option(option: dict[str, Any]) -> str:
    """checkbox_option.html / radio_option.html: input_option.html, which includes
    input.html (each file's closing newline is part of the output)."""
    if not option["wrap_label"]:
        return f"{_input(option)}\n\n\n"
    label_id = option["attrs"].get("id")
    label_for = f' for="{_text(label_id)}"' if label_id else ""
    return f"<label{label_for}>{_input(option)}\n {_text(option['label'])}</label>\n\n"


def _multiple_input(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/multiple_input.html (checkboxes, radios)."""
    if not _options_are(widget, _WIDGETS + "checkbox_option.html", _WIDGETS + "radio_option.html"):
        return None
    widget_id = widget["attrs"].get("id")
    widget_class = widget["attrs"].get("class")
    parts = ["<div"]
    if widget_id:
        parts.append(f' id="{_text(widget_id)}"')
    if widget_class:
        parts.append(f' class="{_text(widget_class)}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_text(group)}</label>")
        for option in options:
            parts.append(f"<div>\n    {_input_option(option)}</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


_PYTHON: dict[str, Callable[[dict[str, Any]], str | None]] = {
    _WIDGETS + "select.html": _select,
    _WIDGETS + "checkbox_select.html": _multiple_input,
    _WIDGETS + "radio.html": _multiple_input,
    **{
        f"{_WIDGETS}{name}.html": _input
        for name in ("text", "date", "search", "number", "email", "url", "hidden", "time")
    },
}


class WidgetRenderer(BaseRenderer):
    """The project's form renderer, with the widgets above written in Python."""

    @property
    def _fallback(self) -> BaseRenderer:
        return get_default_renderer()

    @property
    def form_template_name(self) -> str:  # type: ignore[override]
        return self._fallback.form_template_name

    @property
    def formset_template_name(self) -> str:  # type: ignore[override]
        return self._fallback.formset_template_name

    @property
    def field_template_name(self) -> str:  # type: ignore[override]
        return self._fallback.field_template_name

    def get_template(self, template_name: str) -> Any:
        return self._fallback.get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        python = _PYTHON.get(template_name)
        if python is not None and set(context) == {"widget"}:
            html = python(context["widget"])
            if html is not None:
                return html
        return self._fallback.render(template_name, context, request=request)


WIDGET_RENDERER = WidgetRenderer()
