"""Imports API: /api/v1/imports/ and /api/v1/import-templates/ (see lien/api/imports.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from lien.api import imports

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("imports", imports.ImportViewSet, basename="api-imports")
router.register("import-templates", imports.TemplateViewSet, basename="api-import-templates")

urlpatterns = [path("v1/", include(router.urls))]
