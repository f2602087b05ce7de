from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, register_converter
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.apis import TokenObtainApi, TokenRevokeApi

from .health import HealthApi
from .parsing import IdConverter
from .views import home

# `<id:pk>` in every app's URLs: ids that fit the database, so an absurd id is a 404, never a 500. Registered
# here, before the apps' URL modules are included, because the root URLconf is always loaded first.
register_converter(IdConverter, "id")

# Annotated: a list of both kinds is inferred as list[object], which include() does not accept.
api: list[URLPattern | URLResolver] = [
    path("health/", HealthApi.as_view(), name="api-health"),
    path("token/", TokenObtainApi.as_view(), name="api-token"),
    path("token/revoke/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the docs work under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("cases.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("annotations.api_urls")),
    path("", include("inference.api_urls")),
]

urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API docs, files); base.html names one.
    path(
        "favicon.ico",
        RedirectView.as_view(url=f"{settings.STATIC_URL}osteoscreen/favicon.svg", permanent=True),
    ),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("cases/", include("cases.urls")),
    path("jobs/", include("jobs.urls")),
    path("reading/", include("annotations.urls")),
    path("models/", include("inference.urls")),
]

# No URL serves MEDIA_ROOT, in any settings module and whatever DEBUG says: every stored file (volume,
# VOI revision, predicted mask, model file, export) reaches a person only through a view that checks the
# role and the blinding. GET /media/<path> falls through to the 404 page.

handler400 = "osteoscreen.error_views.bad_request"
handler403 = "osteoscreen.error_views.permission_denied"
handler404 = "osteoscreen.error_views.page_not_found"
handler500 = "osteoscreen.error_views.server_error"
