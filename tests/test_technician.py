"""Technician PIN: slow salted hash, constant-time check, persisted lockout that grows."""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys

import pytest

from kiosk.appliance.technician import (
    MESSAGES,
    InvalidPin,
    TechnicianAuth,
    hash_pin,
    is_valid_hash,
    verify_pin,
)

CHEAP = {"n": 2**14}  # the cheapest cost the verifier accepts; keeps the suite fast


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_pin("246810", **CHEAP)


def test_hash_is_self_describing_scrypt_and_checkable_independently(stored):
    scheme, params, salt, key = stored.split("$")
    assert scheme == "scrypt"
    cost = dict(p.split("=") for p in params.split(","))
    assert cost == {"n": str(2**14), "r": "8", "p": "1"}
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    expected = hashlib.scrypt(b"246810", salt=base64.b64decode(pad(salt)), n=2**14, r=8, p=1, dklen=32)
    assert base64.b64decode(pad(key)) == expected


def test_default_cost_is_slow_kdf():
    h = hash_pin("135790")
    assert "n=32768,r=8,p=1" in h
    assert verify_pin("135790", h)


def test_same_pin_gets_different_salts():
    assert hash_pin("111111", **CHEAP) != hash_pin("111111", **CHEAP)


def test_verify_accepts_right_pin_and_refuses_others(stored):
    assert verify_pin("246810", stored)
    assert verify_pin(" 246810\n", stored)  # a pad or a pipe may add whitespace
    for wrong in ("246811", "24681", "", "abcdef", "2468100"):
        assert not verify_pin(wrong, stored)


@pytest.mark.parametrize("bad", ["", "plain-text-pin", "scrypt$n=1024,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                                 "bcrypt$x$y$z", "scrypt$n=16384,r=8,p=1$!!!$???"])
def test_malformed_or_weak_hashes_never_verify(bad):
    assert not is_valid_hash(bad)
    assert not verify_pin("246810", bad)


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "12a456", "", "１２３４５６"])
def test_pin_shape_is_enforced_when_setting(pin):
    with pytest.raises(InvalidPin):
        hash_pin(pin, **CHEAP)


def test_lockout_after_five_failures_then_doubles(tmp_path, stored):
    clock = FakeClock()
    auth = TechnicianAuth(tmp_path, stored, clock=clock)
    for _ in range(4):
        assert not auth.verify("000000")
        assert auth.locked_for() == 0
    assert not auth.verify("000000")
    assert auth.locked_for() == pytest.approx(30)
    # While locked even the right PIN is refused, and the refusal says how long to wait.
    assert not auth.verify("246810")
    assert "1 phút" in auth.message()
    clock.now += 31
    assert not auth.verify("000000")
    assert auth.locked_for() == pytest.approx(60)
    clock.now += 61
    assert not auth.verify("000000")
    assert auth.locked_for() == pytest.approx(120)
    clock.now += 121
    assert auth.verify("246810")
    assert auth.failures == 0 and auth.locked_for() == 0


def test_lockout_survives_restart_and_file_is_private(tmp_path, stored):
    clock = FakeClock()
    auth = TechnicianAuth(tmp_path, stored, clock=clock, max_failures=2)
    for _ in range(2):
        auth.verify("999999")
    state = tmp_path / "technician-lockout.json"
    assert state.stat().st_mode & 0o777 == 0o600
    reborn = TechnicianAuth(tmp_path, stored, clock=clock, max_failures=2)
    assert reborn.locked_for() == pytest.approx(30)
    assert not reborn.verify("246810")


def test_lockout_is_capped_even_if_clock_jumps_back(tmp_path, stored):
    clock = FakeClock()
    auth = TechnicianAuth(tmp_path, stored, clock=clock, max_failures=1, max_lockout=600)
    auth.verify("999999")
    clock.now -= 10 * 86400  # the RTC battery died and the clock restarted in the past
    assert 0 < auth.locked_for() <= 600


def test_damaged_state_fails_closed(tmp_path, stored):
    (tmp_path / "technician-lockout.json").write_text("{not json")
    auth = TechnicianAuth(tmp_path, stored, clock=FakeClock())
    assert auth.locked_for() > 0
    assert not auth.verify("246810")


def test_no_pin_configured_keeps_technician_mode_closed(tmp_path):
    auth = TechnicianAuth(tmp_path, "", clock=FakeClock())
    assert not auth.configured
    assert not auth.verify("123456")
    assert auth.message() == MESSAGES["not_configured"]


def test_hash_command_reads_stdin(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kiosk.appliance.technician", "hash"], input="975310\n",
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert verify_pin("975310", out.stdout.strip())
    bad = subprocess.run([sys.executable, "-m", "kiosk.appliance.technician", "hash"], input="12\n",
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "6 đến 12" in bad.stderr


def test_state_file_holds_no_pin(tmp_path, stored):
    auth = TechnicianAuth(tmp_path, stored, clock=FakeClock())
    auth.verify("864200")
    data = json.loads((tmp_path / "technician-lockout.json").read_text())
    assert set(data) == {"failures", "locked_until"}
    assert "864200" not in (tmp_path / "technician-lockout.json").read_text()
