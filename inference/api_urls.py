from django.urls import include, path

urlpatterns = [
    path("", include("inference.model_api_urls")),
    path("", include("inference.dashboard_api_urls")),
]
