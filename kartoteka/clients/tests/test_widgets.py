"""clients.widgets.WidgetRenderer writes the markup of Django's widget templates in Python:
it must be Django's own, character for character, for every widget it takes over, and hand
every other template to the project's form renderer."""

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.utils import translation

from kartoteka.accounts.models import Team
from kartoteka.clients.forms import client_filter_form
from kartoteka.clients.widgets import WIDGET_RENDERER
from kartoteka.core.models import Tag


def _both(form: forms.Form, name: str) -> tuple[str, str]:
    form.renderer = get_default_renderer()
    stock = str(form[name])
    form.renderer = WIDGET_RENDERER
    return stock, str(form[name])


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_the_filter_panel_is_rendered_as_django_renders_it(alice, language):
    team = Team.objects.create(name='Юг & "Север" <b>')
    tag = Tag.objects.create(name="<VIP>")
    filled = {
        "q": '"><script>x</script>',
        "kind": "person",
        "status": ["lead", "key"],
        "tag": [str(tag.pk)],
        "responsible": str(alice.pk),
        "team": str(team.pk),
        "created_from": "2024-01-02",
        "actualized_to": "not a date",
        "archived": "all",
        "sort": "name",
    }
    with translation.override(language):
        for data in ({}, filled):
            form = client_filter_form(data)
            form.is_valid()
            assert form.renderer is WIDGET_RENDERER
            for name in form.fields:
                stock, python = _both(form, name)
                assert python == stock, name


class _Form(forms.Form):
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Fruit", [("a", "Apple & pear"), ("b", "<Banana>")]), ("c", "C")]
    )
    several = forms.MultipleChoiceField(
        choices=[("Group", [("1", "One"), ("2", "Two")]), ("3", "Three")],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "boxes"}),
    )
    one = forms.ChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect(attrs={"id": "radio"})
    )
    many = forms.MultipleChoiceField(choices=[(1, "1"), (2, "2")], widget=forms.SelectMultiple)
    text = forms.CharField(widget=forms.TextInput(attrs={"disabled": False, "autofocus": True}))
    number = forms.IntegerField()
    hidden = forms.CharField(widget=forms.HiddenInput)
    unlabelled = forms.MultipleChoiceField(
        choices=[("p", "P")], widget=forms.CheckboxSelectMultiple(attrs={"id": ""})
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "grouped": "b",
            "several": ["1", "3"],
            "one": "y",
            "many": ["2"],
            "text": "<&>",
            "number": "12",
            "hidden": '"',
        },
    ],
)
def test_stock_widgets_with_groups_and_attributes(data):
    form = _Form(data or None, auto_id="id_%s")
    for name in form.fields:
        stock, python = _both(form, name)
        assert python == stock, name


def test_a_widget_with_an_option_template_of_its_own_is_left_to_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    class CustomForm(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "A")], widget=Custom)

    form = CustomForm({"pick": "a"})
    stock, python = _both(form, "pick")
    assert python == stock
    assert "<option" not in python  # the other template was used, as Django uses it
