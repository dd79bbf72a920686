from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "lien.payments"
    label = "payments"
    verbose_name = "Paiements"
