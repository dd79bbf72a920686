from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "lien.connectors"
    label = "connectors"
    verbose_name = "Applications connectées"
