"""The one base of errors a user can cause: each carries the HTTP status its API answers with, and is
raised before anything is written (or inside the transaction that undoes it)."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
