from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "lien.contacts"
    label = "contacts"
    verbose_name = "Contacts et structures"

    def ready(self) -> None:
        from lien.contacts.custom_fields import sensitive_change_keys
        from lien.core.audit import REDACTORS

        REDACTORS.append(sensitive_change_keys)
