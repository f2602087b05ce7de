from django.urls import include, path

app_name = "inference"
urlpatterns = [
    path("", include("inference.dashboard_urls")),
]
