"""Writes on organisations, members, profiles, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from lien.core.audit import Actor, diff, record_event, snapshot
from lien.core.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Profile,
    User,
)
from lien.core.rights import ADMIN_PROFILE, DEFAULT_PROFILES, clean_rights
from lien.interactions.defaults import seed_interaction_types

INVITATION_SALT = "lien.invitation"
ORGANIZATION_FIELDS = [
    "name",
    "legal_name",
    "street",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "rna",
    "siren",
    "logo",
]
PROFILE_FIELDS = ["name", "description", "rights", "hide_payment_data", "hide_sensitive_fields"]


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "association"
    slug, n = base, 1
    existing = set(
        Organization.objects.filter(slug__startswith=base).values_list("slug", flat=True)
    )
    while slug in existing:
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(
    *, name: str, admin: User, actor: Actor | None = None, slug: str | None = None
) -> Organization:
    """A new association with its default profiles and `admin` as administrator."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Le nom de l'association est obligatoire."})
    organization = Organization.objects.create(name=name, slug=slug or _unique_slug(name))
    profiles = Profile.objects.bulk_create(
        [
            Profile(
                organization=organization,
                name=spec["name"],
                description=spec["description"],
                rights=spec["rights"],
                is_builtin=True,
            )
            for spec in DEFAULT_PROFILES
        ]
    )
    admin_profile = next(p for p in profiles if p.name == ADMIN_PROFILE)
    Membership.objects.create(organization=organization, user=admin, profile=admin_profile)
    seed_interaction_types(organization)
    record_event(
        organization=organization,
        actor=actor or Actor.for_user(admin),
        action=AuditEvent.Action.CREATE,
        target=organization,
        changes={"name": [None, organization.name]},
    )
    return organization


@transaction.atomic
def sign_up(*, organization_name: str, full_name: str, email: str, password: str) -> Organization:
    """Public sign-up: a new user and a new association they administer."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError(
            {"email": "Un compte existe déjà avec cette adresse : connectez-vous."}
        )
    user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
    return create_organization(name=organization_name, admin=user)


@transaction.atomic
def update_organization(*, organization: Organization, actor: Actor, **values) -> Organization:
    before = snapshot(organization, ORGANIZATION_FIELDS)
    for field, value in values.items():
        if field not in ORGANIZATION_FIELDS:
            raise ValueError(f"unknown field {field}")
        setattr(organization, field, value)
    organization.full_clean()
    organization.save()
    changes = diff(before, snapshot(organization, ORGANIZATION_FIELDS))
    if changes:
        record_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=organization,
            changes=changes,
        )
    return organization


# Profiles ---------------------------------------------------------------------------


@transaction.atomic
def save_profile(
    *,
    organization: Organization,
    actor: Actor,
    profile: Profile | None = None,
    name: str,
    description: str = "",
    rights: dict,
    hide_payment_data: bool = False,
    hide_sensitive_fields: bool = False,
) -> Profile:
    """Create or change a profile. The administrators' profile always keeps every right."""
    name = name.strip()
    duplicate = Profile.objects.for_org(organization).filter(name__iexact=name)
    if profile is not None:
        duplicate = duplicate.exclude(pk=profile.pk)
    if duplicate.exists():
        raise ValidationError({"name": f"Un profil « {name} » existe déjà."})
    creating = profile is None
    before = {} if creating else snapshot(profile, PROFILE_FIELDS)
    if creating:
        profile = Profile(organization=organization)
    is_admin_profile = profile.is_builtin and profile.name == ADMIN_PROFILE
    if is_admin_profile and (
        name != ADMIN_PROFILE or clean_rights(rights) != profile.rights or hide_payment_data
    ):
        raise ValidationError(
            "Le profil « Administrateur » garde tous les droits : "
            "créez un autre profil pour restreindre des droits."
        )
    profile.name = name
    profile.description = description
    profile.rights = clean_rights(rights)
    profile.hide_payment_data = hide_payment_data
    profile.hide_sensitive_fields = hide_sensitive_fields
    profile.save()
    changes = diff(before, snapshot(profile, PROFILE_FIELDS))
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
        target=profile,
        changes=changes,
    )
    return profile


@transaction.atomic
def delete_profile(*, organization: Organization, actor: Actor, profile: Profile) -> None:
    if profile.is_builtin:
        raise ValidationError("Les profils par défaut ne peuvent pas être supprimés.")
    if profile.memberships.exists():
        raise ValidationError(
            "Ce profil est attribué à des utilisateurs : changez d'abord leur profil."
        )
    if profile.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).exists():
        raise ValidationError(
            "Des invitations en attente utilisent ce profil : annulez-les d'abord."
        )
    record_event(
        organization=organization, actor=actor, action=AuditEvent.Action.DELETE, target=profile
    )
    profile.delete()


# Members ----------------------------------------------------------------------------


def _active_admin_count(organization: Organization) -> int:
    return (
        Membership.objects.for_org(organization)
        .filter(is_active=True, profile__name=ADMIN_PROFILE, profile__is_builtin=True)
        .count()
    )


@transaction.atomic
def change_membership(
    *,
    organization: Organization,
    actor: Actor,
    membership: Membership,
    profile: Profile | None = None,
    is_active: bool | None = None,
) -> Membership:
    """Change a member's profile or (de)activate them; an organisation keeps one admin."""
    before = {"profile": str(membership.profile), "is_active": membership.is_active}
    was_admin = membership.profile.is_builtin and membership.profile.name == ADMIN_PROFILE
    if profile is not None:
        if profile.organization_id != organization.pk:
            raise ValidationError({"profile": "Profil inconnu."})
        membership.profile = profile
    if is_active is not None:
        membership.is_active = is_active
    membership.save()
    if was_admin and _active_admin_count(organization) == 0:
        raise ValidationError("L'association doit garder au moins un administrateur actif.")
    after = {"profile": str(membership.profile), "is_active": membership.is_active}
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=membership.user,
        changes=diff(before, after),
    )
    return membership


# Invitations ------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(str(invitation.pk))


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a link stands for, or ValidationError saying why not."""
    try:
        pk = signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            token, max_age=settings.INVITATION_MAX_AGE
        )
    except signing.SignatureExpired as error:
        raise ValidationError(
            "Cette invitation a expiré (elle est valable 7 jours) : "
            "demandez-en une nouvelle à l'administrateur."
        ) from error
    except signing.BadSignature as error:
        raise ValidationError("Ce lien d'invitation n'est pas valide.") from error
    invitation = Invitation.objects.select_related("organization", "profile").filter(pk=pk).first()
    if invitation is None or invitation.revoked_at:
        raise ValidationError("Cette invitation a été annulée.")
    if invitation.accepted_at:
        raise ValidationError("Cette invitation a déjà été utilisée : connectez-vous.")
    return invitation


@transaction.atomic
def invite_user(
    *, organization: Organization, actor: Actor, email: str, profile: Profile
) -> Invitation:
    """Record an invitation and email its link (in the background, after commit)."""
    from lien.core.tasks import send_invitation_email

    email = email.strip().lower()
    if profile.organization_id != organization.pk:
        raise ValidationError({"profile": "Profil inconnu."})
    if Membership.objects.for_org(organization).filter(user__email=email, is_active=True).exists():
        raise ValidationError({"email": "Cette personne est déjà membre de l'association."})
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        profile=profile,
        invited_by=actor.user,
    )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=invitation,
        changes={"email": [None, email], "profile": [None, profile.name]},
    )
    transaction.on_commit(lambda: send_invitation_email.enqueue(invitation_id=invitation.pk))
    return invitation


@transaction.atomic
def revoke_invitation(*, organization: Organization, actor: Actor, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=invitation,
    )


@transaction.atomic
def accept_invitation(
    *, invitation: Invitation, user: User | None = None, full_name: str = "", password: str = ""
) -> Membership:
    """Join the organisation: an existing user (logged in) or a new account set up here."""
    if user is None:
        if User.objects.filter(email=invitation.email).exists():
            raise ValidationError(
                "Un compte existe déjà avec cette adresse : connectez-vous puis rouvrez le lien."
            )
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=full_name.strip()
        )
    elif user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"Cette invitation est adressée à {invitation.email} : connectez-vous avec ce compte."
        )
    organization = invitation.organization
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"profile": invitation.profile}
    )
    if not created:
        membership.profile = invitation.profile
        membership.is_active = True
        membership.save(update_fields=["profile", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record_event(
        organization=organization,
        actor=Actor.for_user(user),
        action=AuditEvent.Action.CREATE,
        target=user,
        changes={"profile": [None, invitation.profile.name]},
    )
    return membership


# API tokens -------------------------------------------------------------------------


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, organization: Organization, actor: Actor, user: User, name: str
) -> tuple[ApiToken, str]:
    """A new token; the clear key is returned once and never stored."""
    if not Membership.objects.for_org(organization).filter(user=user, is_active=True).exists():
        raise ValidationError("Cet utilisateur n'est pas membre actif de l'association.")
    key = "lien_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization=organization,
        user=user,
        name=name.strip() or "Jeton API",
        prefix=key[:12],
        key_hash=hash_token_key(key),
    )
    record_event(
        organization=organization,
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=token,
        changes={"name": [None, token.name]},
    )
    return token, key


@transaction.atomic
def revoke_api_token(*, organization: Organization, actor: Actor, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(
        organization=organization, actor=actor, action=AuditEvent.Action.DELETE, target=token
    )
