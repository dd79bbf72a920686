"""URLs of the organising pages: labels, custom fields, groups, households, trash."""

from django.urls import path

from lien.contacts import views_organize as views

urlpatterns = [
    path("parametres/etiquettes/", views.label_list, name="label_list"),
    path("parametres/etiquettes/nouvelle/", views.label_create, name="label_create"),
    path("parametres/etiquettes/<int:pk>/", views.label_edit, name="label_edit"),
    path("parametres/etiquettes/<int:pk>/supprimer/", views.label_delete, name="label_delete"),
    path("parametres/champs/", views.custom_field_list, name="custom_field_list"),
    path("parametres/champs/nouveau/", views.custom_field_create, name="custom_field_create"),
    path("parametres/champs/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path(
        "parametres/champs/<int:pk>/renommer-choix/",
        views.custom_field_rename_choice,
        name="custom_field_rename_choice",
    ),
    path(
        "parametres/champs/<int:pk>/supprimer/",
        views.custom_field_delete,
        name="custom_field_delete",
    ),
    path("groupes/", views.group_list, name="group_list"),
    path("groupes/nouveau/", views.group_create, name="group_create"),
    path("groupes/<int:pk>/", views.group_detail, name="group_detail"),
    path("groupes/<int:pk>/recherche/", views.group_member_search, name="group_member_search"),
    path("groupes/<int:pk>/ajouter/", views.group_add_members, name="group_add_members"),
    path("groupes/<int:pk>/retirer/", views.group_remove_members, name="group_remove_members"),
    path("groupes/<int:pk>/supprimer/", views.group_delete, name="group_delete"),
    path("foyers/nouveau/", views.household_create, name="household_create"),
    path("foyers/choisir/<int:contact>/", views.household_choose, name="household_choose"),
    path("foyers/<int:pk>/", views.household_detail, name="household_detail"),
    path(
        "foyers/<int:pk>/recherche/", views.household_member_search, name="household_member_search"
    ),
    path("foyers/<int:pk>/ajouter/", views.household_add_member, name="household_add_member"),
    path("foyers/<int:pk>/retirer/", views.household_remove_member, name="household_remove_member"),
    path(
        "foyers/<int:pk>/appliquer-adresse/",
        views.household_apply_address,
        name="household_apply_address",
    ),
    path("foyers/<int:pk>/supprimer/", views.household_delete, name="household_delete"),
    path("corbeille/", views.trash, name="trash"),
    path("corbeille/restaurer/", views.trash_restore, name="trash_restore"),
]
