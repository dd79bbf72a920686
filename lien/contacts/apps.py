from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "lien.contacts"
    label = "contacts"
    verbose_name = "Contacts et structures"
