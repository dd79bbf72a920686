"""Payment settings, « Appliquer les règles maintenant », the accounting export through its
job and its file, the right to download it, and the history hiding payments from a
profile that may not see them."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services as contacts
from lien.contacts.models import ContactLabel
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Job, Membership
from lien.core.services import save_profile
from lien.payments import services
from lien.payments.accounting import FEC_COLUMNS
from lien.payments.models import PaymentSettings
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
DONOR = "Donateur / Donatrice"


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def member_with(org, admin_member, email: str, rights: dict, **flags) -> Membership:
    profile = save_profile(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        name=email.split("@")[0],
        rights=rights,
        **flags,
    )
    return Membership.objects.create(organization=org, user=make_user(email), profile=profile)


def contact(org, name: str):
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name})


def donate(org, payer, amount: str = "50", paid_on: str = "2026-03-12", **values):
    return services.create_payment(
        organization=org,
        actor=SYSTEM,
        **{"kind": "don", "method": "cheque", **values},
        amount=amount,
        paid_on=paid_on,
        payer_contact=payer,
    )


def labels_of(org, person) -> list[str]:
    return sorted(
        ContactLabel.objects.for_org(org)
        .filter(contact=person)
        .values_list("label__name", flat=True)
    )


def posted(form) -> dict:
    """A settings form as the browser posts it (an unticked box is absent)."""
    data = {name: value for name, value in form.initial.items() if value is not False}
    return {k: "on" if v is True else v for k, v in data.items()}


# Settings -------------------------------------------------------------------------------


def test_settings_show_the_defaults_and_the_four_rules(org, admin_client):
    response = admin_client.get(reverse("settings_payments"))

    initial = response.context["form"].initial
    assert {k[7:]: v for k, v in initial.items() if k.startswith("income_")} == {
        "don": "754", "adhesion": "756", "billetterie": "706", "crowdfunding": "754",
        "boutique": "707", "autre": "758",
    }  # fmt: skip
    assert {k[9:]: v for k, v in initial.items() if k.startswith("treasury_")} == {
        "carte": "512", "cheque": "512", "especes": "530", "virement": "512",
        "prelevement": "512", "autre": "512",
    }  # fmt: skip
    assert [row["name"] for row in response.context["rules"]] == [
        DONOR, "Adhérent(e)", "Ancien(ne) adhérent(e)", "Participant(e)",
    ]  # fmt: skip
    page = response.content.decode()
    assert "Jamais appliquées à toute l&#x27;association" not in page  # text, not escaped
    assert "Jamais appliquées à toute l'association pour l'instant." in page
    assert "Appliquer les règles maintenant" in page


def test_saving_changes_the_rules_and_records_them(org, admin_client):
    form = admin_client.get(reverse("settings_payments")).context["form"]

    response = admin_client.post(
        reverse("settings_payments"),
        {
            **posted(form),
            "membership_mode": "season",
            "season_start_month": "9",
            "renewal_days": "45",
            "income_don": "7541",
            "treasury_carte": "5121",
            "journal_code": "BQ2",
        },
    )

    saved = PaymentSettings.objects.for_org(org).get()
    assert response["Location"] == reverse("settings_payments")
    assert flashed(response) == ["Réglages des paiements enregistrés."]
    assert (saved.membership_mode, saved.season_start_month, saved.renewal_days) == (
        "season", 9, 45,
    )  # fmt: skip
    assert (saved.income_accounts["don"], saved.treasury_accounts["carte"]) == ("7541", "5121")
    assert saved.journal_code == "BQ2"
    event = AuditEvent.objects.for_org(org).get(action="update", changes__has_key="renewal_days")
    assert event.changes["renewal_days"] == [30, 45]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "income_don",
            "75 4",
            "Un numéro de compte : chiffres et lettres, sans espace, 20 caractères au plus.",
        ),
        (
            "treasury_especes",
            "530-CAISSE",
            "Un numéro de compte : chiffres et lettres, sans espace, 20 caractères au plus.",
        ),
        ("income_autre", "", "Ce champ est obligatoire."),
        ("journal_code", "B Q", "Un code journal de 1 à 10 lettres ou chiffres."),
        ("renewal_days", "400", "Entre 0 et 366 jours."),
        ("renewal_days", "trente", "Un nombre de jours."),
        ("membership_mode", "lunaire", None),
    ],
)
def test_bad_settings_give_a_french_field_error_and_change_nothing(
    org, admin_client, field, value, message
):
    form = admin_client.get(reverse("settings_payments")).context["form"]
    before = PaymentSettings.objects.for_org(org).values().get()

    response = admin_client.post(reverse("settings_payments"), {**posted(form), field: value})

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert PaymentSettings.objects.for_org(org).values().get() == before


def test_automatic_labels_off_then_on_again(org, admin_client):
    url = reverse("settings_payments")
    form = admin_client.get(url).context["form"]
    alice = contact(org, "Alice")

    # Given automatic labels switched off
    admin_client.post(url, {k: v for k, v in posted(form).items() if k != "auto_labels"})
    # When a donation is recorded
    donate(org, alice)
    # Then nobody gets the donor label
    assert labels_of(org, alice) == []

    # When they are switched on again
    response = admin_client.post(url, posted(form))

    # Then the rules run at once for the whole organisation
    assert labels_of(org, alice) == [DONOR]
    assert flashed(response)[-1] == (
        "Réglages des paiements enregistrés. Les étiquettes automatiques sont réactivées et à jour."
    )
    assert PaymentSettings.objects.for_org(org).get().labels_applied_on == timezone.localdate()


def test_apply_now_runs_the_rules_as_a_job_and_reports_the_counts(
    org, admin_client, django_capture_on_commit_callbacks
):
    alice, bob = contact(org, "Alice"), contact(org, "Bob")
    donate(org, alice)
    donate(org, bob)
    # Someone removed the automatic labels behind the rules' back.
    ContactLabel.objects.for_org(org).filter(label__name=DONOR).delete()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("settings_payments_apply"))

    job = Job.objects.for_org(org).get(kind="payment_labels")
    assert response["Location"] == reverse("job_progress", args=[job.pk])
    assert (job.status, job.result["added"], job.result["removed"]) == ("succeeded", 2, 0)
    assert job.message.startswith("Règles appliquées : 2 étiquette(s) posée(s), 0 retirée(s)")
    assert f"{DONOR} +2 −0" in job.message
    assert labels_of(org, alice) == labels_of(org, bob) == [DONOR]
    page = admin_client.get(reverse("settings_payments")).content.decode()
    assert (
        f"Dernière application à toute l'association : le {timezone.localdate():%d/%m/%Y}." in page
    )
    assert [
        row["contacts"] for row in admin_client.get(reverse("settings_payments")).context["rules"]
    ] == [2, 0, 0, 0]


def test_apply_now_is_refused_while_automatic_labels_are_off(org, admin_client):
    services.update_payment_settings(organization=org, actor=SYSTEM, auto_labels=False)

    response = admin_client.post(reverse("settings_payments_apply"))

    assert flashed(response) == [
        "Les étiquettes automatiques sont désactivées : activez-les d'abord."
    ]
    assert not Job.objects.for_org(org).filter(kind="payment_labels").exists()


def test_settings_need_the_settings_and_the_payments_rights(org, admin_member):
    viewer = member_with(
        org, admin_member, "tresorier@amis-du-parc.fr", {"settings": ["view"], "payments": ["view"]}
    )
    hidden = member_with(
        org,
        admin_member,
        "accueil@amis-du-parc.fr",
        {"settings": ["view", "change"], "payments": ["view"]},
        hide_payment_data=True,
    )
    url = reverse("settings_payments")

    page = client_for(viewer).get(url)
    post = client_for(viewer).post(url, posted(page.context["form"]))

    assert page.status_code == 200
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert "Enregistrer les réglages" not in page.content.decode()
    assert "Appliquer les règles maintenant" not in page.content.decode()
    assert post.status_code == 403
    assert client_for(hidden).get(url).status_code == 403
    assert client_for(hidden).post(reverse("settings_payments_apply")).status_code == 403


# Accounting export ------------------------------------------------------------------------


@pytest.fixture
def year_2025(org):
    """Three paid payments in 2025 (one in cash), one pending, one in 2026."""
    alice, mairie = (
        contact(org, "Alice"),
        contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie | Centre"}),
    )
    donate(org, alice, "1234,50", "2025-02-03")
    donate(org, alice, "20", "2025-06-30", method="especes")
    services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="30", paid_on="2025-12-31",
        method="virement", payer_structure=mairie, beneficiary=alice,
    )  # fmt: skip
    donate(org, alice, "99", "2025-07-01", status="en_attente")
    donate(org, alice, "77", "2026-01-01")


def test_the_form_defaults_to_last_full_year_with_its_preview(org, admin_client, year_2025):
    response = admin_client.get(reverse("accounting_export"))

    last_year = timezone.localdate().year - 1
    assert response.context["form"].initial == {
        "start": f"{last_year}-01-01",
        "end": f"{last_year}-12-31",
        "fmt": "fec",
    }
    assert 'hx-get="/export-comptable/apercu/"' in response.content.decode()


def test_the_preview_counts_the_paid_payments_of_the_period(org, admin_client, year_2025):
    response = admin_client.get(
        reverse("accounting_export_preview"),
        {"start": "2025-01-01", "end": "2025-12-31", "fmt": "fec"},
    )

    assert response.context["preview"]["totals"] == {"count": 3, "total_cents": 128450}
    page = response.content.decode()
    assert 'id="preview-count">3<' in page
    assert "1\u202f284,50\u00a0€" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start": "2025-13-01"}, "start", "« 2025-13-01 » n'est pas une date (JJ/MM/AAAA)."),
        ({"end": ""}, "end", "La date de fin est obligatoire."),
        (
            {"start": "2025-12-31", "end": "2025-01-01"},
            "end",
            "La date de fin est avant la date de début.",
        ),
        ({"fmt": "xlsx"}, "fmt", None),
    ],
)
def test_bad_export_input_gives_french_field_errors_and_starts_nothing(
    org, admin_client, data, field, message
):
    response = admin_client.post(
        reverse("accounting_export"),
        {"start": "2025-01-01", "end": "2025-12-31", "fmt": "fec", **data},
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert not Job.objects.for_org(org).exists()


def run_export(client, capture, fmt: str) -> tuple[Job, str]:
    with capture(execute=True):
        response = client.post(
            reverse("accounting_export"), {"start": "01/01/2025", "end": "31/12/2025", "fmt": fmt}
        )
    job = Job.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])
    download = client.get(reverse("job_file", args=[job.pk]))
    content = b"".join(download.streaming_content).decode("utf-8")
    default_storage.delete(job.result["file"])
    return job, content


def cents(text: str) -> int:
    euros, _, rest = text.partition(",")
    return int(euros) * 100 + int(rest or 0)


def test_fec_export_runs_as_a_job_and_gives_a_balanced_file(
    org, admin_client, year_2025, django_capture_on_commit_callbacks
):
    job, content = run_export(admin_client, django_capture_on_commit_callbacks, "fec")

    assert (job.kind, job.status) == ("accounting_export", "succeeded")
    assert job.label == "Export comptable du 01/01/2025 au 31/12/2025 (FEC, séparateur tabulation)"
    assert job.message == "3 écritures, 6 lignes ; débits = crédits = 1284,50 €."
    lines = content.split("\r\n")
    assert lines[-1] == ""
    rows = [line.split("\t") for line in lines[:-1]]
    assert rows[0] == FEC_COLUMNS
    assert {len(row) for row in rows} == {18}
    body = [dict(zip(FEC_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(r["JournalCode"], r["EcritureDate"], r["CompteNum"], r["Debit"], r["Credit"])
            for r in body] == [
        ("BQ", "20250203", "512", "1234,50", "0,00"),
        ("BQ", "20250203", "754", "0,00", "1234,50"),
        ("CA", "20250630", "530", "20,00", "0,00"),
        ("CA", "20250630", "754", "0,00", "20,00"),
        ("BQ", "20251231", "512", "30,00", "0,00"),
        ("BQ", "20251231", "756", "0,00", "30,00"),
    ]  # fmt: skip
    assert sum(cents(r["Debit"]) for r in body) == sum(cents(r["Credit"]) for r in body) == 128450
    assert body[4]["EcritureLib"] == "Adhésion Mairie | Centre"  # a pipe is no tab
    progress = admin_client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert "Télécharger le fichier" in progress


def test_pipe_and_csv_formats(org, admin_client, year_2025, django_capture_on_commit_callbacks):
    _job, fec_pipe = run_export(admin_client, django_capture_on_commit_callbacks, "fec_pipe")
    _job, journal = run_export(admin_client, django_capture_on_commit_callbacks, "csv")

    assert fec_pipe.split("\r\n")[0] == "|".join(FEC_COLUMNS)
    # The payer's own « | » is replaced: every line keeps its 18 columns.
    assert {len(line.split("|")) for line in fec_pipe.split("\r\n")[:-1]} == {18}
    assert "Adhésion Mairie Centre" in fec_pipe
    rows = list(csv.reader(io.StringIO(journal.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Date", "Journal", "N° écriture", "Compte"]
    assert rows[1] == ["03/02/2025", "BQ", "1", "512", "Banque", rows[1][5], "Don Alice",
                       "1234,50", ""]  # fmt: skip


def test_a_payer_name_with_double_quotes_is_exported_as_typed(
    org, admin_client, django_capture_on_commit_callbacks
):
    amis = contacts.create_structure(
        organization=org, actor=SYSTEM, data={"name": 'Association "Les Amis"'}
    )
    services.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="10", paid_on="2025-05-05",
        payer_structure=amis,
    )  # fmt: skip

    job, content = run_export(admin_client, django_capture_on_commit_callbacks, "fec")

    assert job.status == "succeeded"
    assert content.split("\r\n")[1].split("\t")[10] == 'Don Association "Les Amis"'


def test_the_accounting_file_needs_the_payments_right_too(
    org, admin_member, admin_client, year_2025, django_capture_on_commit_callbacks
):
    # Given an accounting export and an audit export made by the administrator
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("accounting_export"), {"start": "2025-01-01", "end": "2025-12-31", "fmt": "fec"}
        )
        admin_client.post(reverse("settings_history_export"))
    accounting_job = Job.objects.for_org(org).get(kind="accounting_export")
    audit_job = Job.objects.for_org(org).get(kind="audit_export")
    # and a member who may download exports, but whose profile hides payment data
    exporter = member_with(
        org,
        admin_member,
        "export@amis-du-parc.fr",
        {"exports": ["view", "add"], "payments": ["view"], "settings": ["view"]},
        hide_payment_data=True,
    )
    client = client_for(exporter)

    # Then the accounting file is refused to them, the audit file is not
    assert client.get(reverse("job_file", args=[accounting_job.pk])).status_code == 403
    assert client.get(reverse("job_file", args=[audit_job.pk])).status_code == 200
    assert admin_client.get(reverse("job_file", args=[accounting_job.pk])).status_code == 200
    # and so is the export page itself
    assert client.get(reverse("accounting_export")).status_code == 403
    for job in (accounting_job, audit_job):
        default_storage.delete(job.result["file"])


# History ----------------------------------------------------------------------------------


def test_history_hides_payment_events_from_a_profile_hiding_payment_data(
    org, admin_member, admin_client, django_capture_on_commit_callbacks
):
    # Given a campaign with a goal, a donation in it, and a change of the accounts
    camp = services.save_campaign(organization=org, actor=SYSTEM, name="Collecte", goal="4 321")
    payment = donate(org, contact(org, "Alice"), "1 234,56", campaign=camp)
    services.update_payment(organization=org, actor=SYSTEM, payment=payment, amount="987,65")
    services.update_payment_settings(
        organization=org,
        actor=SYSTEM,
        income_accounts={**services.payment_settings(org).income_accounts, "don": "7541"},
    )
    # and a member who reads the history and exports it, without the payments right
    secretary = member_with(
        org,
        admin_member,
        "secretaire@amis-du-parc.fr",
        {"settings": ["view"], "exports": ["view", "add"], "contacts": ["view"]},
    )
    client = client_for(secretary)

    # When both read the history page and the secretary exports it
    hidden_page = client.get(reverse("settings_history")).content.decode()
    admin_page = admin_client.get(reverse("settings_history")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("settings_history_export"))
    job = Job.objects.for_org(org).get(kind="audit_export")
    exported = b"".join(client.get(reverse("job_file", args=[job.pk])).streaming_content)
    default_storage.delete(job.result["file"])
    exported = exported.decode("utf-8-sig")

    # Then the administrator reads the amounts, the goal and the accounts…
    for text in ("123456", "98765", "432100", "7541"):
        assert text in admin_page, text
    # …and the secretary sees that payments changed, never what
    for shown in (hidden_page, exported):
        for text in ("1234", "987", "4321", "432100", "7541", "Collecte"):
            assert text not in shown, text
    assert "Paiement «&nbsp;détails masqués&nbsp;»" in hidden_page
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    payment_rows = [row for row in rows if row[3] == "paiement"]
    assert [row[4:] for row in payment_rows] == [["détails masqués", ""]] * 2
    # The contact's own events stay readable.
    assert "Alice" in hidden_page
