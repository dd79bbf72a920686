"""URLs of the interaction pages, the card sections and the interaction settings."""

from django.urls import path

from lien.interactions import views

urlpatterns = [
    path("interactions/", views.interaction_list, name="interaction_list"),
    path("interactions/compte/", views.interaction_count, name="interaction_count"),
    path("interactions/nouvelle/", views.interaction_create, name="interaction_create"),
    path(
        "interactions/recherche-contact/",
        views.interaction_contact_search,
        name="interaction_contact_search",
    ),
    path("interactions/groupees/", views.interaction_bulk, name="interaction_bulk"),
    path("interactions/<int:pk>/modifier/", views.interaction_edit, name="interaction_edit"),
    path("interactions/<int:pk>/supprimer/", views.interaction_delete, name="interaction_delete"),
    path(
        "contacts/<int:pk>/interactions/",
        views.contact_interactions,
        name="contact_interactions",
    ),
    path(
        "contacts/<int:pk>/interactions/nouvelle/",
        views.contact_interaction_create,
        name="contact_interaction_create",
    ),
    path(
        "structures/<int:pk>/interactions/",
        views.structure_interactions,
        name="structure_interactions",
    ),
    path("groupes/<int:pk>/interactions/", views.group_interactions, name="group_interactions"),
    path(
        "groupes/<int:pk>/interactions/nouvelle/",
        views.group_interaction_create,
        name="group_interaction_create",
    ),
    path("parametres/interactions/", views.settings_interactions, name="settings_interactions"),
    path(
        "parametres/interactions/<str:kind>/nouveau/",
        views.settings_interaction_create,
        name="settings_interaction_create",
    ),
    path(
        "parametres/interactions/<str:kind>/<int:pk>/",
        views.settings_interaction_edit,
        name="settings_interaction_edit",
    ),
    path(
        "parametres/interactions/<str:kind>/<int:pk>/supprimer/",
        views.settings_interaction_delete,
        name="settings_interaction_delete",
    ),
]
