from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "lien.search"
    label = "search"
    verbose_name = "Recherche avancée et segments"
