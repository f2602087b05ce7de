"""Errors a user can cause in the models app, each with the HTTP status its API answers with."""

from osteoscreen.errors import DomainError


class ModelsError(DomainError):
    """A refused request; nothing was written."""


class InvalidRequest(ModelsError):
    status_code = 400


class NotAllowed(ModelsError):
    status_code = 403


class TrainingInProgress(ModelsError):
    """A family trains one version at a time."""

    status_code = 409


class WrongStatus(ModelsError):
    status_code = 409


class NoActiveModel(ModelsError):
    """The deployed path needs an active version of a family and there is none."""

    status_code = 409


class ModelFileCorrupt(ModelsError):
    """A stored model file is missing or no longer matches the SHA-256 recorded when it was written."""

    status_code = 409
