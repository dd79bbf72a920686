"""Advanced search, saved searches and segments pages."""

from django.urls import path

from lien.search import views

urlpatterns = [
    path("recherche/", views.search_builder, name="search_builder"),
    path("recherche/compte/", views.search_count, name="search_count"),
    path(
        "recherche/interaction/",
        views.search_bulk_interaction,
        name="search_bulk_interaction",
    ),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/compte/", views.segment_count, name="segment_count"),
    path("segments/<int:pk>/modifier/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/supprimer/", views.segment_delete, name="segment_delete"),
    path(
        "segments/<int:pk>/pourquoi/<int:contact_pk>/",
        views.segment_why,
        name="segment_why",
    ),
    path("contacts/<int:pk>/segments/", views.contact_segments, name="contact_segments"),
]
