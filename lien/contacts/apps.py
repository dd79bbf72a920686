from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "lien.contacts"
    label = "contacts"
    verbose_name = "Contacts et structures"

    def ready(self) -> None:
        from lien.contacts.custom_fields import custom_change_labels, sensitive_change_keys
        from lien.core.audit import KEY_LABELERS, REDACTORS

        REDACTORS.append(sensitive_change_keys)
        KEY_LABELERS.append(custom_change_labels)
