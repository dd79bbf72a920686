"""Campaigns, payment settings and the accounting export."""

from django.urls import path

from lien.payments import views_admin as views

urlpatterns = [
    path("campagnes/", views.campaign_list, name="campaign_list"),
    path("campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path("campagnes/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campagnes/<int:pk>/modifier/", views.campaign_edit, name="campaign_edit"),
    path("campagnes/<int:pk>/supprimer/", views.campaign_delete, name="campaign_delete"),
    path("parametres/paiements/", views.settings_payments, name="settings_payments"),
    path(
        "parametres/paiements/appliquer/",
        views.settings_payments_apply,
        name="settings_payments_apply",
    ),
    path("export-comptable/", views.accounting_export, name="accounting_export"),
    path(
        "export-comptable/apercu/",
        views.accounting_export_preview,
        name="accounting_export_preview",
    ),
]
