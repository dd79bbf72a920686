"""Token authentication against hashed ApiToken rows: `Authorization: Token <key>`."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from lien.core.models import ApiToken, Membership
from lien.core.services import hash_token_key


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide.")
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("Jeton invalide.") from error
        token = (
            ApiToken.objects.select_related("user", "organization")
            .filter(key_hash=hash_token_key(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Jeton invalide ou révoqué.")
        membership = (
            Membership.objects.select_related("organization", "profile")
            .filter(organization=token.organization, user=token.user, is_active=True)
            .first()
        )
        if membership is None:
            raise exceptions.AuthenticationFailed(
                "Ce jeton n'est plus valable : son utilisateur n'est plus membre."
            )
        # The token decides the organisation, whatever the session says.
        request._request.organization = membership.organization
        request._request.membership = membership
        request._request.api_token = token
        if not token.last_used_at or (timezone.now() - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "lien.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Jeton préfixé par « Token », par exemple `Token lien_…`.",
        }
