"""Export pages: the « Exporter » buttons of the lists, searches, segments and groups lead
here, « Exporter toutes mes données » from the settings, and « Mes exports » (the history)."""

from django.urls import path

from lien.exports import views

urlpatterns = [
    path("exports/", views.export_list, name="export_list"),
    path("exports/<int:pk>/fichier/", views.export_file, name="export_file"),
    path("exports/contacts/", views.export_contacts, name="export_contacts"),
    path("exports/structures/", views.export_structures, name="export_structures"),
    path("exports/interactions/", views.export_interactions, name="export_interactions"),
    path("exports/paiements/<str:kind>/", views.export_payments, name="export_payments"),
    path("exports/recherche/", views.export_search, name="export_search"),
    path("exports/segments/<int:pk>/", views.export_segment, name="export_segment"),
    path("exports/groupes/<int:pk>/", views.export_group, name="export_group"),
    path("exports/toutes-mes-donnees/", views.export_all, name="export_all"),
]
