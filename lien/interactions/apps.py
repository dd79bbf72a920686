from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "lien.interactions"
    label = "interactions"
    verbose_name = "Interactions"
