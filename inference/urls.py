from django.urls import include, path

app_name = "inference"
urlpatterns = [
    path("", include("inference.model_urls")),
    path("", include("inference.dashboard_urls")),
]
