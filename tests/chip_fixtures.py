"""Fixtures for the chip-card tests: the REAL pcscd with Debian's vsmartcard-vpcd driver, plus our virtual CCCD.

`pcscd_vpcd` makes sure the packages are installed (apt-get as root when missing), that pcscd runs (it starts
the `pcscd` daemon when none is running and leaves it running, as the system service would) and that the
"Virtual PCD" reader is listed. `vpcd_slot` holds the virtual slot for the session (a lock file queues parallel
sessions). Nothing is skipped: when pcscd cannot be made to work the test FAILS with the reason. Import the
fixtures into a test module with `from tests.chip_fixtures import *  # noqa: F401,F403`.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from tests.vcard import TestPki, VirtualCccd, VpcdCard, build_card_files, default_profile
from tests.vcard.personalise import CardProfile

APT_PACKAGES = ["pcscd", "vsmartcard-vpcd", "libpcsclite-dev", "swig"]
VPCD_DRIVER = pathlib.Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_CONF = pathlib.Path("/etc/reader.conf.d/vpcd")
READER = "Virtual PCD 00 00"  # slot 0 of vpcd = TCP port 35963
VPCD_PORT = 35963
POLL_GAP = 0.5
LOCK_FILE = "/tmp/dvc-kiosk-vpcd-slot0.lock"

__all__ = ["READER", "VPCD_PORT", "chip_pki", "chip_other_pki", "csca_bundle", "pcscd_vpcd", "chip_reader",
           "insert_card", "card_keys", "vpcd_slot", "empty_slot"]


def _installed() -> bool:
    return bool(shutil.which("pcscd")) and (VPCD_DRIVER.exists() or VPCD_DRIVER.with_suffix(".so.0.8").exists())


def _install() -> None:
    if _installed():
        return
    if os.geteuid() != 0:
        pytest.fail("pcscd/vsmartcard-vpcd missing and not root: "
                    f"run `sudo apt-get install -y {' '.join(APT_PACKAGES)}`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES],
                       env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or not _installed():
        pytest.fail(f"could not install {APT_PACKAGES}: {r.stderr[-800:]}")


def _vpcd_listed() -> tuple[bool, str]:
    from smartcard import scard
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != 0:
        return False, scard.SCardGetErrorMessage(hresult)
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        if hresult != 0:
            return False, scard.SCardGetErrorMessage(hresult)
        return any(r.startswith(READER) for r in readers), f"readers: {readers}"
    finally:
        scard.SCardReleaseContext(ctx)


def _start_pcscd(log: pathlib.Path) -> None:
    """Start pcscd as a daemon, like the system service would. It is left running after the tests: other test
    sessions (CI shards, colleagues) may be using it, and a kiosk runs it permanently anyway."""
    with open(log, "ab") as out:
        r = subprocess.run(["pcscd", "--info"], stdout=out, stderr=subprocess.STDOUT, timeout=10)
    if r.returncode != 0:
        # "Another pcscd seems to be running" also lands here when a parallel session won the race
        pass


@pytest.fixture(scope="session")
def pcscd_vpcd(tmp_path_factory):
    _install()
    if not VPCD_CONF.exists():
        pytest.fail(f"{VPCD_CONF} is missing: reinstall vsmartcard-vpcd")
    ok, why = _vpcd_listed()
    if not ok:
        if os.geteuid() != 0:
            pytest.fail(f"pcscd is not running ({why}) and the tests are not root: start it with `sudo pcscd`")
        log = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
        _start_pcscd(log)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            ok, why = _vpcd_listed()
            if ok:
                break
            time.sleep(0.1)
        if not ok:
            pytest.fail(f"pcscd did not come up with the vpcd reader ({why}); log:\n{log.read_text()[-1500:]}")
    return READER


class _Slot:
    """vpcd slot 0 for this test session: one connection kept open, whose card is swapped between tests
    (a removal costs a pcscd poll of 400 ms or more; a swap costs nothing)."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.conn: VpcdCard | None = None
        self.closed_at = 0.0

    def connect(self, card: VirtualCccd, **faults) -> VpcdCard:
        # pcscd polls vpcd every 400 ms; a card that connects before the poll after a removal is taken for
        # the same card (no "inserted" event, stays unpowered). Leave one poll without any card.
        time.sleep(max(0.0, self.closed_at + POLL_GAP - time.monotonic()))
        conn = VpcdCard(card, port=VPCD_PORT, **faults).insert()
        if not _wait_state(self.reader, "present", 5):
            conn.close()
            pytest.fail("pcscd did not see the virtual card within 5 s")
        return conn

    def put(self, card: VirtualCccd) -> VpcdCard:
        if self.conn is None or self.conn.error is not None or self.conn._sock is None:
            self.empty()
            self.conn = self.connect(card)
        self.conn.card = card
        return self.conn

    def empty(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
            self.closed_at = time.monotonic()
        if not _wait_state(self.reader, "empty", 5):
            pytest.fail("vpcd slot 0 still shows a card: another process holds the virtual reader?")


_HELD: dict = {"count": 0, "file": None, "slot": None}


@pytest.fixture(scope="module")
def vpcd_slot(pcscd_vpcd):
    """Exclusive use of vpcd slot 0 while a chip test module runs. Parallel pytest sessions share one pcscd:
    they queue on a lock file. Re-entrant inside one process (each test module imports its own copy of these
    fixtures, so pytest sees several `vpcd_slot` definitions)."""
    if _HELD["count"] == 0:
        f = open(LOCK_FILE, "w")
        fcntl.flock(f, fcntl.LOCK_EX)
        _HELD.update(file=f, slot=_Slot(pcscd_vpcd))
        _HELD["slot"].empty()
    _HELD["count"] += 1
    try:
        yield _HELD["slot"]
    finally:
        _HELD["count"] -= 1
        if _HELD["count"] == 0:
            slot, f = _HELD["slot"], _HELD["file"]
            try:
                slot.empty()
                time.sleep(max(0.0, slot.closed_at + POLL_GAP - time.monotonic()))
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
                f.close()
                _HELD.update(file=None, slot=None)


@pytest.fixture
def empty_slot(vpcd_slot):
    """No card on the reader."""
    vpcd_slot.empty()
    return vpcd_slot


def _wait_state(reader: str, want: str, timeout: float) -> bool:
    from smartcard import scard
    flag = scard.SCARD_STATE_EMPTY if want == "empty" else scard.SCARD_STATE_PRESENT
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
            if hresult == 0:
                st = states[0][1]
                if st & flag and not (want == "present" and st & scard.SCARD_STATE_MUTE):
                    return True
            time.sleep(0.02)
        return False
    finally:
        scard.SCardReleaseContext(ctx)


@pytest.fixture(scope="session")
def chip_pki() -> TestPki:
    return TestPki.generate()


@pytest.fixture(scope="session")
def chip_other_pki() -> TestPki:
    """A CSCA the kiosk does not trust (a forged chip signed by someone else)."""
    return TestPki.generate("CSCA Unknown")


@pytest.fixture(scope="session")
def csca_bundle(tmp_path_factory, chip_pki) -> pathlib.Path:
    d = tmp_path_factory.mktemp("csca")
    (d / "csca-test.pem").write_bytes(chip_pki.csca_pem())
    return d


@pytest.fixture
def chip_reader(vpcd_slot, csca_bundle):
    from drivers.pcsc_reader import PcscChipReader
    r = PcscChipReader(vpcd_slot.reader, csca=csca_bundle, call_timeout=3.0)
    yield r
    r.close()


def card_keys(profile: CardProfile):
    from drivers.chip import BacKeys
    return BacKeys.from_mrz(profile.mrz())


@pytest.fixture
def insert_card(vpcd_slot, chip_pki):
    """insert_card(profile=None, variant="good", pki=None, remove_after=None, hang_after=None) -> VpcdCard,
    already seen as present by pcscd. Plain cards are swapped in on the session's connection; a card with a
    fault gets a connection of its own, closed (and seen gone) at teardown."""
    own: list[VpcdCard] = []

    def insert(profile: CardProfile | None = None, *, variant: str = "good", pki: TestPki | None = None,
               remove_after: int | None = None, hang_after: int | None = None) -> VpcdCard:
        profile = profile or default_profile()
        files = build_card_files(profile, pki or chip_pki, variant=variant)
        card = VirtualCccd(files, (profile.mrz_document_number, profile.birth_date.strftime("%y%m%d"),
                                   profile.mrz_expiry))
        if remove_after is None and hang_after is None:
            return vpcd_slot.put(card)
        vpcd_slot.empty()
        conn = vpcd_slot.connect(card, remove_after=remove_after, hang_after=hang_after)
        own.append(conn)
        return conn

    yield insert
    if own:
        for conn in own:
            conn.close()
        vpcd_slot.closed_at = time.monotonic()
        vpcd_slot.empty()


def profile(**changes) -> CardProfile:
    return dataclasses.replace(default_profile(), **changes)
