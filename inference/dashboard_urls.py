"""The evaluation pages, under /models/ (inference.urls includes this with the "inference" namespace)."""

from django.urls import path

from . import dashboard_views as views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/predictions/", views.predictions, name="dashboard-predictions"),
    path("dashboard/predictions.csv", views.predictions_csv, name="dashboard-predictions-csv"),
    path("dashboard/compare/", views.compare, name="dashboard-compare"),
    path("dashboard/report/", views.report, name="dashboard-report"),
]
