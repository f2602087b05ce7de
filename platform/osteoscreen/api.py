"""What every API answers besides its own body, described once for the OpenAPI schema.

Apps import these in their `extend_schema` declarations; this module imports nothing of ours, so any app
may use it (like osteoscreen.errors and osteoscreen.parsing).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOutputSerializer(serializers.Serializer):
    """A refusal the user can act on: the message says what was wrong."""

    detail = serializers.CharField()


# A 400 is either {"detail": "..."} or DRF's field errors ({"field": ["message", ...]}), so it is an object.
BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The input was refused: `detail` or one list of messages per field says why.",
)
REFUSED = OpenApiResponse(ErrorOutputSerializer, description="Refused; `detail` says why.")
BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="Binary content (application/octet-stream).")
NO_CONTENT = OpenApiResponse(description="Nothing there yet.")
