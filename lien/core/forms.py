"""Forms of the core pages: they validate input, services do the work."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from lien.core.models import Organization, Profile, User
from lien.core.rights import ACTIONS, DATA_TYPES


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        "invalid_login": "Email ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
    }


class PasswordFields(forms.Form):
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Au moins 10 caractères, pas uniquement des chiffres.",
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def user_for_validation(self) -> User:
        return User(
            email=self.cleaned_data.get("email", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "Les deux mots de passe ne correspondent pas.")
        elif p1:
            try:
                password_validation.validate_password(p1, self.user_for_validation())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpForm(PasswordFields):
    organization_name = forms.CharField(label="Nom de l'association", max_length=200)
    full_name = forms.CharField(label="Votre nom", max_length=150)
    email = forms.EmailField(label="Votre email")

    field_order = ["organization_name", "full_name", "email", "password1", "password2"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                "Un compte existe déjà avec cette adresse : connectez-vous."
            )
        return email


class AcceptInvitationForm(PasswordFields):
    full_name = forms.CharField(label="Votre nom", max_length=150)

    field_order = ["full_name", "password1", "password2"]

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def user_for_validation(self) -> User:
        return User(email=self.email, full_name=self.cleaned_data.get("full_name", ""))


class OrganizationForm(forms.ModelForm):
    website = forms.URLField(label="Site web", required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = [
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
        help_texts = {
            "rna": "Numéro du Répertoire national des associations (W + 9 chiffres).",
            "country": "Code pays à deux lettres (FR).",
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > 2 * 1024 * 1024:
            raise forms.ValidationError("Le logo ne doit pas dépasser 2 Mo.")
        return logo


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email de la personne invitée")
    profile = forms.ModelChoiceField(
        label="Profil", queryset=Profile.objects.none(), empty_label=None
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        profiles = Profile.objects.for_org(organization).order_by("-is_builtin", "pk")
        self.fields["profile"].queryset = profiles
        # The least powerful default profile: rights are added on purpose, not by accident.
        self.fields["profile"].initial = profiles.filter(name="Lecteur").first()


class MembershipForm(forms.Form):
    profile = forms.ModelChoiceField(label="Profil", queryset=Profile.objects.none())
    is_active = forms.BooleanField(label="Actif", required=False)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = Profile.objects.for_org(organization)


class ProfileForm(forms.Form):
    """A profile's name, switches, and one checkbox per (data type, action)."""

    name = forms.CharField(label="Nom", max_length=80)
    description = forms.CharField(label="Description", max_length=250, required=False)
    hide_payment_data = forms.BooleanField(label="Masquer les données de paiement", required=False)
    hide_sensitive_fields = forms.BooleanField(label="Masquer les champs sensibles", required=False)

    def __init__(self, *args, profile: Profile | None = None, **kwargs):
        if profile is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": profile.name,
                "description": profile.description,
                "hide_payment_data": profile.hide_payment_data,
                "hide_sensitive_fields": profile.hide_sensitive_fields,
                **{
                    f"right__{data_type}__{action}": action in actions
                    for data_type, actions in profile.rights.items()
                    for action in ACTIONS
                },
            }
        super().__init__(*args, **kwargs)
        for data_type in DATA_TYPES:
            for action, label in ACTIONS.items():
                self.fields[f"right__{data_type}__{action}"] = forms.BooleanField(
                    label=label, required=False
                )

    def rights_rows(self) -> list[dict]:
        return [
            {
                "label": label,
                "data_type": data_type,
                "cells": [self[f"right__{data_type}__{action}"] for action in ACTIONS],
            }
            for data_type, label in DATA_TYPES.items()
        ]

    def rights(self) -> dict[str, list[str]]:
        return {
            data_type: [
                action
                for action in ACTIONS
                if self.cleaned_data.get(f"right__{data_type}__{action}")
            ]
            for data_type in DATA_TYPES
        }


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Pour vous souvenir de son usage, par exemple « Synchronisation site web ».",
    )
