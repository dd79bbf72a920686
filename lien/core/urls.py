from django.contrib.auth import views as auth_views
from django.urls import path

from lien.core import views
from lien.core.forms import LoginForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("creer-mon-espace/", views.sign_up, name="sign_up"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "mot-de-passe-oublie/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reinitialiser/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reinitialiser/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("sans-organisation/", views.no_organization, name="no_organization"),
    path("organisation/<int:pk>/choisir/", views.switch_organization, name="switch_organization"),
    path("parametres/organisation/", views.settings_organization, name="settings_organization"),
    path("parametres/utilisateurs/", views.settings_users, name="settings_users"),
    path("parametres/utilisateurs/<int:pk>/", views.settings_member, name="settings_member"),
    path(
        "parametres/invitations/<int:pk>/annuler/",
        views.revoke_invitation,
        name="settings_invitation_revoke",
    ),
    path("parametres/profils/", views.settings_profiles, name="settings_profiles"),
    path("parametres/profils/nouveau/", views.settings_profile, name="settings_profile_new"),
    path("parametres/profils/<int:pk>/", views.settings_profile, name="settings_profile"),
    path(
        "parametres/profils/<int:pk>/supprimer/",
        views.delete_profile,
        name="settings_profile_delete",
    ),
    path("parametres/jetons/", views.settings_tokens, name="settings_tokens"),
    path("parametres/jetons/<int:pk>/revoquer/", views.revoke_token, name="settings_token_revoke"),
    path("parametres/historique/", views.settings_history, name="settings_history"),
    path("parametres/historique/export/", views.export_history, name="settings_history_export"),
    path("taches/<int:pk>/", views.job_progress, name="job_progress"),
    path("taches/<int:pk>/fichier/", views.job_file, name="job_file"),
]
