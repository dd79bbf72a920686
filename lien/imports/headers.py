"""The fields a file can be imported into, and the mapping suggested from its headers.

`FIELDS[target]` lists the importable fields of each target (contacts, structures,
interactions, payments) with their French label, value type and whether a row
needs them. `suggest()` maps a file's headers to those keys (and to custom fields,
keyed ``custom.<key>``) from French and English synonyms, ignoring accents, case
and punctuation: « E-mail », « Courriel » and « Adresse mail » all mean `email`.

Person keys of interactions and payments (``contact_*``) describe the contact the
row belongs to, found or created by the import's reconciliation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from unidecode import unidecode

CUSTOM_PREFIX = "custom."
TARGETS = ("contacts", "structures", "interactions", "payments")


@dataclass(frozen=True)
class ImportField:
    """One importable field: `type` tells the import which parser reads its cells."""

    key: str
    label: str
    type: str  # id, text, email, phone, date, datetime, amount, boolean, choice,
    # postal_code, country, labels, full_name, url
    required: bool = False
    synonyms: tuple[str, ...] = ()


def _f(key: str, label: str, type: str, *synonyms: str, required: bool = False) -> ImportField:
    return ImportField(key, label, type, required, (label, *synonyms))


# Synonyms shared by several targets.
EXTERNAL_ID = ("id externe", "identifiant", "id", "ref", "reference", "numero", "code", "n",
               "no", "num", "external id", "ref externe", "numero adherent", "n adherent",
               "numero donateur", "id donateur", "member id")  # fmt: skip
FIRST_NAME = ("prenom", "first name", "firstname", "given name", "prenoms", "forename")
LAST_NAME = ("nom", "nom de famille", "last name", "lastname", "surname", "family name",
             "nom d usage", "nom de naissance")  # fmt: skip
FULL_NAME = ("nom prenom", "prenom nom", "nom et prenom", "prenom et nom", "nom complet",
             "full name", "name", "nom prenoms", "identite")  # fmt: skip
# Whose row it is, in a payments or interactions file (in a contacts file, a column
# « Adhérent » or « Donateur » is rather a yes/no).
PERSON_NAME = ("donateur", "adherent", "contact", "nom du donateur", "nom de l adherent",
               "payeur", "membre", "participant", "nom du contact", "donor", "member")  # fmt: skip
EMAIL = ("email", "e mail", "mail", "courriel", "adresse email", "adresse e mail",
         "adresse mail", "adresse courriel", "adresse electronique", "email address",
         "e mail address", "mel", "email 1", "email principal")  # fmt: skip
STREET = ("adresse", "rue", "adresse postale", "adresse 1", "adresse ligne 1", "address",
          "street", "address line 1", "numero et rue", "voie")  # fmt: skip
STREET2 = ("complement", "adresse 2", "adresse ligne 2", "complement adresse",
           "address line 2", "address 2", "street 2", "lieu dit", "batiment")  # fmt: skip
POSTAL_CODE = ("cp", "code postal", "postal code", "zip", "zip code", "postcode",
               "c p", "code post")  # fmt: skip
CITY = ("ville", "commune", "localite", "city", "town", "ville cedex")
COUNTRY = ("pays", "country", "code pays", "country code", "nation")
PHONE = ("telephone", "tel", "telephone fixe", "fixe", "tel fixe", "phone", "phone number",
         "numero de telephone", "tel domicile", "telephone domicile", "landline")  # fmt: skip
MOBILE = ("mobile", "portable", "telephone portable", "tel portable", "tel mobile",
          "telephone mobile", "gsm", "cellulaire", "mobile phone", "cell phone", "cell",
          "port")  # fmt: skip
NOTES = ("notes", "note", "commentaire", "commentaires", "remarque", "remarques",
         "observations", "observation", "comment", "comments", "memo", "informations")  # fmt: skip
LABELS = ("etiquettes", "etiquette", "tags", "tag", "labels", "label", "categories contact",
          "mots cles", "mots clefs")  # fmt: skip


def _person(prefix: str = "contact_") -> list[ImportField]:
    """The columns that say whose row it is, for interactions and payments."""
    return [
        _f(f"{prefix}id", "Identifiant Lien du contact", "id", "id lien", "id contact",
           "identifiant contact", "contact id"),
        _f(f"{prefix}external_id", "Identifiant externe du contact", "text",
           "id externe contact", "numero adherent", "n adherent", "numero donateur",
           "id donateur", "id adherent", "member id", "donor id", "code donateur",
           "code adherent"),
        _f(f"{prefix}first_name", "Prénom", "text", *FIRST_NAME),
        _f(f"{prefix}last_name", "Nom", "text", *LAST_NAME),
        _f(f"{prefix}full_name", "Nom et prénom", "full_name", *FULL_NAME, *PERSON_NAME),
        _f(f"{prefix}email", "Email", "email", *EMAIL),
    ]  # fmt: skip


FIELDS: dict[str, list[ImportField]] = {
    "contacts": [
        _f("id", "Identifiant Lien", "id", "id lien", "identifiant lien", "lien id"),
        _f("external_id", "Identifiant externe", "text", *EXTERNAL_ID),
        _f("civility", "Civilité", "choice", "civilite", "titre", "title", "genre",
           "salutation", "mr mme", "m mme"),
        _f("first_name", "Prénom", "text", *FIRST_NAME),
        _f("last_name", "Nom", "text", *LAST_NAME),
        _f("full_name", "Nom et prénom", "full_name", *FULL_NAME),
        _f("email", "Email", "email", *EMAIL),
        _f("email2", "Email secondaire", "email", "email 2", "email2", "e mail 2", "mail 2",
           "courriel 2", "autre email", "second email", "email secondaire",
           "email professionnel", "email pro", "secondary email", "other email"),
        _f("mobile", "Téléphone portable", "phone", *MOBILE),
        _f("phone", "Téléphone fixe", "phone", *PHONE),
        _f("street", "Adresse", "text", *STREET),
        _f("street2", "Complément d'adresse", "text", *STREET2),
        _f("postal_code", "Code postal", "postal_code", *POSTAL_CODE),
        _f("city", "Ville", "text", *CITY),
        _f("country", "Pays", "country", *COUNTRY),
        _f("birth_date", "Date de naissance", "date", "naissance", "ne le", "nee le",
           "ne e le", "date naissance", "birth date", "birthdate", "date of birth", "dob",
           "birthday", "anniversaire"),
        _f("preferred_language", "Langue préférée", "text", "langue", "language",
           "preferred language", "langue preferee"),
        _f("notes", "Notes", "text", *NOTES),
        _f("email_consent", "Accepte les emails", "boolean", "consentement",
           "consentement email", "newsletter", "opt in", "optin", "accepte emailing",
           "abonne newsletter", "inscrit newsletter", "email consent", "rgpd"),
        _f("labels", "Étiquettes", "labels", *LABELS),
        # The contact's structure, found by its name or created, and the role there.
        _f("structure", "Structure", "text", "structure principale", "nom de la structure",
           "societe", "entreprise", "organisme", "employeur", "association", "organisation",
           "raison sociale", "company", "organization", "organisation name", "employer"),
        _f("structure_role", "Fonction dans la structure", "text", "fonction", "poste",
           "role", "job title", "qualite", "fonction dans l association",
           "fonction dans la structure principale"),
    ],
    "structures": [
        _f("id", "Identifiant Lien", "id", "id lien", "identifiant lien", "lien id"),
        _f("external_id", "Identifiant externe", "text", *EXTERNAL_ID),
        _f("name", "Nom", "text", "nom", "raison sociale", "structure", "nom de la structure",
           "organisme", "nom de l organisme", "societe", "entreprise", "nom de l entreprise",
           "organisation", "organization", "company", "company name", "name",
           "denomination", "association", "nom de l association", "etablissement",
           required=True),
        _f("kind", "Type", "choice", "type", "type de structure", "forme juridique",
           "categorie", "kind", "statut juridique"),
        _f("siren", "SIREN", "text", "siren", "numero siren", "n siren"),
        _f("siret", "SIRET", "text", "siret", "numero siret", "n siret"),
        _f("rna", "Numéro RNA", "text", "rna", "numero rna", "n rna", "waldec"),
        _f("street", "Adresse", "text", *STREET),
        _f("street2", "Complément d'adresse", "text", *STREET2),
        _f("postal_code", "Code postal", "postal_code", *POSTAL_CODE),
        _f("city", "Ville", "text", *CITY),
        _f("country", "Pays", "country", *COUNTRY),
        _f("email", "Email", "email", *EMAIL),
        _f("phone", "Téléphone", "phone", *PHONE, *MOBILE),
        _f("website", "Site web", "url", "site", "site internet", "site web", "website",
           "web", "url", "internet"),
        _f("notes", "Notes", "text", *NOTES),
        _f("labels", "Étiquettes", "labels", *LABELS),
    ],
    "interactions": [
        _f("external_id", "Identifiant externe de l'interaction", "text",
           "id interaction", "identifiant interaction", "reference interaction",
           "interaction id"),
        *_person(),
        _f("occurred_at", "Date", "datetime", "date", "date de l interaction", "le",
           "date et heure", "date heure", "quand", "occurred at", "when", "date du contact",
           "date de l echange", required=True),
        _f("type", "Type", "choice", "type", "type d interaction", "type de contact",
           "canal", "nature", "interaction", "kind", required=True),
        _f("category", "Catégorie", "choice", "categorie", "theme", "thematique",
           "category", "rubrique"),
        _f("label", "Libellé", "choice", "libelle", "objet", "sujet", "intitule",
           "titre", "evenement", "subject", "label"),
        _f("description", "Description", "text", "description", "details", "detail",
           "compte rendu", "contenu", "notes", "note", "commentaire", "commentaires",
           "message"),
        _f("status", "Statut", "choice", "statut", "status", "actif passif"),
    ],
    "payments": [
        _f("external_id", "Identifiant externe du paiement", "text", "id paiement",
           "reference paiement", "ref paiement", "numero de paiement", "id transaction",
           "transaction", "reference", "ref", "numero de recu", "n recu", "numero de don", "id don",
           "payment id", "transaction id", "numero de commande", "reference du don"),
        *_person(),
        _f("amount", "Montant", "amount", "montant", "somme", "montant du don",
           "montant de la cotisation", "montant paye", "montant en euros", "montant eur",
           "amount", "total", "prix", "cotisation", "don", "valeur", "montant ttc",
           required=True),
        _f("paid_on", "Date", "date", "date", "date du don", "date de paiement",
           "date du paiement", "date de la cotisation", "date de reglement",
           "date d encaissement", "date de versement", "paid on", "payment date",
           "date adhesion", "le", required=True),
        _f("kind", "Type", "choice", "type", "type de paiement", "nature", "type de don",
           "kind", "categorie"),
        _f("method", "Moyen de paiement", "choice", "moyen de paiement", "mode de paiement",
           "mode de reglement", "moyen", "mode", "reglement", "payment method",
           "method", "moyen de reglement", "paiement par"),
        _f("status", "Statut", "choice", "statut", "etat", "status", "state"),
        _f("campaign", "Campagne", "text", "campagne", "operation", "appel", "campaign",
           "collecte", "projet", "affectation", "campagne de don", "fund"),
        _f("frequency", "Fréquence", "choice", "frequence", "periodicite", "recurrence",
           "frequency", "don regulier", "mensuel annuel"),
        _f("notes", "Notes", "text", *NOTES),
        _f("labels", "Étiquettes", "labels", *LABELS),
        _f("valid_from", "Début de validité", "date", "debut de validite",
           "valable du", "debut adhesion", "date de debut", "debut", "valid from",
           "start date"),
        _f("valid_until", "Fin de validité", "date", "fin de validite", "valable jusqu au",
           "fin adhesion", "date de fin", "fin", "expiration", "date d expiration",
           "valid until", "end date"),
    ],
}  # fmt: skip

# Words too vague to be recognised inside a longer header (« N° de rue » is no id).
EXACT_ONLY = {"n", "no", "num", "numero", "id", "ref", "reference", "code", "le", "port",
              "cell", "don", "total", "contact", "fin", "debut", "mode", "appel", "projet",
              "name", "web", "site", "moyen", "valeur", "prix", "nature", "identifiant",
              "transaction", "etat", "operation", "association", "structure"}  # fmt: skip
STOPWORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "the", "of", "a"}
_NON_WORD = re.compile(r"[^a-z0-9]+")
# « Email (2) » made by files.make_headers: the second column of that name.
_DUPLICATE_SUFFIX = re.compile(r"\s*\((\d+)\)$")


def normalize_header(text: Any) -> str:
    """« Tél. portable » → « tel portable »: accents, case and punctuation dropped."""
    text = str(text).replace("°", " ").replace("º", " ")  # « N° », not « Ndeg »
    return " ".join(_NON_WORD.sub(" ", unidecode(text).lower()).split())


def _core(words: str) -> str:
    return " ".join(word for word in words.split() if word not in STOPWORDS)


def field_keys(target: str) -> list[str]:
    """The keys of a target's built-in fields, in display order."""
    return [item.key for item in FIELDS[target]]


def get_field(target: str, key: str) -> ImportField | None:
    return next((item for item in FIELDS[target] if item.key == key), None)


def _score(header: str, synonym: str) -> int:
    """100 exact, 95 exact but for small words, 50–90 when the header contains it."""
    if header == synonym:
        return 100
    core_header, core_synonym = _core(header), _core(synonym)
    if core_synonym and core_header == core_synonym:
        return 95
    if len(core_synonym) < 3 or core_synonym in EXACT_ONLY:
        return 0
    words, wanted = core_header.split(), core_synonym.split()
    if not wanted or len(wanted) > len(words):
        return 0
    for start in range(len(words) - len(wanted) + 1):
        if words[start : start + len(wanted)] == wanted:
            return 50 + (40 * len(wanted)) // len(words)
    return 0


@cache
def _synonyms(target: str) -> list[tuple[str, list[str]]]:
    """Each field's synonyms, normalised once."""
    return [(item.key, [normalize_header(s) for s in item.synonyms]) for item in FIELDS[target]]


def _custom_attr(custom: Any, name: str) -> str:
    if isinstance(custom, dict):
        return str(custom.get(name) or "")
    return str(getattr(custom, name, "") or "")


def suggest(headers: list[str], target: str, custom_fields: list[Any] = ()) -> dict[int, str]:
    """Column index → field key for the headers that clearly name a field.

    `custom_fields` are CustomField rows (or dicts with `key` and `name`); their keys
    come back as ``custom.<key>``. Each header gets at most one field and each field
    at most one column: the best score wins, then the leftmost column.
    """
    candidates: list[tuple[int, int, int, str]] = []
    fields = FIELDS[target]  # KeyError for an unknown target
    for column, raw in enumerate(headers):
        header = normalize_header(_DUPLICATE_SUFFIX.sub(r" \1", str(raw)))
        if not header:
            continue
        for rank, (key, synonyms) in enumerate(_synonyms(target)):
            score = max(_score(header, synonym) for synonym in synonyms)
            if score:
                candidates.append((score, column, rank, key))
        for rank, custom in enumerate(custom_fields, start=len(fields)):
            key = _custom_attr(custom, "key")
            if not key:
                continue
            names = {normalize_header(_custom_attr(custom, "name")), normalize_header(key)}
            # An exact custom name beats a built-in synonym: the association chose it.
            score = max(
                (101 if header == name else _score(header, name) for name in names if name),
                default=0,
            )
            if score:
                candidates.append((score, column, rank, f"{CUSTOM_PREFIX}{key}"))
    # A header is only offered the fields it names best: « Adresse email » is an email
    # or nothing, never the street because another column took the email.
    best: dict[int, int] = {}
    for score, column, _, _ in candidates:
        best[column] = max(best.get(column, 0), score)
    candidates = [c for c in candidates if c[0] == best[c[1]]]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for _, column, _, key in candidates:
        if column in mapping or key in used:
            continue
        mapping[column] = key
        used.add(key)
    return dict(sorted(mapping.items()))


# Names and emails ---------------------------------------------------------------------------

PARTICLES = {"de", "du", "des", "d", "la", "le", "van", "von", "der", "den", "di", "da", "del",
             "dos", "ter", "mac", "st", "saint", "sainte"}  # fmt: skip
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def _is_capitals(word: str) -> bool:
    """« DUPONT », « LE-GALL », « D'ARC »: two letters or more, all capitals."""
    letters = _LETTERS.findall(word)
    return len(letters) >= 2 and all(letter.isupper() for letter in letters)


def split_full_name(text: str, *, last_first: bool = False) -> tuple[str, str]:
    """« DUPONT Jean » or « Jean Dupont » → (first name, last name).

    Words in capitals are the last name, wherever they are. Without capitals to
    go by: « Dupont, Jean » (a comma) is last-first; otherwise the last word (with
    its particles: « Jean de La Fontaine ») is the last name, or the first word
    when `last_first` (a column headed « Nom Prénom »). One word is a last name.
    """
    text = " ".join(str(text or "").split())
    if not text:
        return "", ""
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    words = text.split(" ")
    if len(words) == 1:
        return "", words[0]
    capitals = [_is_capitals(word) for word in words]
    if any(capitals) and not all(capitals):
        # A contiguous block of capitals is the last name (« Jean DE LA TOUR »).
        first_cap = capitals.index(True)
        last_cap = len(capitals) - 1 - capitals[::-1].index(True)
        if all(capitals[first_cap : last_cap + 1]):
            before, block, after = (
                words[:first_cap],
                words[first_cap : last_cap + 1],
                words[last_cap + 1 :],
            )
            # Lower-case particles just before the capitals belong to the last name.
            while before and before[-1].lower().strip("'’") in PARTICLES and not after:
                block.insert(0, before.pop())
            return " ".join(before + after), " ".join(block)
    if last_first or words[0] in PARTICLES:  # « de Gaulle Charles »
        cut = 1
        while cut < len(words) - 1 and words[cut - 1].lower().strip("'’") in PARTICLES:
            cut += 1
        return " ".join(words[cut:]), " ".join(words[:cut])
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower().strip("'’") in PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def is_last_first(header: str) -> bool:
    """« Nom Prénom », « NOM et prénom »: the last name comes first in such a column."""
    words = normalize_header(header).split()
    names = [w for w in words if w in {"nom", "prenom", "prenoms", "first", "last", "surname"}]
    return bool(names) and names[0] in {"nom", "last", "surname"} and len(names) > 1


_ANGLE_EMAIL = re.compile(r"<([^<>\s]+@[^<>\s]*)>")
_EMAIL_SEPARATORS = re.compile(r"[\s,;/|]+")


def split_emails(text: str) -> list[str]:
    """« a@x.fr; b@y.fr » → [« a@x.fr », « b@y.fr »], in order, without repeats.

    « Jean <a@x.fr> » gives the address between angle brackets. Nothing is dropped
    silently: a piece that is not an address is returned for the parser to refuse.
    """
    text = str(text or "").strip()
    if not text:
        return []
    angled = _ANGLE_EMAIL.findall(text)
    pieces = angled or _EMAIL_SEPARATORS.split(text)
    result: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        piece = piece.strip().strip("<>()[]\"'").removeprefix("mailto:")
        if piece and piece.lower() not in seen:
            seen.add(piece.lower())
            result.append(piece)
    return result
