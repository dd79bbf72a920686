"""Pages of the connected applications (Applis → HelloAsso) and HelloAsso's notification URL."""

from django.urls import path

from lien.connectors import views

urlpatterns = [
    path("applis/helloasso/", views.helloasso, name="helloasso"),
    path("applis/helloasso/synchroniser/", views.helloasso_sync, name="helloasso_sync"),
    path("applis/helloasso/synchronisations/<int:pk>/", views.helloasso_run, name="helloasso_run"),
    path("applis/helloasso/connexion/", views.helloasso_connection, name="helloasso_connection"),
    path("applis/helloasso/connexion/tester/", views.helloasso_test, name="helloasso_test"),
    path(
        "applis/helloasso/correspondances/",
        views.helloasso_correspondences,
        name="helloasso_correspondences",
    ),
    path("applis/helloasso/date/", views.helloasso_start_date, name="helloasso_start_date"),
    path("applis/helloasso/campagnes/", views.helloasso_forms, name="helloasso_forms"),
    path(
        "applis/helloasso/campagnes/actualiser/",
        views.helloasso_forms_refresh,
        name="helloasso_forms_refresh",
    ),
    path("applis/helloasso/questions/", views.helloasso_questions, name="helloasso_questions"),
    # Called by HelloAsso: no login, the unguessable token names the organisation.
    path(
        "connecteurs/helloasso/webhook/<str:token>/",
        views.helloasso_webhook,
        name="helloasso_webhook",
    ),
]
