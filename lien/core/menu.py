"""The left menu: only the areas that exist, only those the member may see.

Each later app adds its entries to MENU; an entry is (label, url name, icon,
(action, data_type) or None).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from lien.core.rights import can


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    icon: str
    right: tuple[str, str] | None = None
    section: str = ""
    match: str = ""  # URL-name prefix of the pages this entry stands for (its own by default)
    also: tuple[str, str] | None = None  # a second right the page needs


MENU: list[MenuEntry] = [
    MenuEntry("Tableau de bord", "dashboard", "home"),
    MenuEntry("Contacts", "contact_list", "person", ("view", "contacts"), "Communauté", "contact_"),
    MenuEntry(
        "Structures",
        "structure_list",
        "building",
        ("view", "structures"),
        "Communauté",
        "structure_",
    ),
    MenuEntry(
        "Interactions",
        "interaction_list",
        "chat",
        ("view", "interactions"),
        "Communauté",
        "interaction_",
    ),
    MenuEntry(
        "Recherche avancée",
        "search_builder",
        "search",
        ("view", "contacts"),
        "Communauté",
        "search_",
    ),  # fmt: skip
    MenuEntry("Segments", "segment_list", "funnel", ("view", "segments"), "Communauté", "segment_"),
    MenuEntry("Groupes", "group_list", "folder", ("view", "segments"), "Communauté", "group_"),
    MenuEntry("Corbeille", "trash", "trash", ("view", "contacts"), "Communauté", "trash"),
    MenuEntry("Importer", "import_list", "file", ("add", "imports"), "Communauté", "import_"),
    MenuEntry("Mes exports", "export_list", "file", ("view", "exports"), "Communauté"),
    MenuEntry("Dons", "payment_list_don", "euro", ("view", "payments"), "Paiements"),
    MenuEntry("Adhésions", "payment_list_adhesion", "users", ("view", "payments"), "Paiements"),
    MenuEntry("Billetterie", "payment_list_billetterie", "tag", ("view", "payments"), "Paiements"),
    MenuEntry(
        "Crowdfunding", "payment_list_crowdfunding", "euro", ("view", "payments"), "Paiements"
    ),
    MenuEntry("Boutique", "payment_list_boutique", "tag", ("view", "payments"), "Paiements"),
    MenuEntry("Autres paiements", "payment_list_autre", "euro", ("view", "payments"), "Paiements"),
    MenuEntry("Campagnes", "campaign_list", "flag", ("view", "payments"), "Paiements", "campaign_"),
    MenuEntry(
        "Export comptable",
        "accounting_export",
        "file",
        ("view", "payments"),
        "Paiements",
        "accounting_",
        also=("view", "exports"),
    ),
    MenuEntry("HelloAsso", "helloasso", "euro", ("view", "connectors"), "Applis", "helloasso"),
    MenuEntry(
        "Organisation", "settings_organization", "building", ("view", "settings"), "Paramètres"
    ),
    MenuEntry("Étiquettes", "label_list", "tag", ("view", "contacts"), "Paramètres", "label_"),
    MenuEntry(
        "Champs personnalisés",
        "custom_field_list",
        "sliders",
        ("view", "settings"),
        "Paramètres",
        "custom_field_",
    ),
    MenuEntry(
        "Interactions",
        "settings_interactions",
        "chat",
        ("view", "settings"),
        "Paramètres",
        "settings_interaction",
    ),
    MenuEntry(
        "Paiements",
        "settings_payments",
        "euro",
        ("view", "settings"),
        "Paramètres",
        "settings_payments",
        also=("view", "payments"),
    ),
    MenuEntry("Utilisateurs", "settings_users", "users", ("view", "users"), "Paramètres"),
    MenuEntry("Profils et droits", "settings_profiles", "shield", ("view", "users"), "Paramètres"),
    MenuEntry("Jetons API", "settings_tokens", "key", None, "Paramètres"),
    MenuEntry("Historique", "settings_history", "clock", ("view", "settings"), "Paramètres"),
    MenuEntry(
        "Exporter mes données",
        "export_all",
        "file",
        ("view", "settings"),
        "Paramètres",
        also=("add", "exports"),
    ),
    MenuEntry("Documentation API", "api_docs", "book", None, "Aide"),
]


def menu_for(request) -> list[dict]:
    """Sections of visible entries, the current one marked."""
    current = getattr(request.resolver_match, "url_name", None)
    sections: dict[str, list[dict]] = {}
    for entry in MENU:
        if entry.right and not can(request.membership, *entry.right):
            continue
        if entry.also and not can(request.membership, *entry.also):
            continue
        sections.setdefault(entry.section, []).append(
            {
                "label": entry.label,
                "url": reverse(entry.url_name),
                "icon": entry.icon,
                "active": current == entry.url_name
                or (current or "").startswith(entry.match or entry.url_name + "_"),
            }
        )
    return [{"title": title, "entries": entries} for title, entries in sections.items()]
