from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "lien.imports"
    label = "imports"
    verbose_name = "Imports"
