"""The login step's doors beside "show the VNeID app's code to the camera" (issue 11). Plain Python, no Kivy.

* ``qr_shown``  — "Tôi có điện thoại có VNeID": the kiosk shows a QR (OpenID Connect device grant, see
  kiosk.portal.oidc for why), the VNeID app scans it, the citizen approves; the QR renews before it expires;
  states waiting / approved / denied / expired; cancel and the inactivity timer work throughout (waiting for the
  phone is not "busy": a citizen who walks away is wiped).
* ``chip``      — "Tôi có thẻ căn cước gắn chip": the citizen shows the card's front QR (BAC keys) or types the
  MRZ, puts the card on the reader; passive authentication must pass. Chip data is identity, not a login
  (kiosk.portal.identity): a clerk then signs in with their staff PIN and the dossier goes the assisted way.
* ``assisted``  — "Tôi cần cán bộ hỗ trợ": the clerk signs in first (staff PIN, or their own VNeID app's code
  to the camera: a VNeID code read at the clerk's step signs the clerk in, never the citizen), then the citizen's
  chip is read (or, when the chip cannot be read, the card's QR alone: ``qr_only``).

`handle(session, event, payload)` is called first by `Session._on_login`; it returns True when it consumed the
event. Everything lives in `session.data.login` (a `DoorState`), which the session's wipe drops: the chip
photo and data groups go with it. Nothing personal is logged.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from kiosk.messages import UserMessage
from kiosk.messages import identity as idmsg

log = logging.getLogger("kiosk.session.login")

DOORS = ("app_code", "qr_shown", "chip", "assisted")
CHIP_WAIT_SECONDS = 30.0   # for the card to be put down
CHIP_READ_SECONDS = 15.0   # the read itself (BAC, DG1, DG13, DG2, SOD)


@dataclasses.dataclass
class DoorState:
    door: str = ""                 # "" = the choice of doors
    gen: int = 0                   # bumps when the door changes: late results of the old door are dropped
    qr: Any = None                 # kiosk.portal.oidc.QrLogin on screen
    qr_state: str = ""             # waiting | approved | denied | expired
    qr_renewals: int = 0
    chip: Any = None               # drivers.chip.ChipIdentity (after passive authentication)
    chip_keys: Any = None          # drivers.chip.BacKeys (from the card's QR or MRZ)
    id_card: dict | None = None    # the card's front QR fields (for qr_only and prefill)
    chip_seconds: float | None = None
    chip_blocked: bool = False     # the card failed passive authentication: never trusted
    staff: Any = None              # kiosk.portal.identity.StaffLoginResponse
    identity_source: str = ""      # vneid | chip_pa | qr_only
    step: str = ""                 # what the screen asks for now: qr | id_qr | card | staff_pin | choose_qr_only

    def __repr__(self) -> str:
        return f"DoorState(door={self.door!r}, step={self.step!r}, qr_state={self.qr_state!r})"


def state(session) -> DoorState:
    if session.data.login is None:
        session.data.login = DoorState()
    return session.data.login


def leave(session) -> None:
    """Leaving the login step (or wiping): stop the QR's polling by moving the generation on."""
    if session.data.login is not None:
        session.data.login.gen += 1


# ------------------------------------------------------------------ services
def _oidc(session):
    qr = getattr(session.services, "vneid_qr", None)
    if qr is None:
        qr = getattr(session, "_vneid_qr", None)
    if qr is None:
        from kiosk.portal.oidc import VneidQrLogin, issuer_for

        qr = session._vneid_qr = VneidQrLogin(issuer_for(session.services.config.portal.url), clock=session.clock)
    return qr


def _sleep(session):
    return getattr(session.services, "sleep", None) or time.sleep


def _job(session, fn, ok: str, failed: str, **kw) -> None:
    session._job(fn, ok, failed, gen=state(session).gen, **kw)


# ------------------------------------------------------------------ events
def handle(session, event: str, p: dict) -> bool:
    st = state(session)
    if event.startswith("_") and "gen" in p:
        if p.pop("gen") != st.gen:
            log.debug("dropped %s of an earlier login door", event)
            return True
    if event == "login_door":
        door = str(p.get("door", ""))
        if door not in DOORS and door != "":
            return True
        st.gen += 1
        st.door, st.step, st.qr, st.qr_state, st.chip_blocked = door, "", None, "", False
        session.data.error, session.data.busy = None, ""
        if door == "qr_shown":
            _new_qr(session)
        elif door == "chip":
            st.step = "id_qr"
        elif door == "assisted":
            st.step = "staff_pin"
        return True
    if event == "_qr_ready":
        st.qr, st.qr_state, st.step = p["result"], "waiting", "qr"
        session.data.busy = ""
        _poll(session)
        return True
    if event == "_qr_polled":
        approved = p["result"]
        if approved is None:
            if st.qr is not None and st.qr.renew_due(session.clock()):
                st.qr_renewals += 1
                _new_qr(session)  # the QR renews before it expires
            else:
                _poll(session)
            return True
        st.qr_state = "approved"
        from kiosk.portal.oidc import login_with_id_token

        portal, token = session.services.portal, approved.id_token
        st.identity_source = "vneid"
        _job(session, lambda: login_with_id_token(portal, token), "_login_ok", "_door_failed",
             busy="Đang đăng nhập…")
        return True
    if event in ("_qr_failed", "_qr_poll_failed"):
        err = p["error"]
        code = getattr(err, "code", "")
        if code == "oidc_expired":
            st.qr_state = "expired"
            _new_qr(session)  # an expired QR is replaced at once; the citizen scans the new one
            return True
        st.qr_state = "denied" if code == "oidc_denied" else st.qr_state or "waiting"
        session.data.busy = ""
        session.data.error = idmsg.for_login_error(err)
        return True
    if event == "_door_failed":
        session.data.busy = ""
        session.data.error = idmsg.for_login_error(p["error"])
        if st.door == "qr_shown":
            st.qr_state = "denied" if st.qr_state == "approved" else st.qr_state
        return True
    if event == "mrz":
        _keys_from_mrz(session, str(p.get("text", ""))[:200])
        return True
    if event == "_chip_read":
        ident, seconds = p["result"]
        st.chip, st.chip_seconds, st.identity_source = ident, seconds, "chip_pa"
        session.data.busy, session.data.error = "", None
        if st.staff is None:
            st.step = "staff_pin"  # identity, not a login: a clerk confirms
        else:
            _assisted(session)
        return True
    if event == "_chip_failed":
        err = p["error"]
        session.data.busy = ""
        session.data.error = idmsg.for_login_error(err)
        kind = getattr(err, "kind", "")
        if kind in ("card_not_trusted", "card_expired"):
            st.chip_blocked, st.chip_keys, st.step = True, None, "counter"
        elif kind in ("card_unreadable", "device_gone") or type(err).__name__ == "DeviceGone":
            st.step = "choose_qr_only" if st.id_card else "id_qr"
        else:
            st.step = "card"  # card removed, none put down, reader hung: put it down again and retry
        return True
    if event == "code" and st.door in ("chip", "assisted") and st.step == "staff_pin" and st.staff is None:
        # the clerk's own VNeID (mode 1): the code their app shows signs the CLERK in, never the citizen
        from kiosk.domain.codes import VneidLogin, parse_code

        parsed = parse_code(str(p.get("text", ""))[:2000])
        if isinstance(parsed, VneidLogin):
            if not session.data.busy:
                from kiosk.portal.oidc import staff_login_vneid

                portal, code = session.services.portal, parsed.token
                _job(session, lambda: staff_login_vneid(portal, code), "_staff_ok", "_door_failed",
                     busy="Đang kiểm tra tài khoản VNeID của cán bộ…")
            session._read_code()
            return True
        return False
    if event == "staff_pin":
        if session.data.busy:
            return True
        from kiosk.portal.oidc import staff_login

        portal = session.services.portal
        staff_id, pin = str(p.get("staff_id", ""))[:40], str(p.get("pin", ""))[:8]
        _job(session, lambda: staff_login(portal, staff_id, pin), "_staff_ok", "_door_failed",
             busy="Đang kiểm tra mã cán bộ…")
        return True
    if event == "_staff_ok":
        st.staff = p["result"]
        session.data.busy, session.data.error = "", None
        log.info("login: staff signed in for an assisted session")
        if st.chip is not None:
            _assisted(session)
        else:
            st.step = "id_qr"
        return True
    if event == "use_id_qr":  # the chip cannot be read: the card's QR alone (weakest, flagged)
        if st.staff is not None and st.id_card and not st.chip_blocked:
            st.identity_source = "qr_only"
            _assisted(session)
        return True
    if event == "retry":
        if st.door == "qr_shown" and st.qr_state in ("denied", "expired", ""):
            session.data.error = None
            _new_qr(session)
        elif st.door in ("chip", "assisted") and st.chip_keys is not None and st.chip is None and not st.chip_blocked:
            session.data.error = None
            _read_chip(session)
            return True
        return False  # the session's own retry (re-arm the code reader) runs too
    return False


def id_card_scanned(session, text: str, parsed) -> bool:
    """The card's front QR was read at login. In the chip and assisted doors it gives the BAC keys; elsewhere
    the session says it is not a login code. True when consumed."""
    st = state(session)
    if st.door not in ("chip", "assisted") or st.chip_blocked:
        return False
    from drivers.chip import BacKeys

    try:
        keys = BacKeys.from_qr_text(text)
    except ValueError:
        session.data.error = idmsg.message("chip_keys")
        return True
    st.chip_keys = keys
    st.id_card = _id_card_fields(parsed)
    session.data.id_card = parsed.to_prefill()  # the form layer's keys
    session.data.error = None
    if st.door == "assisted" and st.staff is None:
        st.step = "staff_pin"
        return True
    _read_chip(session)
    return True


def _id_card_fields(parsed) -> dict:
    fields = {}
    for name in ("id_number", "full_name", "birth_date", "sex", "address", "issue_date"):
        value = getattr(parsed, name, None)
        if value is not None:
            fields[name] = value
    return fields


def _keys_from_mrz(session, text: str) -> None:
    from drivers.chip import BacKeys

    st = state(session)
    if st.door not in ("chip", "assisted") or st.chip_blocked:
        return
    try:
        st.chip_keys = BacKeys.from_mrz(text)
    except (ValueError, Exception):  # noqa: BLE001 - a mistyped MRZ is the citizen's to retype
        session.data.error = UserMessage("Dòng MRZ chưa đúng", "Các ký tự vừa nhập không khớp dòng MRZ ở mặt sau thẻ.",
                                         "Kiểm tra và nhập lại, hoặc đưa mã QR ở mặt trước thẻ vào trước camera.",
                                         kind="mrz_wrong")
        return
    session.data.error = None
    if st.door == "assisted" and st.staff is None:
        st.step = "staff_pin"
        return
    _read_chip(session)


def _read_chip(session) -> None:
    st = state(session)
    reader = getattr(session.services, "chip_reader", None)
    st.step = "card"
    if reader is None:
        session.data.error = idmsg.message("chip_device_gone")
        st.step = "choose_qr_only" if st.id_card else "id_qr"
        return
    keys = st.chip_keys

    def work():
        from drivers.chip import NoCard

        t0 = time.monotonic()
        if not reader.wait_for_card(CHIP_WAIT_SECONDS):
            raise NoCard("no card put down", device=getattr(reader, "driver", ""))
        ident = reader.read(keys, include_photo=True, timeout=CHIP_READ_SECONDS)
        if not ident.passive_auth.ok:  # belt and braces: a reader configured leniently is still refused here
            from drivers.chip import CardNotTrusted

            raise CardNotTrusted("passive authentication did not pass", device=getattr(reader, "driver", ""))
        seconds = time.monotonic() - t0
        log.info("login: chip read and verified in %.2f s (dgs=%s)", seconds, list(ident.data_groups))
        return ident, seconds

    _job(session, work, "_chip_read", "_chip_failed", busy="Đang đọc thẻ căn cước… Giữ yên thẻ trên ô đọc.")


def _assisted(session) -> None:
    from kiosk.portal.identity import IdentitySource
    from kiosk.portal.oidc import assisted_login

    st = state(session)
    portal, token = session.services.portal, st.staff.staff_token
    if st.identity_source == "chip_pa" and st.chip is not None:
        c = st.chip
        sod = c.sod_sha256  # every reader (the demo's fake too) reads a real, signed EF.SOD
        if not sod:
            session.data.error = idmsg.message("card_not_trusted")
            st.chip_blocked, st.step = True, "counter"
            return
        kw = dict(source=IdentitySource.CHIP_PA, id_number=c.id_number, full_name=c.full_name,
                  birth_date=c.birth_date, sex=c.sex, address=c.residence, sod_sha256=sod)
    else:
        card = st.id_card or {}
        kw = dict(source=IdentitySource.QR_ONLY, id_number=card.get("id_number", ""),
                  full_name=card.get("full_name", ""), birth_date=card.get("birth_date"),
                  sex=card.get("sex", ""), address=card.get("address", ""))
    st.step = "opening"
    _job(session, lambda: assisted_login(portal, token, **kw), "_login_ok", "_door_failed",
         busy="Đang mở phiên hỗ trợ…")


def assisted(session) -> dict | None:
    """When this citizen's portal session was opened on their behalf by a clerk (chip_pa or qr_only): who helped
    and how the citizen was identified, for the receipt and the queue ticket. None for a VNeID login."""
    st = session.data.login
    if (st is None or st.staff is None or st.identity_source not in ("chip_pa", "qr_only")
            or session.data.citizen is None):
        return None
    staff = st.staff.staff
    return {"identity_source": st.identity_source, "helper": f"{staff.display_name} ({staff.staff_id})"}


def receipt_note(session) -> str:
    """The receipt's plain words for an assisted dossier ("" otherwise)."""
    from kiosk.portal.identity import VERIFICATION_COUNTER

    marks = assisted(session)
    if marks is None:
        return ""
    how = "thẻ căn cước gắn chip" if marks["identity_source"] == "chip_pa" else "mã QR trên thẻ căn cước"
    return (f"Hồ sơ này được nộp với sự hỗ trợ của cán bộ {marks['helper']}, xác định người nộp bằng {how}. "
            f"Ông/Bà vui lòng mang thẻ căn cước đến {VERIFICATION_COUNTER} để cán bộ kiểm tra trước khi "
            "hồ sơ được giải quyết.")


def _new_qr(session) -> None:
    oidc = _oidc(session)
    st = state(session)
    st.qr_state = "waiting"
    _job(session, oidc.start, "_qr_ready", "_qr_failed")


def _poll(session) -> None:
    st = state(session)
    oidc, qr, sleep = _oidc(session), st.qr, _sleep(session)

    def work():
        sleep(qr.interval)
        return oidc.poll(qr)

    _job(session, work, "_qr_polled", "_qr_poll_failed")
