from django.urls import include, path

urlpatterns = [
    path("", include("inference.dashboard_api_urls")),
]
