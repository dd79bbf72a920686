from django.urls import include, path

urlpatterns = [
    path("", include("lien.core.urls")),
    path("", include("lien.contacts.urls")),
    path("", include("lien.contacts.urls_organize")),
    path("", include("lien.interactions.urls")),
    path("", include("lien.payments.urls")),
    path("", include("lien.payments.urls_admin")),
    path("", include("lien.search.urls")),
    path("", include("lien.exports.urls")),
    path("", include("lien.imports.urls")),
    path("", include("lien.connectors.urls")),
    # Search routes first: /api/v1/contacts/search/ must not be read as a contact id.
    path("api/", include("lien.api.urls_search")),
    path("api/", include("lien.api.urls")),
]

handler400 = "lien.core.errors.bad_request"
handler403 = "lien.core.errors.permission_denied"
handler404 = "lien.core.errors.page_not_found"
handler500 = "lien.core.errors.server_error"
