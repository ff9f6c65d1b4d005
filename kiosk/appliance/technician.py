"""Technician mode: the PIN that opens the hidden service screen, and its lockout.

A kiosk stands in a public hall for years, so the PIN is stored only as a slow, salted hash (scrypt), in a
self-describing string that carries its own cost parameters (`scrypt$n=32768,r=8,p=1$<salt>$<key>`, base64
without padding) so the cost can be raised later without breaking kiosks already in the field. Checking is
constant-time. Repeated wrong PINs lock the pad for a delay that doubles with every further failure; the
count survives restarts (a JSON file in data_dir), so pulling the plug does not reset it.

    hash_pin(pin) -> str                 for provisioning (`python -m kiosk.appliance.technician hash` reads stdin)
    verify_pin(pin, stored) -> bool      a bare check, no lockout
    TechnicianAuth(data_dir, pin_hash)   .verify(pin) -> bool, .locked_for() -> float, .failures
    MESSAGES                             kind -> Vietnamese text for the PIN pad
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import unicodedata
from pathlib import Path
from collections.abc import Callable

log = logging.getLogger("kiosk.appliance.technician")

SCHEME = "scrypt"
# 32 MiB and about 0.1 s per check on a Raspberry Pi 4 class CPU: slow for a guesser, instant for a technician.
DEFAULT_COST = {"n": 2**15, "r": 8, "p": 1}
_MAXMEM = 256 * 1024 * 1024
_SALT_BYTES = 16
_KEY_BYTES = 32
PIN_PATTERN = re.compile(r"^[0-9]{6,12}$")
STATE_FILE = "technician-lockout.json"

MAX_FAILURES = 5  # wrong PINs allowed before the pad locks
BASE_LOCKOUT = 30.0  # seconds of the first lockout; each further wrong PIN doubles it
MAX_LOCKOUT = 3600.0

MESSAGES: dict[str, str] = {
    "wrong_pin": "Mã PIN không đúng. Vui lòng nhập lại.",
    "locked": "Nhập sai quá nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại, "
              "hoặc liên hệ bộ phận kỹ thuật của tỉnh.",
    "not_configured": "Máy chưa được đặt mã PIN kỹ thuật. Vui lòng chạy lại «kiosk provision» để đặt mã.",
    "invalid_pin": "Mã PIN gồm 6 đến 12 chữ số.",
}
MESSAGES = {k: unicodedata.normalize("NFC", v) for k, v in MESSAGES.items()}


class InvalidPin(ValueError):
    """The PIN does not have the required shape (6-12 digits)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES)


def check_pin_shape(pin: str) -> str:
    """The PIN as it will be hashed (surrounding spaces dropped); raises InvalidPin when it is not 6-12 digits."""
    text = pin.strip() if isinstance(pin, str) else ""
    if not PIN_PATTERN.fullmatch(text):
        raise InvalidPin(MESSAGES["invalid_pin"])
    return text


def hash_pin(pin: str, *, n: int = DEFAULT_COST["n"], r: int = DEFAULT_COST["r"], p: int = DEFAULT_COST["p"]) -> str:
    """A new salted scrypt hash of `pin`, as a self-describing string for kiosk.technician_pin_hash."""
    text = check_pin_shape(pin)
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(text, salt, n, r, p)
    return f"{SCHEME}$n={n},r={r},p={p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        scheme, params, salt_text, key_text = stored.split("$")
        if scheme != SCHEME:
            return None
        cost = dict(part.split("=", 1) for part in params.split(","))
        n, r, p = int(cost["n"]), int(cost["r"]), int(cost["p"])
        salt, key = _unb64(salt_text), _unb64(key_text)
    except (ValueError, KeyError, AttributeError):
        return None
    # Refuse parameters that are weak or would exhaust memory: the string may come from an edited config file.
    if n < 2**14 or n > 2**20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or len(key) < 16 or len(salt) < 8:
        return None
    return n, r, p, salt, key


def is_valid_hash(stored: str) -> bool:
    """Whether `stored` is a hash this module can check (for provisioning and `kiosk doctor`)."""
    return isinstance(stored, str) and _parse(stored) is not None


def verify_pin(pin: str, stored: str) -> bool:
    """Whether `pin` matches `stored`. Constant-time in the key comparison; a malformed PIN or hash is False."""
    parsed = _parse(stored) if isinstance(stored, str) else None
    text = pin.strip() if isinstance(pin, str) else ""
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    # A PIN of the wrong shape still pays the full derivation, so timing does not tell shapes apart.
    candidate = _derive(text if PIN_PATTERN.fullmatch(text) else "\0" + text, salt, n, r, p)
    return hmac.compare_digest(candidate, key) and PIN_PATTERN.fullmatch(text) is not None


class TechnicianAuth:
    """The PIN pad's gatekeeper: checks PINs against the configured hash and enforces a persisted lockout."""

    def __init__(self, data_dir: Path | str, pin_hash: str, *, max_failures: int = MAX_FAILURES,
                 base_lockout: float = BASE_LOCKOUT, max_lockout: float = MAX_LOCKOUT,
                 clock: Callable[[], float] = time.time) -> None:
        self.pin_hash = pin_hash
        self.state_path = Path(data_dir) / STATE_FILE
        self.max_failures, self.base_lockout, self.max_lockout = max_failures, base_lockout, max_lockout
        self._clock = clock
        self._lock = threading.Lock()
        self.failures, self._locked_until = self._load()

    @property
    def configured(self) -> bool:
        """False when no usable PIN hash is set: technician mode stays closed (and says why)."""
        return is_valid_hash(self.pin_hash)

    def locked_for(self) -> float:
        """Seconds until the next PIN may be tried (0.0 when it may be tried now)."""
        remaining = self._locked_until - self._clock()
        # A clock set backwards must not lock the pad for longer than the longest lockout.
        return max(0.0, min(remaining, self.max_lockout))

    def verify(self, pin: str) -> bool:
        """Check a PIN typed on the pad. While locked, nothing is checked and False is returned."""
        with self._lock:
            if self.locked_for() > 0:
                return False
            if not self.configured:
                log.warning("technician PIN tried but no PIN hash is configured")
                return False
            if verify_pin(pin, self.pin_hash):
                if self.failures:
                    log.info("technician PIN accepted after %d failures", self.failures)
                self.failures, self._locked_until = 0, 0.0
                self._save()
                return True
            self.failures += 1
            if self.failures >= self.max_failures:
                delay = min(self.max_lockout, self.base_lockout * 2 ** (self.failures - self.max_failures))
                self._locked_until = self._clock() + delay
                log.warning("technician PIN pad locked for %.0f s after %d wrong PINs", delay, self.failures)
            else:
                log.info("wrong technician PIN (%d of %d)", self.failures, self.max_failures)
            self._save()
            return False

    def message(self) -> str:
        """What the PIN pad should show after a refusal (Vietnamese, with the next step)."""
        if not self.configured:
            return MESSAGES["not_configured"]
        wait = self.locked_for()
        if wait > 0:
            return MESSAGES["locked"].format(minutes=max(1, int((wait + 59) // 60)))
        return MESSAGES["wrong_pin"]

    # ------------------------------------------------------------------------------------ persistence
    def _load(self) -> tuple[int, float]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return max(0, int(data["failures"])), float(data["locked_until"])
        except FileNotFoundError:
            return 0, 0.0
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged file must fail closed: treat it as a fresh lockout rather than a fresh start.
            log.warning("technician lockout state unreadable; locking the pad as a precaution")
            return self.max_failures, self._clock() + self.base_lockout

    def _save(self) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        data = json.dumps({"failures": self.failures, "locked_until": self._locked_until})
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
        except OSError as e:
            log.error("cannot save the technician lockout state: %s", e.strerror or e)


def read_pin_from(stream, *, prompt: str = "") -> str:
    """A PIN from a terminal (hidden) or, for scripts and tests, one line of a pipe."""
    if stream.isatty():
        import getpass

        return getpass.getpass(prompt)
    if prompt:
        sys.stderr.write(prompt)
    return stream.readline().strip()


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.appliance.technician hash`: read a PIN on stdin, print its hash for
    kiosk.technician_pin_hash."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m kiosk.appliance.technician hash   (reads the PIN from stdin)", file=sys.stderr)
        return 2
    try:
        print(hash_pin(read_pin_from(sys.stdin, prompt="PIN kỹ thuật (6-12 chữ số): ")))
    except InvalidPin as e:
        print(f"kiosk.appliance.technician: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["hash_pin", "verify_pin", "is_valid_hash", "check_pin_shape", "InvalidPin", "TechnicianAuth", "MESSAGES",
           "read_pin_from"]
