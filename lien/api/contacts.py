"""The contacts app's API: contacts, structures and their links, labels, custom fields,
groups and households.

Thin over `lien.contacts.services`: serializers check the JSON shapes (types,
lengths, ids of the caller's organisation), the services enforce the business
rules with their French messages (keys like `custom.regime` for custom values).
Every queryset starts from `for_org(organization)`: another organisation's row
is 404, another organisation's id in a body is 400, and nothing of it attaches.

Decisions:
- Bodies are JSON only (nested `custom` objects and `labels` lists have no
  sensible form encoding), so the schema documents exactly what is accepted.
- Reading and writing a contact or a structure use two serializers: `labels`
  is read as badges `{id, name, color, origin}` and written as ids or names.
  Writing `labels` replaces the record's MANUAL labels; automatic ones stay.
- Contact ↔ structure links are one flat resource, `/contact-structure-links/`
  (filters `contact`, `structure`), and each contact shows its links read-only
  in `structures`. Creating, changing or deleting a link changes the contact's
  card: it needs the « change » right on contacts.
- Deleting a label, a custom field or a group answers 200 with what went with it
  (`records`, `values`, `members`); deleting a contact or a structure sends it
  to the trash (204) and it is then 404 here.
- Rights follow `lien/contacts/access.py`: labels are read with « view
  contacts » and written with « settings »; custom field definitions need
  « settings » (view to read); groups are « segments »; households « contacts ».
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from lien.api.views import OrganizationScoped, as_api_error
from lien.contacts import services
from lien.contacts.models import (
    Contact,
    ContactLabel,
    ContactStructureLink,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    LabelOrigin,
    Structure,
    StructureLabel,
)
from lien.contacts.normalize import normalize_email
from lien.contacts.selectors import ListQuery, filtered_contacts, filtered_structures
from lien.core.rights import hides_sensitive_fields

MAX_ID = 2**63 - 1  # BigAutoField: larger ids cannot exist
MAX_IDS = 5000  # ids per membership request
ADDRESS_FIELDS = services.ADDRESS_FIELDS


@contextmanager
def service_errors() -> Iterator[None]:
    """Run service calls in one transaction; their ValidationError becomes a 400."""
    try:
        with transaction.atomic():
            yield
    except ValidationError as error:
        raise as_api_error(error) from error


def refuse(field: str, message: str) -> ApiValidationError:
    return ApiValidationError({field: [message]})


def id_field(**kwargs) -> serializers.IntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def ids_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=id_field(), max_length=MAX_IDS, **kwargs)


# Strict JSON types -----------------------------------------------------------------------
# DRF coerces 0 into "0" and "yes" into True; the schema promises JSON types, and a
# client sending a number where a text is expected has a bug worth a 400.


class StrictText:
    default_error_messages = {"not_text": "Texte attendu."}

    def to_internal_value(self, data: Any):
        if not isinstance(data, str):
            self.fail("not_text")
        # The schema's maxLength counts the text as sent: spaces trimmed after do not make
        # a too-long text acceptable.
        limit = getattr(self, "max_length", None)
        if limit is not None and len(data) > limit:
            self.fail("max_length", max_length=limit)
        return super().to_internal_value(data)


class StrictCharField(StrictText, serializers.CharField):
    pass


class StrictEmailField(StrictText, serializers.EmailField):
    pass


class StrictURLField(StrictText, serializers.URLField):
    pass


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"not_boolean": "true ou false attendu."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_boolean")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"not_integer": "Nombre entier attendu."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer")
        return super().to_internal_value(data)


class StrictDateTimeField(serializers.DateTimeField):
    """A date-time between 1900 and 2200: beyond, it is a typo (year 131 would also come
    back with Paris's 1891 local mean time offset, +00:09:21, which no ISO reader takes)."""

    first_year, last_year = 1900, 2200
    default_error_messages = {"range": f"La date doit être entre {first_year} et {last_year}."}

    def to_internal_value(self, value: Any):
        if not isinstance(value, str):
            self.fail("invalid", format="AAAA-MM-JJTHH:MM:SS")
        moment = super().to_internal_value(value)
        if not self.first_year <= moment.year <= self.last_year:
            self.fail("range")
        return moment


class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.DateTimeField: StrictDateTimeField,
    }


def scoped_pk(model: type[models.Model], **kwargs) -> serializers.PrimaryKeyRelatedField:
    """An id of `model`; the queryset is narrowed to the organisation per request."""
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.none(), pk_field=StrictIntegerField(), **kwargs
    )


# Fields ---------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "minLength": 1, "maxLength": 80},
        ]
    }
)
class LabelRefField(serializers.Field):
    """A label given by its id (number) or its name (text, any case)."""

    default_error_messages = {
        "invalid": "Une étiquette se désigne par son id (nombre) ou son nom (texte)."
    }

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, int) and not isinstance(data, bool) and 1 <= data <= MAX_ID:
            return data
        if isinstance(data, str) and is_label_name(data):
            return data.strip()
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


def is_label_name(text: str) -> bool:
    """A usable label reference: not blank, no NUL, and digits only if ASCII ones.

    `resolve_labels` reads a digit string as an id with int(), which « ² » breaks.
    """
    text = text.strip()
    return (
        bool(text)
        and len(text) <= 80
        and "\x00" not in text
        and (text.isascii() or not text.isdigit())
    )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class CustomValuesField(serializers.DictField):
    """Custom values keyed by their definitions' stable keys.

    On output, the keys the member may not see (sensitive fields, for profiles
    that hide them) are left out; on input the services refuse them as unknown.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if _has_nul(value):
            raise serializers.ValidationError("Caractère nul interdit.")
        return value

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        hidden = self.context.get("hidden_custom_keys", frozenset())
        return {key: item for key, item in (value or {}).items() if key not in hidden}


class MemberIdsField(serializers.ListField):
    """A household's members as contact ids (read from the `api_members` prefetch)."""

    def get_attribute(self, instance: Household) -> list[int]:
        return [contact.pk for contact in instance.api_members]


# Serializers ----------------------------------------------------------------------------


class ScopedSerializerMixin:
    """Related-id fields accept only rows of the caller's organisation."""

    scoped_querysets: dict[str, Any] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            for name, queryset in self.scoped_querysets.items():
                self.fields[name].queryset = queryset(organization)


class LabelBadgeSerializer(serializers.Serializer):
    """A label on a record, with the origin of its attachment."""

    id = serializers.IntegerField(source="label_id", read_only=True)
    name = serializers.CharField(source="label.name", read_only=True)
    color = serializers.CharField(source="label.color", read_only=True)
    origin = serializers.ChoiceField(choices=LabelOrigin.choices, read_only=True)


class ContactStructureSerializer(serializers.ModelSerializer):
    """A contact's link to a structure, as shown on the contact (`id` is the link's)."""

    structure_name = serializers.CharField(source="structure.name", read_only=True)

    class Meta:
        model = ContactStructureLink
        fields = ["id", "structure", "structure_name", "role", "start_date", "end_date", "is_main"]


class ContactSerializer(serializers.ModelSerializer):
    """A contact as read: label badges, visible custom values, structure links."""

    custom = CustomValuesField(read_only=True)
    labels = LabelBadgeSerializer(source="api_labels", many=True, read_only=True)
    structures = ContactStructureSerializer(source="api_structure_links", many=True, read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            *services.CONTACT_FIELDS,
            "household",
            "custom",
            "labels",
            "structures",
            "created_at",
            "updated_at",
        ]
        # Output only; fields stay "writable" so the schema keeps blank and enum variants.
        read_only_fields = ["created_at", "updated_at"]


class ContactWriteSerializer(ScopedSerializerMixin, StrictModelSerializer):
    """A contact as written: labels by id or name, custom values by key."""

    custom = CustomValuesField(required=False)
    labels = serializers.ListField(
        child=LabelRefField(),
        required=False,
        max_length=200,
        help_text="Ids ou noms d'étiquettes : remplace les étiquettes manuelles.",
    )
    household = scoped_pk(Household, allow_null=True, required=False)
    allow_duplicate_email = StrictBooleanField(
        default=False,
        write_only=True,
        help_text="Créer même si un autre contact a déjà cet email.",
    )
    scoped_querysets = {"household": lambda org: Household.objects.for_org(org)}

    class Meta:
        model = Contact
        fields = [
            *services.CONTACT_FIELDS,
            "household",
            "custom",
            "labels",
            "allow_duplicate_email",
        ]


class StructureSerializer(serializers.ModelSerializer):
    """A structure as read: label badges and visible custom values."""

    custom = CustomValuesField(read_only=True)
    labels = LabelBadgeSerializer(source="api_labels", many=True, read_only=True)

    class Meta:
        model = Structure
        fields = [
            "id",
            *services.STRUCTURE_FIELDS,
            "custom",
            "labels",
            "created_at",
            "updated_at",
        ]
        # Output only; fields stay "writable" so the schema keeps blank and enum variants.
        read_only_fields = ["created_at", "updated_at"]


class StructureWriteSerializer(StrictModelSerializer):
    """A structure as written: labels by id or name, custom values by key."""

    # Spaces are allowed on input: the service strips and checks the numbers.
    siren = StrictCharField(max_length=20, required=False, allow_blank=True)
    siret = StrictCharField(max_length=30, required=False, allow_blank=True)
    custom = CustomValuesField(required=False)
    labels = serializers.ListField(
        child=LabelRefField(),
        required=False,
        max_length=200,
        help_text="Ids ou noms d'étiquettes : remplace les étiquettes manuelles.",
    )

    class Meta:
        model = Structure
        fields = [*services.STRUCTURE_FIELDS, "custom", "labels"]


class ContactStructureLinkSerializer(ScopedSerializerMixin, StrictModelSerializer):
    """A contact's role in a structure; the contact of a link never changes."""

    contact = scoped_pk(Contact)
    structure = scoped_pk(Structure)
    scoped_querysets = {
        "contact": lambda org: Contact.objects.for_org(org).not_deleted(),
        "structure": lambda org: Structure.objects.for_org(org).not_deleted(),
    }

    class Meta:
        model = ContactStructureLink
        fields = ["id", "contact", "structure", "role", "start_date", "end_date", "is_main"]


class LabelSerializer(StrictModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color", "created_at"]
        read_only_fields = ["created_at"]


class CustomFieldSerializer(StrictModelSerializer):
    choices = serializers.ListField(
        child=StrictCharField(max_length=200), required=False, max_length=500
    )
    position = StrictIntegerField(min_value=0, max_value=2_147_483_647, required=False)

    class Meta:
        model = CustomField
        fields = [
            "id",
            "target",
            "name",
            "key",
            "field_type",
            "choices",
            "required",
            "help_text",
            "position",
            "sensitive",
            "created_at",
        ]
        read_only_fields = ["key", "created_at"]


class RenameChoiceSerializer(serializers.Serializer):
    old = StrictCharField(max_length=200)
    new = StrictCharField(max_length=200)


class GroupSerializer(StrictModelSerializer):
    custom = CustomValuesField(required=False)
    contacts_count = serializers.IntegerField(read_only=True)
    structures_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = [
            "id",
            "name",
            "description",
            "custom",
            "contacts_count",
            "structures_count",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class GroupMemberSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="« contact » ou « structure ».")
    id = serializers.IntegerField()
    name = serializers.CharField()
    added_at = serializers.DateTimeField()


class GroupMembersSerializer(serializers.Serializer):
    contacts = ids_field(required=False, default=list)
    structures = ids_field(required=False, default=list)


class HouseholdSerializer(StrictModelSerializer):
    members = MemberIdsField(
        child=id_field(),
        required=False,
        max_length=MAX_IDS,
        help_text="Ids des contacts du foyer : la liste remplace les membres.",
    )

    class Meta:
        model = Household
        fields = ["id", "name", *ADDRESS_FIELDS, "members", "created_at"]
        read_only_fields = ["created_at"]


def count_body(name: str, field: str, help_text: str):
    return inline_serializer(name, {field: serializers.IntegerField(help_text=help_text)})


# Query parameters -----------------------------------------------------------------------


def _text_param(request, name: str, max_length: int) -> str | None:
    """A single text parameter (None when absent); repeated, too long or NUL is a 400."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise refuse(name, f"Le paramètre « {name} » est donné plusieurs fois.")
    value = values[0]
    if len(value) > max_length:
        raise refuse(name, f"{max_length} caractères au plus.")
    if "\x00" in value:
        raise refuse(name, "Caractère nul interdit.")
    return value


def _id_param(request, name: str) -> int | None:
    value = _text_param(request, name, 20)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise refuse(name, f"« {value} » n'est pas un identifiant.")
    return int(value)


def _label_params(request, organization) -> list[int]:
    refs = request.query_params.getlist("label")
    if not all(is_label_name(ref) for ref in refs):
        raise refuse("label", "Une étiquette se désigne par son id ou son nom.")
    try:
        return [label.pk for label in services.resolve_labels(organization=organization, refs=refs)]
    except ValidationError as error:
        raise as_api_error(error) from error


LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": 100},
        description="Recherche rapide (sans accents ni casse).",
    ),
    OpenApiParameter(
        "label",
        {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 80}},
        description="Id ou nom d'étiquette ; répétable (toutes requises).",
        explode=True,
    ),
    OpenApiParameter(
        "group", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="Id de groupe."
    ),
    OpenApiParameter("email", {"type": "string", "maxLength": 254}, description="Email exact."),
]


# Views ----------------------------------------------------------------------------------


class ScopedViewSet(OrganizationScoped, viewsets.GenericViewSet):
    """Integer ids, JSON bodies, and serializers that know the organisation."""

    lookup_value_regex = r"[0-9]+"
    parser_classes = [JSONParser]
    custom_target: str | None = None  # whose custom values this endpoint shows

    @property
    def organization(self):
        return getattr(self.request._request, "organization", None)

    @property
    def membership(self):
        return getattr(self.request._request, "membership", None)

    def hidden_custom_keys(self) -> frozenset[str]:
        """Sensitive keys hidden from this member, computed once per request.

        The rule of `custom_fields.visible_values`, applied to a whole page at
        once instead of one query per row.
        """
        if not hasattr(self, "_hidden_keys"):
            self._hidden_keys = frozenset()
            if self.custom_target and hides_sensitive_fields(self.membership):
                self._hidden_keys = frozenset(
                    CustomField.objects.for_org(self.organization)
                    .filter(target=self.custom_target, sensitive=True)
                    .values_list("key", flat=True)
                )
        return self._hidden_keys

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.request is not None and self.organization is not None:
            context["organization"] = self.organization
            context["hidden_custom_keys"] = self.hidden_custom_keys()
        return context

    def write_serializer(self, serializer_class, *, instance=None, partial: bool = False):
        serializer = serializer_class(
            instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def fresh(self, pk: int):
        """The row as the list shows it (prefetches included), after a write."""
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


def replace_manual_labels(*, organization, actor, model, pk: int, labels: list[Label]) -> None:
    """Make the record's MANUAL labels exactly `labels`; automatic ones are left alone."""
    link_model, column = services.LABEL_LINKS[model]
    current = set(
        link_model.objects.for_org(organization)
        .filter(**{column: pk}, origin=LabelOrigin.MANUAL)
        .values_list("label_id", flat=True)
    )
    wanted = {label.pk for label in labels}
    added = [label for label in labels if label.pk not in current]
    removed = list(Label.objects.for_org(organization).filter(pk__in=current - wanted))
    if added:
        services.add_labels(
            organization=organization, actor=actor, model=model, ids=[pk], labels=added
        )
    if removed:
        services.remove_labels(
            organization=organization, actor=actor, model=model, ids=[pk], labels=removed
        )


def resolve(organization, refs) -> list[Label]:
    return services.resolve_labels(organization=organization, refs=refs) if refs else []


def labels_prefetch(link_model: type[models.Model], organization) -> Prefetch:
    return Prefetch(
        "label_links",
        queryset=link_model.objects.for_org(organization)
        .select_related("label")
        .order_by("label__name", "origin"),
        to_attr="api_labels",
    )


class RecordViewSet(
    ScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
):
    """What contacts and structures share: list filters, and DELETE sends to the trash."""

    model: type = Contact
    selector = staticmethod(filtered_contacts)  # the list page's own filters

    def search(self, query: ListQuery):
        return self.selector(organization=self.organization, query=query)

    def with_email(self, records, email: str):
        return records.filter(email__iexact=email)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        request = self.request
        query = ListQuery(
            q=(_text_param(request, "q", 100) or "").strip(),
            labels=_label_params(request, self.organization),
            group=_id_param(request, "group"),
        )
        try:
            records = self.search(query)
        except ValueError as error:  # a search no index can serve (odd characters)
            raise refuse("q", "Recherche invalide.") from error
        email = _text_param(request, "email", 254)
        if email:
            records = self.with_email(records, email)
        return self.prefetched(records)

    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        services.trash(
            organization=self.organization, actor=self.actor(), model=self.model, ids=[record.pk]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    create=extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer}),
    update=extend_schema(request=ContactWriteSerializer, responses=ContactSerializer),
    partial_update=extend_schema(request=ContactWriteSerializer, responses=ContactSerializer),
    destroy=extend_schema(description="Envoie le contact à la corbeille (30 jours)."),
)
class ContactViewSet(RecordViewSet):
    """Contacts of the organisation (the trash excluded)."""

    model = Contact
    data_type = "contacts"
    custom_target = CustomField.Target.CONTACT
    serializer_class = ContactSerializer
    queryset = Contact.objects.none()  # typed for the schema; get_queryset narrows

    def get_queryset(self):
        return self.prefetched(Contact.objects.for_org(self.organization).not_deleted())

    def prefetched(self, contacts):
        organization = self.organization
        return contacts.prefetch_related(
            labels_prefetch(ContactLabel, organization),
            Prefetch(
                "structure_links",
                queryset=ContactStructureLink.objects.for_org(organization)
                .filter(structure__is_deleted=False)
                .select_related("structure")
                .order_by("-is_main", "structure__name", "pk"),
                to_attr="api_structure_links",
            ),
        ).order_by("pk")

    def with_email(self, contacts, email: str):
        return contacts.filter(email_normalized=normalize_email(email))

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(ContactWriteSerializer)
        custom, refs = data.pop("custom", None), data.pop("labels", None)
        household = data.pop("household", None)
        allow_duplicate = data.pop("allow_duplicate_email", False)
        try:
            with transaction.atomic():
                contact = services.create_contact(
                    organization=self.organization,
                    actor=self.actor(),
                    data=data,
                    custom=custom,
                    labels=resolve(self.organization, refs),
                    membership=self.membership,
                    allow_duplicate_email=allow_duplicate,
                )
                if household is not None:
                    services.set_household(
                        organization=self.organization,
                        actor=self.actor(),
                        contacts=[contact],
                        household=household,
                    )
        except services.DuplicateEmail as error:
            # The caller links to the existing contact, or retries with the flag.
            return Response(
                {"email": error.message_dict["email"], "existing_contact": error.existing.pk},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except ValidationError as error:
            raise as_api_error(error) from error
        return Response(self.fresh(contact.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        contact = self.get_object()
        data = self.write_serializer(
            ContactWriteSerializer, instance=contact, partial=kwargs.get("partial", False)
        )
        custom, refs = data.pop("custom", None), data.pop("labels", None)
        has_household, household = "household" in data, data.pop("household", None)
        data.pop("allow_duplicate_email", None)
        with service_errors():
            labels = resolve(self.organization, refs)
            services.update_contact(
                organization=self.organization,
                actor=self.actor(),
                contact=contact,
                data=data,
                custom=custom,
                membership=self.membership,
            )
            if has_household and household != contact.household:
                services.set_household(
                    organization=self.organization,
                    actor=self.actor(),
                    contacts=[contact],
                    household=household,
                )
            if refs is not None:
                replace_manual_labels(
                    organization=self.organization,
                    actor=self.actor(),
                    model=Contact,
                    pk=contact.pk,
                    labels=labels,
                )
        return Response(self.fresh(contact.pk))


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    create=extend_schema(request=StructureWriteSerializer, responses={201: StructureSerializer}),
    update=extend_schema(request=StructureWriteSerializer, responses=StructureSerializer),
    partial_update=extend_schema(request=StructureWriteSerializer, responses=StructureSerializer),
    destroy=extend_schema(description="Envoie la structure à la corbeille (30 jours)."),
)
class StructureViewSet(RecordViewSet):
    """Structures of the organisation (the trash excluded)."""

    model = Structure
    selector = staticmethod(filtered_structures)
    data_type = "structures"
    custom_target = CustomField.Target.STRUCTURE
    serializer_class = StructureSerializer
    queryset = Structure.objects.none()

    def get_queryset(self):
        return self.prefetched(Structure.objects.for_org(self.organization).not_deleted())

    def prefetched(self, structures):
        return structures.prefetch_related(
            labels_prefetch(StructureLabel, self.organization)
        ).order_by("pk")

    def create(self, request, *args, **kwargs):
        data = self.write_serializer(StructureWriteSerializer)
        custom, refs = data.pop("custom", None), data.pop("labels", None)
        with service_errors():
            structure = services.create_structure(
                organization=self.organization,
                actor=self.actor(),
                data=data,
                custom=custom,
                labels=resolve(self.organization, refs),
                membership=self.membership,
            )
        return Response(self.fresh(structure.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        structure = self.get_object()
        data = self.write_serializer(
            StructureWriteSerializer, instance=structure, partial=kwargs.get("partial", False)
        )
        custom, refs = data.pop("custom", None), data.pop("labels", None)
        with service_errors():
            labels = resolve(self.organization, refs)
            services.update_structure(
                organization=self.organization,
                actor=self.actor(),
                structure=structure,
                data=data,
                custom=custom,
                membership=self.membership,
            )
            if refs is not None:
                replace_manual_labels(
                    organization=self.organization,
                    actor=self.actor(),
                    model=Structure,
                    pk=structure.pk,
                    labels=labels,
                )
        return Response(self.fresh(structure.pk))


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "contact", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="Id."
            ),
            OpenApiParameter(
                "structure",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Id.",
            ),
        ]
    )
)
class ContactStructureLinkViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Contact ↔ structure links (role, dates, main structure); part of the contact's card."""

    data_type = "contacts"
    action_rights = {
        "create": "change",
        "update": "change",
        "partial_update": "change",
        "destroy": "change",
    }
    serializer_class = ContactStructureLinkSerializer
    queryset = ContactStructureLink.objects.none()

    def get_queryset(self):
        return (
            ContactStructureLink.objects.for_org(self.organization)
            .filter(contact__is_deleted=False, structure__is_deleted=False)
            .select_related("contact", "structure")
            .order_by("pk")
        )

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        for name in ("contact", "structure"):
            pk = _id_param(self.request, name)
            if pk is not None:
                queryset = queryset.filter(**{f"{name}_id": pk})
        return queryset

    def _save(self, link: ContactStructureLink | None, data: dict[str, Any]):
        with service_errors():
            return services.save_structure_link(
                organization=self.organization,
                actor=self.actor(),
                contact=data["contact"],
                structure=data["structure"],
                link=link,
                role=data.get("role", ""),
                start_date=data.get("start_date"),
                end_date=data.get("end_date"),
                is_main=data.get("is_main", False),
            )

    def perform_create(self, serializer):
        serializer.instance = self._save(None, serializer.validated_data)

    def perform_update(self, serializer):
        link = serializer.instance
        data = serializer.validated_data
        if "contact" in data and data["contact"] != link.contact:
            raise refuse(
                "contact", "Un lien ne change pas de contact : supprimez-le et créez-en un autre."
            )
        current = {
            "contact": link.contact,
            "structure": link.structure,
            "role": link.role,
            "start_date": link.start_date,
            "end_date": link.end_date,
            "is_main": link.is_main,
        }
        serializer.instance = self._save(link, {**current, **data})

    def perform_destroy(self, instance):
        services.delete_structure_link(
            organization=self.organization, actor=self.actor(), link=instance
        )


class LabelViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Labels (« étiquettes »): read with the contacts right, managed with the settings right."""

    serializer_class = LabelSerializer
    queryset = Label.objects.none()

    @property
    def data_type(self) -> str:
        return "contacts" if self.request.method in permissions.SAFE_METHODS else "settings"

    def get_queryset(self):
        return Label.objects.for_org(self.organization).order_by("name", "pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        with service_errors():
            serializer.instance = services.save_label(
                organization=self.organization,
                actor=self.actor(),
                name=data["name"],
                color=data.get("color", Label._meta.get_field("color").default),
            )

    def perform_update(self, serializer):
        label, data = serializer.instance, serializer.validated_data
        with service_errors():
            serializer.instance = services.save_label(
                organization=self.organization,
                actor=self.actor(),
                label=label,
                name=data.get("name", label.name),
                color=data.get("color", label.color),
            )

    @extend_schema(
        responses={200: count_body("LabelDeleted", "records", "Fiches qui portaient l'étiquette.")}
    )
    def destroy(self, request, *args, **kwargs):
        label = self.get_object()
        with service_errors():
            records = services.delete_label(
                organization=self.organization, actor=self.actor(), label=label
            )
        return Response({"records": records})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("target", enum=CustomField.Target.values, description="Cible.")
        ]
    )
)
class CustomFieldViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Custom field definitions; a profile that hides sensitive fields does not see those."""

    data_type = "settings"
    action_rights = {"rename_choice": "change"}
    serializer_class = CustomFieldSerializer
    queryset = CustomField.objects.none()

    def get_queryset(self):
        fields = CustomField.objects.for_org(self.organization)
        if hides_sensitive_fields(self.membership):
            fields = fields.filter(sensitive=False)
        return fields.order_by("target", "position", "name", "pk")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        target = _text_param(self.request, "target", 20)
        if target is None:
            return queryset
        if target not in CustomField.Target.values:
            raise refuse("target", f"« {target} » n'est pas une cible connue.")
        return queryset.filter(target=target)

    def perform_create(self, serializer):
        data = serializer.validated_data
        with service_errors():
            serializer.instance = services.save_custom_field(
                organization=self.organization,
                actor=self.actor(),
                target=data["target"],
                name=data["name"],
                field_type=data["field_type"],
                choices=data.get("choices", []),
                required=data.get("required", False),
                help_text=data.get("help_text", ""),
                position=data.get("position"),
                sensitive=data.get("sensitive", False),
            )

    def perform_update(self, serializer):
        field, data = serializer.instance, serializer.validated_data
        if data.get("target", field.target) != field.target:
            raise refuse("target", "La cible d'un champ ne change pas : créez un nouveau champ.")
        with service_errors():
            serializer.instance = services.save_custom_field(
                organization=self.organization,
                actor=self.actor(),
                field=field,
                name=data.get("name", field.name),
                field_type=data.get("field_type", field.field_type),
                choices=data.get("choices", field.choices),
                required=data.get("required", field.required),
                help_text=data.get("help_text", field.help_text),
                position=data.get("position", field.position),
                sensitive=data.get("sensitive", field.sensitive),
            )

    @extend_schema(
        responses={
            200: count_body("CustomFieldDeleted", "values", "Valeurs supprimées avec le champ.")
        }
    )
    def destroy(self, request, *args, **kwargs):
        field = self.get_object()
        with service_errors():
            values = services.delete_custom_field(
                organization=self.organization, actor=self.actor(), field=field
            )
        return Response({"values": values})

    @extend_schema(
        request=RenameChoiceSerializer,
        responses={
            200: count_body("ChoiceRenamed", "records", "Fiches dont la valeur a été renommée.")
        },
    )
    @action(detail=True, methods=["post"], url_path="rename-choice", url_name="rename-choice")
    def rename_choice(self, request, pk=None):
        """Rename a choice everywhere it is used: values follow."""
        field = self.get_object()
        serializer = RenameChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                records = services.rename_choice(
                    organization=self.organization,
                    actor=self.actor(),
                    field=field,
                    old=serializer.validated_data["old"],
                    new=serializer.validated_data["new"],
                )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                raise as_api_error(error) from error
            raise ApiValidationError({"old": error.messages}) from error
        return Response({"records": records})


def _member_count(column: str) -> Coalesce:
    """Members of one kind of each group, as a subquery (only the page's groups count)."""
    members = (
        GroupMembership.objects.filter(
            organization_id=OuterRef("organization_id"),
            group_id=OuterRef("pk"),
            **{f"{column}__is_deleted": False},
        )
        .order_by()
        .values("group_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(members), 0)


class GroupViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Static groups of contacts and structures, with one custom value per field."""

    data_type = "segments"
    custom_target = CustomField.Target.GROUP
    action_rights = {"add_members": "change", "remove_members": "change"}
    serializer_class = GroupSerializer
    queryset = Group.objects.none()

    def get_queryset(self):
        return (
            Group.objects.for_org(self.organization)
            .annotate(contacts_count=_member_count("contact"))
            .annotate(structures_count=_member_count("structure"))
            .order_by("name", "pk")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        with service_errors():
            group = services.save_group(
                organization=self.organization,
                actor=self.actor(),
                name=data["name"],
                description=data.get("description", ""),
                custom=data.get("custom"),
                membership=self.membership,
            )
        serializer.instance = self.get_queryset().get(pk=group.pk)

    def perform_update(self, serializer):
        group, data = serializer.instance, serializer.validated_data
        with service_errors():
            services.save_group(
                organization=self.organization,
                actor=self.actor(),
                group=group,
                name=data.get("name", group.name),
                description=data.get("description", group.description),
                custom=data.get("custom"),
                membership=self.membership,
            )
        serializer.instance = self.get_queryset().get(pk=group.pk)

    @extend_schema(
        responses={200: count_body("GroupDeleted", "members", "Membres qu'avait le groupe.")}
    )
    def destroy(self, request, *args, **kwargs):
        group = self.get_object()
        with service_errors():
            members = services.delete_group(
                organization=self.organization, actor=self.actor(), group=group
            )
        return Response({"members": members})

    @extend_schema(responses=GroupMemberSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="members", url_name="members")
    def members(self, request, pk=None):
        """The group's contacts and structures (the trash excluded), oldest first."""
        group = self.get_object()
        rows = (
            GroupMembership.objects.for_org(self.organization)
            .filter(group=group)
            .filter(Q(contact__is_deleted=False) | Q(structure__is_deleted=False))
            .select_related("contact", "structure")
            .order_by("pk")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            GroupMemberSerializer(
                [
                    {
                        "kind": "contact" if row.contact_id else "structure",
                        "id": row.contact_id or row.structure_id,
                        "name": str(row.contact or row.structure),
                        "added_at": row.added_at,
                    }
                    for row in page
                ],
                many=True,
            ).data
        )

    def _member_ids(self) -> tuple[list[int], list[int]]:
        serializer = GroupMembersSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        contacts, structures = (
            serializer.validated_data["contacts"],
            serializer.validated_data["structures"],
        )
        errors = {}
        for field, model, ids in [
            ("contacts", Contact, contacts),
            ("structures", Structure, structures),
        ]:
            found = set(
                model.objects.for_org(self.organization)
                .not_deleted()
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
            missing = sorted(set(ids) - found)
            if missing:
                errors[field] = [
                    "Introuvables dans votre association : "
                    + ", ".join(str(pk) for pk in missing)
                    + "."
                ]
        if errors:
            raise ApiValidationError(errors)
        return contacts, structures

    @extend_schema(
        request=GroupMembersSerializer,
        responses={200: count_body("MembersAdded", "added", "Membres ajoutés.")},
    )
    @members.mapping.post
    def add_members(self, request, pk=None):
        """Add contacts and structures; those already in the group are left alone."""
        group = self.get_object()
        contacts, structures = self._member_ids()
        with service_errors():
            added = services.add_to_group(
                organization=self.organization,
                actor=self.actor(),
                group=group,
                contact_ids=contacts,
                structure_ids=structures,
            )
        return Response({"added": added})

    @extend_schema(
        request=GroupMembersSerializer,
        responses={200: count_body("MembersRemoved", "removed", "Membres retirés.")},
    )
    @action(detail=True, methods=["post"], url_path="members/remove", url_name="members-remove")
    def remove_members(self, request, pk=None):
        group = self.get_object()
        contacts, structures = self._member_ids()
        with service_errors():
            removed = services.remove_from_group(
                organization=self.organization,
                actor=self.actor(),
                group=group,
                contact_ids=contacts,
                structure_ids=structures,
            )
        return Response({"removed": removed})


class HouseholdViewSet(ScopedViewSet, viewsets.ModelViewSet):
    """Households (« foyers »): contacts who share one address."""

    data_type = "contacts"
    action_rights = {"apply_address": "change"}
    serializer_class = HouseholdSerializer
    queryset = Household.objects.none()

    def get_queryset(self):
        return (
            Household.objects.for_org(self.organization)
            .prefetch_related(
                Prefetch(
                    "members",
                    queryset=Contact.objects.for_org(self.organization)
                    .not_deleted()
                    .only("pk", "household_id")
                    .order_by("pk"),
                    to_attr="api_members",
                )
            )
            .order_by("name", "pk")
        )

    def _contacts(self, ids: list[int]) -> list[Contact]:
        contacts = list(Contact.objects.for_org(self.organization).not_deleted().filter(pk__in=ids))
        missing = sorted(set(ids) - {c.pk for c in contacts})
        if missing:
            raise refuse(
                "members",
                "Contacts introuvables dans votre association : "
                + ", ".join(str(pk) for pk in missing)
                + ".",
            )
        return contacts

    def _save(self, household: Household | None, data: dict[str, Any]) -> Household:
        members = data.get("members")
        contacts = self._contacts(members) if members is not None else None
        with service_errors():
            household = services.save_household(
                organization=self.organization,
                actor=self.actor(),
                household=household,
                name=data.get("name", household.name if household else ""),
                address={f: data[f] for f in ADDRESS_FIELDS if f in data},
            )
            if contacts is not None:
                wanted = {c.pk for c in contacts}
                leaving = list(
                    Contact.objects.for_org(self.organization)
                    .filter(household=household)
                    .exclude(pk__in=wanted)
                )
                if leaving:
                    services.set_household(
                        organization=self.organization,
                        actor=self.actor(),
                        contacts=leaving,
                        household=None,
                    )
                joining = [c for c in contacts if c.household_id != household.pk]
                if joining:
                    services.set_household(
                        organization=self.organization,
                        actor=self.actor(),
                        contacts=joining,
                        household=household,
                    )
        return self.get_queryset().get(pk=household.pk)

    def perform_create(self, serializer):
        serializer.instance = self._save(None, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_household(
            organization=self.organization, actor=self.actor(), household=instance
        )

    @extend_schema(
        request=None,
        responses={
            200: count_body("AddressApplied", "contacts", "Contacts dont l'adresse a changé.")
        },
    )
    @action(detail=True, methods=["post"], url_path="apply-address", url_name="apply-address")
    def apply_address(self, request, pk=None):
        """Copy the household's address onto every member."""
        household = self.get_object()
        with service_errors():
            count = services.apply_household_address(
                organization=self.organization, actor=self.actor(), household=household
            )
        return Response({"contacts": count})
