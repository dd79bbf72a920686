"""The isolation suite's building blocks: the world of rows, the cases, the personas.

The suite itself is tests/test_isolation.py. It covers every URL pattern and API
endpoint with four personas:

- anonymous → login redirect (pages) or 401 (API);
- a member of another organisation → 404 on this organisation's rows, and never
  this organisation's data on list pages;
- a read-only member (profile « Lecteur ») → 403 where the profile lacks the right;
- an administrator → success.

Each app adds its URLs in a module `tests/isolation_<app>.py` that defines
`CASES`; `test_every_url_is_covered` fails when a URL name has no case, so a new
page cannot ship untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lien.contacts import services as contacts
from lien.contacts.models import (
    Contact,
    ContactStructureLink,
    CustomField,
    Group,
    Household,
    Label,
    Structure,
)
from lien.core.audit import Actor
from lien.core.jobs import start_job
from lien.core.models import ApiToken, Invitation, Job, Membership, Organization, Profile
from lien.core.services import create_api_token, invite_user, save_profile
from lien.core.tasks import export_audit_log
from lien.interactions import services as interactions
from lien.interactions.models import Interaction
from lien.payments import services as payments
from lien.payments.models import Campaign, Payment
from lien.search import services as segments
from lien.search.models import Segment
from tests.conftest import add_member

SUCCESS = {200, 201, 204, 302}


@dataclass
class World:
    """The rows of one organisation that URLs point at."""

    organization: Organization
    admin: Membership
    member: Membership
    profile: Profile
    invitation: Invitation
    token: ApiToken
    job: Job
    marker: str  # text only this organisation's pages show
    contact: Contact
    structure: Structure
    link: ContactStructureLink
    label: Label
    custom_field: CustomField
    group: Group
    household: Household
    trashed_contact: Contact
    trashed_structure: Structure
    interaction: Interaction  # a manual one for `contact`, with a category and a label
    campaign: Campaign
    payment: Payment  # a paid donation of `contact` in `campaign`, with a payment label
    membership_payment: Payment  # paid by `structure` for `contact`, with its period
    segment: Segment  # contacts with `label`, recorded once (so `contact` is a member)


def build_world(organization: Organization, marker_email: str) -> World:
    admin = Membership.objects.select_related("user", "profile").get(
        organization=organization, profile__name="Administrateur"
    )
    member = add_member(organization, f"editeur.{organization.slug}@example.org", "Éditeur")
    actor = Actor.for_user(admin.user)
    profile = save_profile(
        organization=organization,
        actor=actor,
        name="Bénévoles",
        rights={"contacts": ["view"]},
    )
    invitation = invite_user(
        organization=organization, actor=actor, email=marker_email, profile=profile
    )
    token, _key = create_api_token(
        organization=organization, actor=actor, user=admin.user, name="outil"
    )
    job = start_job(
        organization=organization, kind="audit_export", label="Export", task=export_audit_log
    )
    label = contacts.save_label(
        organization=organization, actor=actor, name=f"Bénévole {marker_email}", color="#2f6f5e"
    )
    custom_field = contacts.save_custom_field(
        organization=organization,
        actor=actor,
        target="contact",
        name="Régime alimentaire",
        field_type="choice",
        choices=["Végétarien", "Sans gluten"],
    )
    contact = contacts.create_contact(
        organization=organization,
        actor=actor,
        data={"first_name": "Camille", "last_name": marker_email, "email": marker_email},
        custom={custom_field.key: "Végétarien"},
        labels=[label],
    )
    structure = contacts.create_structure(
        organization=organization, actor=actor, data={"name": f"Mairie {marker_email}"}
    )
    link = contacts.save_structure_link(
        organization=organization, actor=actor, contact=contact, structure=structure, role="Élue"
    )
    group = contacts.save_group(organization=organization, actor=actor, name=f"CA {marker_email}")
    contacts.add_to_group(
        organization=organization, actor=actor, group=group, contact_ids=[contact.pk]
    )
    household = contacts.save_household(
        organization=organization, actor=actor, name=f"Foyer {marker_email}"
    )
    contacts.set_household(
        organization=organization, actor=actor, contacts=[contact], household=household
    )
    trashed_contact = contacts.create_contact(
        organization=organization, actor=actor, data={"last_name": f"Ancien {marker_email}"}
    )
    trashed_structure = contacts.create_structure(
        organization=organization, actor=actor, data={"name": f"Ancienne {marker_email}"}
    )
    contacts.trash(organization=organization, actor=actor, model=Contact, ids=[trashed_contact.pk])
    contacts.trash(
        organization=organization, actor=actor, model=Structure, ids=[trashed_structure.pk]
    )
    interaction = interactions.record_interaction(
        organization=organization,
        actor=actor,
        contact=contact,
        occurred_at="2026-03-12T14:30",
        type="Appel téléphonique",
        category="Vie associative",
        label=f"Forum {marker_email}",
        structure=structure,
        description=f"Appel de {marker_email}",
        create_missing=True,
    )
    campaign = payments.save_campaign(
        organization=organization,
        actor=actor,
        name=f"Appel {marker_email}",
        kind="don",
        start_date="2026-01-01",
        end_date="2026-12-31",
        goal="5000",
    )
    payment = payments.create_payment(
        organization=organization,
        actor=actor,
        kind="don",
        amount="50",
        paid_on="2026-03-12",
        method="cheque",
        payer_contact=contact,
        campaign=campaign,
        labels=[label.pk],
        notes=f"Don de {marker_email}",
    )
    membership_payment = payments.create_payment(
        organization=organization,
        actor=actor,
        kind="adhesion",
        amount="30",
        paid_on="2026-02-01",
        method="virement",
        payer_structure=structure,
        beneficiary=contact,
    )
    segment = segments.save_segment(
        organization=organization,
        actor=actor,
        name=f"Bénévoles {marker_email}",
        tree={"group": "all", "children": [{"field": "labels", "op": "any", "value": [label.pk]}]},
    )
    segments.record_segment(segment)
    return World(
        organization,
        admin,
        member,
        profile,
        invitation,
        token,
        job,
        marker_email,
        contact,
        structure,
        link,
        label,
        custom_field,
        group,
        household,
        trashed_contact,
        trashed_structure,
        interaction,
        campaign,
        payment,
        membership_payment,
        segment,
    )


@dataclass
class Write:
    method: str
    right: tuple[str, str] | None  # (action, data_type); None: any member may
    data: Callable[[World], dict] = lambda w: {}


@dataclass
class Case:
    """How to reach one URL name and what it requires."""

    kwargs: Callable[[World], dict] = lambda w: {}
    view_right: tuple[str, str] | None = None  # None: any member may GET
    writes: list[Write] = field(default_factory=list)
    get: bool = True
    api: bool = False
    scoped: bool = False  # points at one row of the organisation (→ 404 for outsiders)


def pk_of(attr: str) -> Callable[[World], dict]:
    return lambda w: {"pk": getattr(w, attr).pk}
