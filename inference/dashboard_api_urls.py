"""The evaluation dashboard's JSON, under /api/ (no namespace: names carry the api-dashboard prefix)."""

from django.urls import path

from .dashboard_apis import ComparisonApi, DashboardApi

urlpatterns = [
    path("dashboard/", DashboardApi.as_view(), name="api-dashboard"),
    path("dashboard/compare/", ComparisonApi.as_view(), name="api-dashboard-compare"),
]
