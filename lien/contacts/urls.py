from django.urls import path

from lien.contacts import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/compte/", views.contact_count, name="contact_count"),
    path("contacts/colonnes/", views.contact_columns, name="contact_columns"),
    path("contacts/actions/", views.contact_bulk, name="contact_bulk"),
    path("contacts/nouveau/", views.contact_form, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/modifier/", views.contact_form, name="contact_edit"),
    path("contacts/<int:pk>/supprimer/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/etiquettes/", views.contact_labels, name="contact_labels"),
    path(
        "contacts/<int:pk>/structures/",
        views.contact_link_structure,
        name="contact_link_structure",
    ),
    path("liens-structures/<int:pk>/", views.structure_link_edit, name="structure_link_edit"),
    path(
        "liens-structures/<int:pk>/supprimer/",
        views.structure_link_delete,
        name="structure_link_delete",
    ),
    path("structures/", views.structure_list, name="structure_list"),
    path("structures/compte/", views.structure_count, name="structure_count"),
    path("structures/colonnes/", views.structure_columns, name="structure_columns"),
    path("structures/actions/", views.structure_bulk, name="structure_bulk"),
    path("structures/recherche/", views.structure_search, name="structure_search"),
    path("structures/nouvelle/", views.structure_form, name="structure_create"),
    path("structures/<int:pk>/", views.structure_detail, name="structure_detail"),
    path("structures/<int:pk>/modifier/", views.structure_form, name="structure_edit"),
    path("structures/<int:pk>/supprimer/", views.structure_delete, name="structure_delete"),
    path("structures/<int:pk>/etiquettes/", views.structure_labels, name="structure_labels"),
]
