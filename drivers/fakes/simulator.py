"""What stands in, in a demo or a training session, for what happens outside the kiosk: the citizen holding
the VNeID app's code (or the ID card's front QR) up to the reader, putting papers in the feeder, laying a chip
card on the reader, approving the kiosk's login QR in the VNeID app, reading the one-time code on their phone.
The screens' "Mô phỏng" buttons go through this one object.

Only fake devices provide one: `simulator_for(...)` returns None as soon as the device a hook needs is real,
so a kiosk with real devices shows no "Mô phỏng" button and has no way to fake a citizen's action. The phone's
side (`text_message`, `approve_login`) is given by the composition root only when the portal is a sandbox.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Callable

#: The sandbox portal's test citizen (see docs/sandbox.md).
TEST_VNEID_CODE = "VNEID-TEST-0001"
#: The sandbox's test clerk's own VNeID code (registered as staff CB-0001; docs/sandbox.md).
TEST_STAFF_VNEID_CODE = "VNEID-STAFF-0001"
#: The demo chip card's front QR (drivers.fakes.chip: its BAC keys open the demo card).
from drivers.fakes.chip import DEMO_ID_CARD_QR  # noqa: E402


def _fake(device: Any) -> bool:
    return device is not None and getattr(device, "driver", "") == "fake"


class Simulator:
    """Hooks for the demo. `text_message(otp_id)` is given by whoever knows the portal is a sandbox."""

    def __init__(self, *, reader: Any = None, scanner: Any = None, chip_reader: Any = None,
                 text_message: Callable[[str], str | None] | None = None,
                 approve_login: Callable[[str], Any] | None = None) -> None:
        self._reader = reader if _fake(reader) else None
        self._scanner = scanner if _fake(scanner) else None
        self._chip = chip_reader if _fake(chip_reader) else None
        self._text_message = text_message
        self._approve_login = approve_login

    # what the screens ask before showing a button
    @property
    def can_show_code(self) -> bool:
        return self._reader is not None

    @property
    def can_feed_papers(self) -> bool:
        return self._scanner is not None

    @property
    def can_present_card(self) -> bool:
        return self._chip is not None

    @property
    def can_read_text_message(self) -> bool:
        return self._text_message is not None

    @property
    def can_approve_login(self) -> bool:
        return self._approve_login is not None

    # the citizen's actions
    def show_code(self, text: str = TEST_VNEID_CODE) -> None:
        """As if the citizen held a code (by default the sandbox's test VNeID code) up to the reader."""
        if self._reader is not None:
            self._reader.present(text)

    def show_id_card(self) -> None:
        """As if the citizen held the demo chip card's front (its QR) up to the reader."""
        self.show_code(DEMO_ID_CARD_QR)

    def show_staff_code(self) -> None:
        """As if the clerk held their own VNeID app's code up to the reader (the sandbox's test clerk)."""
        self.show_code(TEST_STAFF_VNEID_CODE)

    def approve_login(self, user_code: str) -> bool:
        """As if the citizen scanned the kiosk's login QR (`user_code`) with VNeID and tapped "Đồng ý".
        False when it could not be done (no sandbox, or the QR is no longer pending)."""
        if self._approve_login is None or not user_code:
            return False
        try:
            self._approve_login(user_code)
        except Exception:  # noqa: BLE001 - a demo hook never breaks a session
            return False
        return True

    def feed_papers(self, sheets: int = 2) -> None:
        """As if the citizen put `sheets` sheets in the feeder."""
        if self._scanner is not None:
            self._scanner.load(sheets)

    def present_card(self) -> None:
        """As if the citizen laid the demo chip ID card on the reader."""
        if self._chip is not None:
            self._chip.present()

    def text_message(self, otp_id: str) -> str | None:
        """The one-time code the citizen would read on their phone, or None when there is no way to know it."""
        if self._text_message is None:
            return None
        try:
            return self._text_message(otp_id)
        except Exception:  # noqa: BLE001 - a demo hook never breaks a session
            return None


def simulator_for(*, reader: Any = None, scanner: Any = None, chip_reader: Any = None,
                  text_message: Callable[[str], str | None] | None = None,
                  approve_login: Callable[[str], Any] | None = None) -> Simulator | None:
    """A simulator when at least one of the devices is a fake, else None (a real kiosk)."""
    sim = Simulator(reader=reader, scanner=scanner, chip_reader=chip_reader, text_message=text_message,
                    approve_login=approve_login)
    if not (sim.can_show_code or sim.can_feed_papers or sim.can_present_card):
        return None
    return sim
