from django.urls import include, path

urlpatterns = [
    path("", include("lien.core.urls")),
    path("api/", include("lien.api.urls")),
]
