"""Errors a user can fix by changing their input, told apart from bugs."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (a path, a column name, a parameter).

    The message is one line that says what is wrong and how to fix it, so the
    CLI can print it without a traceback and a trial can record it as is.
    Anything else that escapes is a bug in harness (or in a plugged-in model).
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
