from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lien.api"
    label = "api"
    verbose_name = "API"
