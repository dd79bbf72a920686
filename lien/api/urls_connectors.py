"""Connectors API: /api/v1/connectors/helloasso/… (see lien/api/connectors.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from lien.api import connectors

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register(
    "connectors/helloasso/forms", connectors.HelloAssoFormViewSet, basename="api-helloasso-forms"
)
router.register(
    "connectors/helloasso/syncs", connectors.HelloAssoSyncViewSet, basename="api-helloasso-syncs"
)
router.register(
    "connectors/helloasso/runs", connectors.HelloAssoRunViewSet, basename="api-helloasso-runs"
)

urlpatterns = [
    path(
        "v1/connectors/helloasso/",
        connectors.HelloAssoSettingsView.as_view(),
        name="api-helloasso",
    ),
    path(
        "v1/connectors/helloasso/test/",
        connectors.HelloAssoTestView.as_view(),
        name="api-helloasso-test",
    ),
    path("v1/", include(router.urls)),
]
