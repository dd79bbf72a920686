"""API views: thin wrappers over the same services and rights as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from lien.api.serializers import InvitationSerializer, MeSerializer, UserSerializer
from lien.core import services
from lien.core.audit import Actor
from lien.core.models import Invitation, Membership
from lien.core.rights import rights_table


def as_api_error(error: ValidationError) -> ApiValidationError:
    if hasattr(error, "error_dict"):
        return ApiValidationError(
            {k: [m for e in v for m in e.messages] for k, v in error.error_dict.items()}
        )
    return ApiValidationError({"detail": error.messages})


class OrganizationScoped:
    """Every queryset is narrowed to the caller's organisation: other rows are 404."""

    @property
    def organization(self):
        return self.request._request.organization

    @property
    def membership(self):
        return self.request._request.membership

    def actor(self) -> Actor:
        return Actor.for_user(self.request.user, via_api=True)


class MeView(OrganizationScoped, APIView):
    """Who the caller is, in which organisation, with which rights."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        membership = self.membership
        data = {
            "user": request.user,
            "organization": membership.organization,
            "profile": membership.profile,
            "rights": rights_table(membership),
        }
        return Response(MeSerializer(data).data)


class UserViewSet(
    OrganizationScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The organisation's members. Deleting deactivates: history stays attached."""

    data_type = "users"
    lookup_value_regex = r"[0-9]+"
    serializer_class = UserSerializer
    queryset = Membership.objects.none()  # typed for the schema; get_queryset narrows
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            Membership.objects.for_org(self.organization)
            .select_related("user", "profile")
            .order_by("user__full_name", "pk")
        )

    def perform_update(self, serializer):
        try:
            services.change_membership(
                organization=self.organization,
                actor=self.actor(),
                membership=serializer.instance,
                profile=serializer.validated_data.get("profile"),
                is_active=serializer.validated_data.get("is_active"),
            )
        except ValidationError as error:
            raise as_api_error(error) from error

    def perform_destroy(self, instance):
        try:
            services.change_membership(
                organization=self.organization,
                actor=self.actor(),
                membership=instance,
                is_active=False,
            )
        except ValidationError as error:
            raise as_api_error(error) from error


class InvitationViewSet(
    OrganizationScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invite people by email; the link is emailed and valid 7 days."""

    data_type = "users"
    lookup_value_regex = r"[0-9]+"
    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()  # typed for the schema; get_queryset narrows

    def get_queryset(self):
        return Invitation.objects.for_org(self.organization).select_related("profile")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            invitation = services.invite_user(
                organization=self.organization,
                actor=self.actor(),
                email=serializer.validated_data["email"],
                profile=serializer.validated_data["profile"],
            )
        except ValidationError as error:
            raise as_api_error(error) from error
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.revoke_invitation(
            organization=self.organization, actor=self.actor(), invitation=instance
        )
