"""API tokens that expire and can be revoked.

DRF's token never expires: a token copied once into a script worked for ever. Here a token lives
API_TOKEN_LIFETIME from its creation (default one working day, 8 h), after which it is refused and a new
one must be asked for with the password; `POST /api/token/revoke/` ends it at once.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expires_at(token: Token) -> datetime:
    return token.created + settings.API_TOKEN_LIFETIME


def token_expired(token: Token) -> bool:
    return timezone.now() >= token_expires_at(token)


@transaction.atomic
def token_issue(*, user) -> Token:
    """The user's live token, or a new one when there is none or it has expired."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


@transaction.atomic
def token_revoke(*, user) -> int:
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed("This token has expired; ask for a new one at /api/token/.")
        return user, token
