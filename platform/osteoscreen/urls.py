from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from .health import HealthApi
from .views import home

# Annotated: a list of both kinds is inferred as list[object], which include() does not accept.
api: list[URLPattern | URLResolver] = [
    path("health/", HealthApi.as_view(), name="api-health"),
    path("token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("cases.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("annotations.api_urls")),
    path("", include("inference.api_urls")),
]

urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API docs, files); base.html names one.
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}osteoscreen/favicon.svg", permanent=True)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("cases/", include("cases.urls")),
    path("jobs/", include("jobs.urls")),
    path("reading/", include("annotations.urls")),
    path("models/", include("inference.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
