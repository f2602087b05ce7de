"""One error base and one DRF exception handler: every refusal a service raises reaches the client with
its own status and a readable `detail`."""

from django.conf import settings

from annotations.services import StaleRevision
from cases.services import SplitLocked
from cases.validation import ImportRejected
from inference.errors import TrainingInProgress
from osteoscreen.errors import DomainError
from osteoscreen.exceptions import domain_exception_handler


def test_the_api_has_one_exception_handler():
    assert settings.REST_FRAMEWORK["EXCEPTION_HANDLER"] == "osteoscreen.exceptions.domain_exception_handler"


def test_every_domain_error_answers_with_its_status_and_message():
    for error, status in (
        (ImportRejected("row 2: no date"), 400),
        (SplitLocked("split v1 is locked"), 409),
        (StaleRevision("stale base"), 409),
        (TrainingInProgress("training"), 409),
    ):
        assert isinstance(error, DomainError)
        response = domain_exception_handler(error, {})
        assert response is not None
        assert (response.status_code, response.data) == (status, {"detail": error.message})


def test_other_errors_are_left_to_drf():
    assert domain_exception_handler(RuntimeError("a bug"), {}) is None
