"""Sign-in for scripts: ask for a token with a username and password, revoke it when done."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .tokens import token_expires_at, token_issue, token_revoke


class TokenObtainApi(APIView):
    """POST /api/token/ {username, password}: the caller's token and when it expires. Failed attempts
    count towards the same lockout as the login page (django-axes): 429 with when to retry."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(source="key")
        expires_at = serializers.SerializerMethodField()

        def get_expires_at(self, token) -> str:
            return token_expires_at(token).isoformat()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, 400: None, 429: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The plain HttpRequest: django-axes reads the client's address from it and marks a locked-out
        # attempt on it, which its middleware turns into the 429 answer.
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            return Response(
                {"detail": "Unable to sign in with that username and password."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(self.OutputSerializer(token_issue(user=user)).data)


class TokenRevokeApi(APIView):
    """POST /api/token/revoke/: the caller's token stops working at once (204)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
