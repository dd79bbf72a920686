"""The import wizard's pages (lien/imports/views.py)."""

from django.urls import path

from lien.imports import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/nouveau/", views.import_new, name="import_new"),
    path(
        "imports/modeles/<int:pk>/supprimer/",
        views.import_template_delete,
        name="import_template_delete",
    ),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/fichier/", views.import_file, name="import_file"),
    path("imports/<int:pk>/modele/", views.import_template_apply, name="import_template_apply"),
    path("imports/<int:pk>/correspondances/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/verifier/", views.import_check, name="import_check"),
    path("imports/<int:pk>/lancer/", views.import_run, name="import_run"),
    path("imports/<int:pk>/rejets/", views.import_rejected, name="import_rejected"),
    path("imports/<int:pk>/annuler/", views.import_undo, name="import_undo"),
]
