from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "lien.payments"
    label = "payments"
    verbose_name = "Paiements"

    def ready(self) -> None:
        from lien.core.audit import HIDDEN_TARGETS
        from lien.payments.audit import hidden_payment_targets

        HIDDEN_TARGETS.append(hidden_payment_targets)
