"""Payment tables, payment pages and the payment sections of contact and structure cards."""

from django.urls import path

from lien.payments import views

urlpatterns = [
    *[
        path(f"paiements/{table.path}/", views.payment_list, {"kind": kind}, name=table.url_name)
        for kind, table in views.TABLES.items()
    ],
    path("paiements/totaux/", views.payment_totals, name="payment_totals"),
    path("paiements/nouveau/", views.payment_create, name="payment_create"),
    path(
        "paiements/recherche-contact/",
        views.payment_contact_search,
        name="payment_contact_search",
    ),
    path(
        "paiements/recherche-structure/",
        views.payment_structure_search,
        name="payment_structure_search",
    ),
    path("paiements/validite/", views.payment_validity, name="payment_validity"),
    path("paiements/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("paiements/<int:pk>/modifier/", views.payment_edit, name="payment_edit"),
    path("paiements/<int:pk>/supprimer/", views.payment_delete, name="payment_delete"),
    path("contacts/<int:pk>/paiements/", views.contact_payments, name="contact_payments"),
    path("structures/<int:pk>/paiements/", views.structure_payments, name="structure_payments"),
]
