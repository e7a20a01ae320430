from django.contrib.auth import views as auth_views
from django.urls import path

from kartoteka.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_verify, name="login-verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("preferences/", views.preferences, name="preferences"),
    path("two-factor/", views.two_factor_view, name="two-factor"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="session-end"),
    path("security/", views.security_admin, name="security"),
    path("security/unlock/<int:pk>/", views.security_unlock, name="security-unlock"),
    path(
        "security/users/<int:pk>/reset-two-factor/",
        views.security_two_factor_reset,
        name="security-two-factor-reset",
    ),
    path(
        "security/users/<int:pk>/temporary-password/",
        views.security_temporary_password,
        name="security-temporary-password",
    ),
    path("tokens/", views.api_token_list, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("language/", views.set_language, name="set-language"),
]
