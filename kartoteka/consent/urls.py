"""Web routes of the consent app (full paths; included at the site root)."""

from django.urls import path

from kartoteka.consent import views

app_name = "consent"

CARD = "clients/<int:client_pk>/"

urlpatterns = [
    path(CARD + "consents/", views.client_consents, name="client-consents"),
    path(CARD + "consents/give/", views.consent_give, name="consent-give"),
    path(
        CARD + "consents/withdraw/<str:purpose>/", views.consent_withdraw, name="consent-withdraw"
    ),
]
