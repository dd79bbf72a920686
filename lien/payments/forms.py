"""The payment form: fields shaped as people type them, checked by the service.

Forms only shape input; the services check it (the same rules as the API and imports)
and their ValidationError lands on the field it names. The amount stays the text typed
(« 1 234,50 »): the service reads it. The payer, the beneficiary and the campaign are
ids the service looks up in the organisation, so another organisation's id is refused
there, with the field's message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from lien.contacts.custom_fields import definitions
from lien.contacts.forms import CustomFieldsMixin
from lien.contacts.models import CustomField, Label
from lien.core.models import Membership, Organization
from lien.payments.models import Campaign, Payment, PaymentKind
from lien.payments.services import payment_settings

FREQUENCIES = [c for c in Payment.Frequency.choices if c[0]]


def euros(cents: int | None) -> str:
    """12345 → « 123,45 »: an amount as it is typed back into the form."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"{whole},{rest:02d}"


class PaymentForm(CustomFieldsMixin, forms.Form):
    """One payment's fields; the payer is a contact or a structure, chosen by quick search."""

    kind = forms.ChoiceField(label="Type", choices=PaymentKind.choices)
    amount = forms.CharField(
        label="Montant (€)",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="En euros, par exemple 12,50.",
    )
    paid_on = forms.CharField(
        label="Date du paiement",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    status = forms.ChoiceField(label="Statut", choices=Payment.Status.choices)
    method = forms.ChoiceField(
        label="Moyen de paiement", choices=[("", "Choisir…"), *Payment.Method.choices]
    )
    campaign = forms.ChoiceField(label="Campagne", required=False)
    # Where the service's « payer » messages land (none, or both kinds): the payer block.
    payer = forms.CharField(required=False, widget=forms.HiddenInput)
    payer_contact = forms.CharField(required=False)
    payer_structure = forms.CharField(required=False)
    beneficiary = forms.CharField(required=False)
    is_recurring = forms.BooleanField(label="Paiement récurrent", required=False)
    frequency = forms.ChoiceField(label="Fréquence", choices=FREQUENCIES, required=False)
    valid_from = forms.CharField(
        label="Début de validité", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.CharField(
        label="Fin de validité", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    labels = forms.MultipleChoiceField(
        label="Étiquettes du paiement", required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        data=None,
        *,
        organization: Organization,
        membership: Membership,
        instance: Payment | None = None,
        initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        initial = dict(initial or {})
        attached = (
            [str(pk) for pk in instance.label_links.values_list("label_id", flat=True)]
            if instance is not None
            else []
        )
        if instance is not None:
            initial.update(
                kind=instance.kind,
                amount=euros(instance.amount_cents),
                paid_on=instance.paid_on.isoformat(),
                status=instance.status,
                method=instance.method,
                campaign=str(instance.campaign_id or ""),
                payer_contact=str(instance.payer_contact_id or ""),
                payer_structure=str(instance.payer_structure_id or ""),
                # Left empty when it is the payer: a new payer then benefits too.
                beneficiary=str(
                    instance.beneficiary_id
                    if instance.beneficiary_id != instance.payer_contact_id
                    else ""
                ),
                is_recurring=instance.is_recurring,
                frequency=instance.frequency or Payment.Frequency.MONTHLY,
                labels=attached,
                notes=instance.notes,
            )
        else:
            initial.setdefault("kind", PaymentKind.DONATION)
            initial.setdefault("paid_on", timezone.localdate().isoformat())
            initial.setdefault("status", Payment.Status.PAID)
            initial.setdefault("frequency", Payment.Frequency.MONTHLY)
        super().__init__(data, initial=initial, **kwargs)
        self.creating = instance is None
        campaigns = Campaign.objects.for_org(organization).order_by("name")
        self.fields["campaign"].choices = [("", "Aucune")] + [
            (str(pk), name) for pk, name in campaigns.values_list("pk", "name")
        ]
        # The labels the payment rules put on people (Donateur, Adhérent…) say nothing of a
        # payment: they are not offered, unless one is already there.
        settings = payment_settings(organization)
        automatic = {
            settings.donor_label_id,
            settings.member_label_id,
            settings.former_member_label_id,
            settings.participant_label_id,
        }
        self.fields["labels"].choices = [
            (str(pk), name)
            for pk, name in Label.objects.for_org(organization)
            .order_by("name")
            .values_list("pk", "name")
            if pk not in automatic or str(pk) in attached
        ]
        self.add_custom_fields(
            definitions(
                organization=organization,
                target=CustomField.Target.PAYMENT,
                membership=membership,
            ),
            instance.custom if instance is not None else {},
        )

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments.

        The validity dates go only when typed: left empty, an edited payment keeps its
        period and a new membership takes the organisation's rule.
        """
        data = self.cleaned_data
        values: dict[str, Any] = {
            "kind": data["kind"],
            "amount": data["amount"],
            "paid_on": data["paid_on"],
            "status": data["status"],
            "method": data["method"],
            "campaign": data["campaign"] or None,
            "payer_contact": data["payer_contact"] or None,
            "payer_structure": data["payer_structure"] or None,
            "beneficiary": data["beneficiary"] or None,
            "is_recurring": data["is_recurring"],
            "frequency": data["frequency"] if data["is_recurring"] else "",
            "notes": data["notes"],
            "labels": [int(pk) for pk in data["labels"]],
        }
        if self.custom_definitions:
            values["custom"] = self.custom_values()
        for name in ("valid_from", "valid_until"):
            if data[name].strip():
                values[name] = data[name].strip()
        return values

    def group(self, names: list[str]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return self.group(["kind", "amount", "paid_on", "status", "method", "campaign"])

    @property
    def recurrence_fields(self) -> list[forms.BoundField]:
        return self.group(["is_recurring", "frequency"])

    @property
    def extra_fields(self) -> list[forms.BoundField]:
        return self.group(["labels", "notes"] if self.fields["labels"].choices else ["notes"])

    def add_service_errors(self, error) -> None:
        """The service names `amount`; a model check may name `amount_cents`."""
        if hasattr(error, "error_dict") and "amount_cents" in error.error_dict:
            error.error_dict.setdefault("amount", []).extend(error.error_dict.pop("amount_cents"))
        super().add_service_errors(error)
