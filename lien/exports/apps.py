from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "lien.exports"
    label = "exports"
    verbose_name = "Exports"
