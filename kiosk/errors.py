"""The kiosk's one exception tree (drivers have their own, `drivers.base.DeviceError`, which the kiosk never
needs to subclass).

    KioskError                      code: a stable machine name for logs, outbox state and citizen messages
    ├── PortalError                 kiosk.portal: every failure talking to the portal (retryable or not)
    ├── OutboxError                 kiosk.outbox: the dossier could not be saved or read locally
    ├── UnknownEvent                kiosk.session: an event name no state knows (a screen bug)
    └── InputRejected               any input from outside over its limits or of the wrong shape

`kiosk.messages.for_exception` maps these by `isinstance` (and `code`) to Vietnamese text; an error's own text
is technical and never shown to a citizen, and must not quote personal data.
"""
from __future__ import annotations


class KioskError(Exception):
    """Base of every failure the kiosk raises on purpose. `code` is stable; `detail` is for technicians."""

    code: str = "kiosk_error"

    def __init__(self, detail: str = "", *, code: str | None = None) -> None:
        self.code = code or type(self).code
        self.detail = detail or self.code
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class UnknownEvent(KioskError):
    """`Session.send` got an event name that is not in `kiosk.session.events.Event`."""

    code = "unknown_event"


class InputRejected(KioskError):
    """Input from outside (a code, a card, a portal answer, a settings push, a form pattern) over its length
    limit, of the wrong shape, or too costly to check."""

    code = "input_rejected"
