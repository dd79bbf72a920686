from __future__ import annotations

from rest_framework import serializers

from lien.core.models import Invitation, Membership, Organization, Profile


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "city", "country"]


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = [
            "id",
            "name",
            "description",
            "rights",
            "hide_payment_data",
            "hide_sensitive_fields",
        ]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    organization = OrganizationSerializer()
    profile = ProfileSerializer()
    rights = serializers.DictField(
        child=serializers.DictField(child=serializers.BooleanField()),
        help_text="Pour chaque type de données, les actions permises.",
    )


class UserSerializer(serializers.ModelSerializer):
    """A member of the organisation as the API shows it."""

    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    user_id = serializers.IntegerField(source="user.id", read_only=True)
    profile = serializers.PrimaryKeyRelatedField(queryset=Profile.objects.none())
    profile_name = serializers.CharField(source="profile.name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user_id",
            "email",
            "full_name",
            "profile",
            "profile_name",
            "is_active",
            "joined_at",
        ]
        read_only_fields = ["joined_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request._request, "organization", None):
            self.fields["profile"].queryset = Profile.objects.for_org(request._request.organization)


class InvitationSerializer(serializers.ModelSerializer):
    profile = serializers.PrimaryKeyRelatedField(queryset=Profile.objects.none())
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "profile", "status", "created_at", "email_sent_at"]
        read_only_fields = ["created_at", "email_sent_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request._request, "organization", None):
            self.fields["profile"].queryset = Profile.objects.for_org(request._request.organization)
