"""`kiosk simulate`: one whole citizen session, headless, through the real Kivy screens and fake devices,
pressing buttons as a person would. Writes DIR/screens/NN-<step>.png, DIR/receipt.bin, DIR/ticket.bin
(the exact bytes sent to the printer) and DIR/session.json. Exits non-zero when any step fails."""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

log = logging.getLogger("kiosk.simulate")

#: Sample answers a simulated citizen gives, by form field type / id fragment.
SAMPLE_TEXT = {
    "child": "Lê Minh Khôi",
    "mother": "Lê Thị Hồng Nhung",
    "father": "Đặng Văn Quyết",
    "partner": "Hoàng Thị Thủy",
    "deceased": "Vũ Văn Lộc",
    "ward": "Trần Thị Ngọc Ánh",
    "name": "Phạm Quốc Hưng",
    "holder": "Lương Văn Thắng",
    "id_number": "001099012345",
    "place": "Trạm y tế xã Tân Lập",
    "address": "Thôn Bản Lầu xã Tân Lập",
    "where": "Ủy ban nhân dân xã Tân Lập",
    "title": "Bằng tốt nghiệp trung học phổ thông",
    "value": "Nguyễn Thị Hường",
}


def sample_value(field, today: dt.date) -> str:
    if field.type == "date":
        days = 10 if field.when != "future" else -10
        return (today - dt.timedelta(days=days)).strftime("%d/%m/%Y")
    if field.type == "phone":
        return "0912345678"
    if field.type == "number":
        low = int(field.min) if field.min is not None else 1
        return str(max(1, low))
    if field.type in ("choice",):
        return field.choices[0]
    if field.type == "yesno":
        return "Không"
    for fragment, text in SAMPLE_TEXT.items():
        if fragment in field.id:
            return text
    return "Không có"


class Scenario:
    """The script of one citizen. Each `step` takes a screenshot named after the screen and records time."""

    def __init__(self, pilot, out: Path, args, services) -> None:
        self.pilot, self.out, self.args, self.svc = pilot, out, args, services
        self.n = 0
        self.steps: list[dict[str, Any]] = []
        self.jams = 0
        self.status_text = ""
        self._t0 = time.monotonic()

    def shot(self, name: str) -> None:
        self.n += 1
        path = self.out / "screens" / f"{self.n:02d}-{name}.png"
        self.pilot.screenshot(path)
        now = time.monotonic()
        self.steps.append({"step": name, "screenshot": str(path.relative_to(self.out)),
                           "seconds": round(now - self._t0, 3), "buttons": self.pilot.shown_buttons()})
        self._t0 = now

    def run(self) -> dict[str, Any]:
        """One citizen per login door asked for (`--login`, comma-separated); the side paths after the last."""
        doors = self.args.login
        results = []
        for door in doors:
            results.append(self.citizen(door))
        result = dict(results[-1])
        result["status_seen"] = self.look_up(result["shown_code"], result["shown_secret"])
        result["status_text"] = self.status_text
        result["queue_only_number"] = self.queue_only()
        if len(results) > 1:
            result["sessions"] = results
        return result

    def login(self, door: str) -> None:
        """The citizen (and for the chip and assisted doors, the clerk) gets through the login screen by `door`."""
        p, svc = self.pilot, self.svc
        chip = getattr(svc, "chip_reader", None)
        if chip is not None and hasattr(chip, "fault"):
            # the assisted door's citizen: the chip cannot be read (reader down), the clerk goes on with the QR
            chip.fault = "gone" if door == "assisted" else ""
        if door == "app-code":
            p.tap("Tôi có điện thoại có VNeID", contains=True)
            svc.reader.present(self.args.login_code)
            return
        if door == "qr-shown":
            p.tap("Tôi có điện thoại có VNeID", contains=True)
            p.tap("Quét mã QR của máy bằng điện thoại")
            p.wait_until(lambda: p.session.data.login is not None and p.session.data.login.qr is not None, 20,
                         "the kiosk's login QR")
            p.wait_until(lambda: p.has_button("Mô phỏng: đồng ý trên điện thoại"), 10, "the QR on screen")
            self.shot("login-qr")
            p.tap("Mô phỏng: đồng ý trên điện thoại")  # the citizen scans it with VNeID and taps "Đồng ý"
            return
        if door == "chip":
            p.tap("Tôi có thẻ căn cước gắn chip", contains=True)
            self.show_id_card()
            p.wait_until(lambda: p.has_button("Mô phỏng: đặt thẻ lên ô đọc"), 10, "the reader to wait for the card")
            self.shot("login-chip")
            p.tap("Mô phỏng: đặt thẻ lên ô đọc")
            p.wait_until(lambda: p.session.data.login.step == "staff_pin" or p.session.data.login.step == "counter",
                         30, "the chip to be read")
            if p.session.data.login.step != "staff_pin":
                raise AssertionError(f"chip not read: {p.session.data.error and p.session.data.error.kind}")
            self.staff_sign_in()
            return
        if door == "assisted":
            p.tap("Tôi cần cán bộ hỗ trợ", contains=True)
            # the clerk signs in with their own VNeID (the code their app shows, to the camera)
            p.wait_until(lambda: p.has_button("Mô phỏng: cán bộ đưa mã VNeID"), 10, "the clerk's sign-in")
            p.tap("Mô phỏng: cán bộ đưa mã VNeID")
            p.wait_until(lambda: p.session.data.login.step == "id_qr", 20, "the clerk's sign-in")
            self.show_id_card()
            p.wait_until(lambda: p.has_button("Tiếp tục bằng mã QR trên thẻ"), 30, "the chip to fail and the QR way")
            self.shot("login-assisted")
            p.tap("Tiếp tục bằng mã QR trên thẻ")
            return
        raise SystemExit(f"unknown login door {door!r}")

    def show_id_card(self) -> None:
        p = self.pilot
        p.wait_until(lambda: p.has_button("Mô phỏng: đưa mặt trước thẻ vào camera"), 10, "the card's QR step")
        p.tap("Mô phỏng: đưa mặt trước thẻ vào camera")

    def staff_sign_in(self) -> None:
        """The clerk types their staff number and PIN (the sandbox's test clerk) on the pad and signs in."""
        p = self.pilot
        staff_id, pin = self.args.staff
        kind, _, number = staff_id.partition("-")
        p.wait_until(lambda: p.has_button("Cán bộ (CB)"), 10, "the clerk's pad")
        p.tap("Cán bộ (CB)" if kind == "CB" else "Tình nguyện viên (TNV)")
        for digit in number + pin:
            p.tap(digit)
        self.shot("login-staff")
        p.tap("Đăng nhập")

    def citizen(self, door: str) -> dict[str, Any]:
        p, svc = self.pilot, self.svc
        proc = svc.catalog.get(self.args.procedure)
        if proc is None:
            raise SystemExit(f"unknown procedure {self.args.procedure}")
        p.wait_state("attract")
        self.choose_modes()
        self.shot("attract")
        p.tap("Bắt đầu nộp hồ sơ")
        p.wait_state("procedure")
        p.tap(widget=p.call(lambda: p.app.manager.current_screen.ids.search_box))
        en_name = proc.en.name if proc.en is not None else None
        english = getattr(self.args, "lang", "vi") == "en" and en_name
        p.type_text(search_words(en_name if english and en_name else proc.name))  # English words in English mode
        self.shot("procedure")
        p.tap("Xong")
        p.tap(proc.plain_name or proc.name, contains=True)  # tiles show the plain title
        p.wait_state("procedure_info")
        self.shot("procedure_info")
        p.tap("Bắt đầu nộp")
        p.wait_state("consent")
        self.shot("consent")
        p.tap("Tôi đồng ý")
        p.wait_state("login")
        self.shot("login")
        self.login(door)
        p.wait_state("form", timeout=40)
        login = p.session.data.login
        identity_source = (login.identity_source if login is not None else "") or "vneid"
        self.fill_form(proc)
        p.wait_state("documents")
        self.scan_documents()
        p.wait_state("review")
        self.shot("review")
        p.tap("Xác nhận và gửi")
        p.wait_state("otp")
        p.wait_until(lambda: p.session.data.otp is not None, 20, "the one-time code to be sent")
        code = sandbox_otp(self.args.portal, p.session.data.otp.otp_id)
        for digit in code:
            p.tap(digit)
        self.shot("otp")
        if self.args.portal_down_at_submit:
            # the code is checked, then the link drops: everything after the confirmation fails
            sandbox_faults(self.args.portal, {"fail_rate": 1, "modes": ["reset"],
                                              "paths": ["/api/v1/blobs", "/api/v1/dossiers", "/api/v1/queue"]})
        if self.args.printer_fault:
            svc.printer.set_fault(self.args.printer_fault)  # e.g. the roll runs out during this session
        p.tap("Xác nhận")
        p.wait_until(lambda: p.session.state.value in ("submitting", "done"), 20, "submission to start")
        p.wait_state("done", timeout=90)
        p.wait_idle(timeout=30)
        self.shot("done")
        data = p.session.data
        if self.args.portal_down_at_submit:
            sandbox_faults(self.args.portal, {})  # the portal recovers; the outbox delivers by itself
        if self.args.printer_fault:
            svc.printer.set_fault("")  # the technician reloads paper (and could reprint from the panel)
        result = {
            "dossier_code": data.dossier_code,
            "local_reference": data.local_reference,
            "delivered": data.delivered,
            "procedure_code": proc.code,
            "pages": {c.id: c.page_count for c in data.components},
            "queue_number": data.ticket.number if data.ticket else None,
            "print_error": data.print_error.kind if data.print_error else None,
            "shown_code": data.dossier_code or data.local_reference,
            "shown_secret": data.lookup_secret,  # printed beside the code: status look-up needs both
            "jams_cleared": self.jams,
            "login": door,
            "identity_source": identity_source,
            "seals": _seals(self.args.portal, data.dossier_code),
        }
        printed = svc.last_print or {}
        if printed.get("receipt"):
            (self.out / "receipt.bin").write_bytes(printed["receipt"])
        if printed.get("ticket"):
            (self.out / "ticket.bin").write_bytes(printed["ticket"])
        p.tap("Hoàn tất")
        p.wait_state("rating")
        self.shot("rating")
        p.tap(widget=p.call(lambda: _face(p.app.manager.current_screen, 5)))  # the face labelled "Rất hài lòng"
        p.wait_state("attract")
        result["wiped"] = (p.session.data.citizen is None and not p.session.data.components
                           and p.session.data.login is None)
        chip = getattr(svc, "chip_reader", None)
        if chip is not None and hasattr(chip, "remove"):
            chip.remove()  # the citizen takes the card back
        result["modes_reset"] = self.modes_reset()
        if not data.delivered:
            # the portal is back: the outbox delivers by itself (with its backoff); nobody presses anything
            p.wait_until(lambda: svc.outbox.depth() == 0, 180, "the outbox to deliver the saved dossier")
        return result

    # ------------------------------------------------------------------ accessibility (issue 12)
    def choose_modes(self) -> None:
        """The header's buttons, as a citizen would press them: large text, high contrast, English."""
        p, a = self.pilot, self.args
        if getattr(a, "large_text", False):
            p.tap("Chữ to")
        if getattr(a, "high_contrast", False):
            p.tap("Tương phản")
        if getattr(a, "lang", "vi") == "en":
            p.tap("English")
        want = (bool(getattr(a, "large_text", False)), bool(getattr(a, "high_contrast", False)),
                getattr(a, "lang", "vi"))
        d = p.session.data
        p.wait_until(lambda: (d.large_text, d.high_contrast, d.lang) == want, 5, "the chosen modes")
        p.wait_idle()

    def modes_reset(self) -> bool:
        d = self.pilot.session.data
        return (d.large_text, d.high_contrast, d.lang, d.speech_mode, d.keypad_mode) == (False, False, "vi", False,
                                                                                         False)

    def look_up(self, code: str, secret: str) -> str:
        """Side path: the citizen comes back and types the code and the secret from the receipt."""
        p = self.pilot
        p.tap("Tra cứu hồ sơ")
        p.wait_state("status_lookup")
        p.tap(widget=p.call(lambda: p.app.manager.current_screen.ids.code_box))
        p.type_text(code)
        p.tap(widget=p.call(lambda: p.app.manager.current_screen.ids.secret_box))
        p.type_text(secret)
        p.tap("Tra cứu")
        p.wait_idle(20)
        p.wait_until(lambda: p.session.data.status_view is not None or p.session.data.error is not None, 20,
                     "the dossier's status")
        self.shot("status_lookup")
        view = p.session.data.status_view
        if view is None:
            raise AssertionError(f"status look-up failed: {p.session.data.error.kind}")
        self.status_text = p.call(lambda: p.app.manager.current_screen.result)  # what the citizen read
        p.tap("Quay lại")
        p.wait_state("attract")
        return view.status.value

    def queue_only(self) -> str:
        """Side path: a number for the counter, nothing submitted."""
        p = self.pilot
        p.tap("Lấy số thứ tự")
        p.wait_state("queue_ticket")
        p.wait_until(lambda: p.session.data.ticket is not None or p.session.data.error is not None, 20, "a number")
        self.shot("queue_ticket")
        ticket = p.session.data.ticket
        if ticket is None:
            raise AssertionError(f"no queue number: {p.session.data.error.kind}")
        p.tap("Hoàn tất")
        p.wait_state("attract")
        return ticket.number

    def fill_form(self, proc) -> None:
        """One question per screen: answer it (a prefilled one is kept), then "Tiếp tục"."""
        p = self.pilot
        today = self.svc.now().date()
        form = p.session.data.procedure.form  # the session's: the delivery question ends it where post is offered
        for index, field in enumerate(form):
            p.wait_until(lambda i=index: p.state != "form" or p.session.data.form_index == i, 10, "the question")
            if p.state != "form":
                break
            if not p.session.data.form_values.get(field.id) and field.required:
                value = sample_value(field, today)
                if field.type in ("choice", "yesno"):
                    p.tap(value)
                else:
                    p.type_text(value)  # the keyboard is open on a text question
            if index == 0:
                self.shot("form")
            p.tap("Tiếp tục")
        if p.state == "form":
            errors = p.session.data.form_errors
            raise AssertionError(f"form refused: {errors}")

    def scan_documents(self) -> None:
        p, scanner = self.pilot, self.svc.scanner
        first = True
        while p.state == "documents":
            comp = p.session.component
            sheets = max(2, comp.min_pages)
            scanner.load(sheets)  # the citizen puts the papers in the feeder
            p.tap("Quét")
            p.wait_idle(timeout=60)
            error = p.session.data.error
            if error is not None and error.kind == "paper_jam":
                # as a person would: read the message, clear the jam, put the unscanned sheets back, go on
                self.shot("documents-jam")
                self.jams += 1
                scanner.set_fault("")
                scanner.load(max(0, sheets - len(p.session.component.pages) - scanner.pages_in_feeder))
                p.tap("Quét tiếp")
                p.wait_idle(timeout=60)
                error = p.session.data.error
            if error is not None:
                raise AssertionError(f"scan failed: {error.kind}")
            if len(p.session.component.pages) != sheets:
                raise AssertionError(f"{len(p.session.component.pages)} pages scanned of {sheets} sheets")
            if first:
                self.shot("documents")
                first = False
            p.tap("Tiếp tục")


def search_words(name: str) -> str:
    """What a citizen types to find a procedure: two or three words of its name, without diacritics."""
    from kiosk.domain.text import fold

    words = [w for w in fold(name).split() if w not in ("thu", "tuc", "dang", "ky", "cap", "giay", "ban")]
    return " ".join(words[:2]) or fold(name).split()[0]


def _face(screen, level: int):
    """The rating button of `level` (a drawn face with its words under it, not a button's own text)."""
    from kivy.uix.button import Button

    return next(w for w in screen.walk() if isinstance(w, Button) and getattr(w, "level", None) == level)


def sandbox_faults(portal_url: str, faults: dict) -> None:
    """Switch the sandbox portal's faults (its test-only endpoint): a portal going down and coming back."""
    from kiosk.sandbox.testing import SandboxTestClient

    SandboxTestClient(portal_url).set_faults(faults)


def _seals(portal_url: str, dossier_code: str | None) -> list[str]:
    """What the sandbox recorded for each document's seal ("verified" / "unsealed"), in the dossier's order."""
    from kiosk.sandbox.testing import SandboxTestClient, SandboxUnavailable

    try:
        dossiers = SandboxTestClient(portal_url).dossiers()
    except SandboxUnavailable:
        return []
    return [d.get("seal", "") for x in dossiers if x["dossier_code"] == dossier_code for d in x["documents"]]


def _enrol(portal_url: str, kiosk_id: str, folder: Path) -> str:
    """The simulated kiosk enrols as `kiosk provision` does (a sandbox test enrolment code, then the seal key and
    its certificate), in its throw-away data folder, so its dossiers are sealed. Returns the credentials file,
    or "" when the portal would not enrol it (the session then runs unsealed)."""
    import secrets

    from kiosk.appliance.fleet import save_credentials
    from kiosk.appliance.provision import enrol_seal
    from kiosk.outbox.seal import SealError
    from kiosk.portal.client import PortalClient, PortalError

    try:
        with PortalClient(portal_url, kiosk_id=kiosk_id, read_timeout=15.0) as client:
            for _ in range(8):  # a test code another kiosk id used already is refused: draw another
                try:
                    credentials = client.register_kiosk(f"ENROL-TEST-{secrets.randbelow(10_000):04d}")
                    break
                except PortalError as e:
                    if e.code != "enrolment_code_used":
                        raise
            else:
                return ""
            target = folder / "credentials.json"
            save_credentials(target, credentials)
            enrol_seal(client, credentials.kiosk_token, folder)
    except (PortalError, SealError) as e:
        log.warning("simulate: the portal did not enrol this kiosk (%s): dossiers go unsealed", e.code)
        return ""
    return str(target)


def sandbox_otp(portal_url: str, otp_id: str) -> str:
    """The code the citizen would read on their phone: the sandbox shows it through its test-only endpoint."""
    from kiosk.sandbox.testing import SandboxTestClient

    return SandboxTestClient(portal_url).otp_code(otp_id)


NAME = "simulate"
HELP = "one whole citizen session through the real screens, headless"


class KeypadScenario(Scenario):
    """The same citizen with the tactile keypad only (issue 12): every step is a key of the fake keypad (and the
    login QR shown to the camera, and papers in the scanner); the guide speaks through a fake speech output that
    records every utterance (session.json: "spoken")."""

    def keys(self, *keys, wait: float = 0.3) -> None:
        self.svc.keypad.press(*keys, gap=0.02).join(10)
        time.sleep(wait)  # the posted actions run on the UI thread
        self.pilot.wait_idle()

    def run(self) -> dict[str, Any]:
        import datetime as dt

        from drivers.keypad import KeypadAction as A
        from kiosk.domain.multitap import type_keys

        p, svc = self.pilot, self.svc
        if self.args.procedure != BIRTH_REGISTRATION:
            raise SystemExit("--keypad-only types the birth registration's answers (--procedure 1.001193)")
        p.wait_state("attract")
        self.choose_modes()
        self.keys(A.SELECT)  # the first press turns speech and keypad mode on; the screen is read out
        self.shot("attract")
        self.keys(A.SELECT)
        p.wait_state("procedure")
        guide = p.app.appliance.guide
        self.keys(str(guide.procedure_choices.index(self.args.procedure) + 1))
        p.wait_state("procedure_info")
        self.shot("procedure_info")
        self.keys(A.SELECT)
        p.wait_state("consent")
        self.keys(A.SELECT)
        p.wait_state("login")
        self.shot("login")
        svc.reader.present(self.args.login_code)
        p.wait_state("form", timeout=20)
        born = (dt.date.today() - dt.timedelta(days=10)).strftime("%d%m%Y")
        answers = [type_keys("lee minh khooi") + "#", born + "#", "1",
                   type_keys("tram y tee") + "*" + type_keys(" xa") + "#",
                   type_keys("lee thi hoong nhung") + "#", "#", "#"]
        for i, keys in enumerate(answers):
            self.keys(*keys)
            if i == 0:
                self.shot("form")
        for _ in range(3):  # where the centre offers results by post: "where do you want the result?" 1 = here
            if p.state != "form":
                break
            self.keys("1")
        p.wait_state("documents")
        while p.state == "documents":
            comp = p.session.component
            svc.scanner.load(max(1, comp.min_pages))  # the citizen puts the papers in the feeder
            self.keys(A.SELECT, wait=0.5)  # scan
            p.wait_idle(timeout=60)
            if p.session.data.error is not None:
                raise AssertionError(f"scan failed: {p.session.data.error.kind}")
            if comp.blank:
                self.keys(A.SELECT)  # keep the page the scanner thought blank
            self.keys(A.SELECT)  # next
        p.wait_state("review")
        self.shot("review")
        # the arrows: down moves the focus off the main action, up brings it back (each control's words spoken);
        # select then presses the focused control, "Xác nhận và gửi"
        said_before = len(getattr(svc.speech, "utterances", []))
        self.keys(A.NEXT)
        self.keys(A.PREVIOUS)
        focused = p.call(lambda: getattr(p.app.focus.focused, "text", ""))
        focus_said = [u.text for u in getattr(svc.speech, "utterances", [])[said_before:] if u.tone is None]
        self.keys(A.SELECT)
        p.wait_state("otp")
        p.wait_until(lambda: p.session.data.otp is not None, 20, "the one-time code to be sent")
        code = sandbox_otp(self.args.portal, p.session.data.otp.otp_id)
        self.keys(*code)  # complete: submitted by itself
        p.wait_state("done", timeout=90)
        p.wait_idle(timeout=30)
        self.shot("done")
        data = p.session.data
        result = {"dossier_code": data.dossier_code, "local_reference": data.local_reference,
                  "delivered": data.delivered, "procedure_code": self.args.procedure,
                  "queue_number": data.ticket.number if data.ticket else None,
                  "shown_code": data.dossier_code or data.local_reference,
                  "answers": {k: v for k, v in data.form_values.items() if k == "child_full_name"},
                  "focus": {"focused": focused, "said": focus_said}}
        self.keys(A.SELECT)
        p.wait_state("rating")
        self.shot("rating")
        self.keys(A.SELECT)  # skip: the session is wiped
        p.wait_state("attract")
        result["wiped"] = p.session.data.citizen is None and not p.session.data.components
        result["modes_reset"] = self.modes_reset()
        speech = svc.speech
        result["spoken"] = len(getattr(speech, "utterances", []))
        result["touches"] = 0
        return result


BIRTH_REGISTRATION = "1.001193"


def add_arguments(p) -> None:
    p.add_argument("--portal", required=True, help="portal base URL, e.g. http://127.0.0.1:8765")
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (screens/, receipt.bin, ticket.bin, session.json)")
    p.add_argument("--procedure", default="1.001193", help="procedure code (default: birth registration)")
    p.add_argument("--size", default="1920x1080", help="window size WxH (1080x1920 for portrait kiosks)")
    p.add_argument("--login", type=_doors, default=["app-code"], metavar="DOOR[,DOOR...]",
                   help="how the citizen logs in: app-code (the VNeID app's code to the camera; default), qr-shown "
                        "(the kiosk's QR, approved in the app: identity vneid), chip (chip card read, passive "
                        "authentication, a clerk confirms with the staff PIN: chip_pa), assisted (a clerk signs "
                        "in with their own VNeID, the chip cannot be read, the card's QR: qr_only); several, "
                        "comma-separated: one citizen each, in order")
    p.add_argument("--staff", type=_staff, default=("CB-0001", "246810"), metavar="ID:PIN",
                   help="the clerk's staff number and PIN for the chip and assisted doors (sandbox test clerk)")
    p.add_argument("--login-code", default="VNEID-TEST-0001", help="the sandbox login code the simulated citizen shows")
    p.add_argument("--scanner-fault", default="",
                   help="fake scanner fault, e.g. jam_at:2 (the citizen clears it and goes on)")
    p.add_argument("--printer-fault", default="",
                   help="fake printer fault from the moment the citizen confirms, e.g. paper_out")
    p.add_argument("--portal-down-at-submit", action="store_true",
                   help="the sandbox portal fails from the moment the citizen confirms (offline receipt), "
                        "then recovers")
    # accessibility (issue 12): the header's modes, chosen on the first screen; the keypad instead of the touch screen
    p.add_argument("--keypad-only", action="store_true",
                   help="the whole session with the tactile keypad (fake) and spoken guidance (fake speech)")
    p.add_argument("--large-text", action="store_true", help="press “Chữ to” (large text) first")
    p.add_argument("--high-contrast", action="store_true", help="press “Tương phản” (high contrast) first")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="en: press “English” first")


def _assistive_devices(args) -> dict[str, Any]:
    """--keypad-only: a fake keypad the scenario presses and a fake speech output that records what is said."""
    if not getattr(args, "keypad_only", False):
        return {}
    from drivers.fakes.keypad import FakeKeypad
    from drivers.fakes.speech import FakeSpeechOutput

    return {"keypad": FakeKeypad(), "speech": FakeSpeechOutput(headphones=False, time_scale=0.001)}


DOORS = ("app-code", "qr-shown", "chip", "assisted")


def _doors(text: str) -> list[str]:
    import argparse

    doors = [d.strip() for d in text.split(",") if d.strip()]
    bad = [d for d in doors if d not in DOORS]
    if bad or not doors or len(doors) > 8:
        raise argparse.ArgumentTypeError(f"login doors are {', '.join(DOORS)}")
    return doors


def _staff(text: str) -> tuple[str, str]:
    import argparse
    import re

    m = re.fullmatch(r"(CB|TNV)-(\d{4}):(\d{4,8})", text.strip())
    if m is None:
        raise argparse.ArgumentTypeError("--staff is CB-0001:246810 (or TNV-....:PIN)")
    return f"{m.group(1)}-{m.group(2)}", m.group(3)


def run(args) -> int:
    from screens import kivy_env

    w, h = (int(v) for v in args.size.lower().split("x"))
    kivy_env.configure(size=(w, h), fullscreen=False, headless=True)
    out: Path = args.out
    (out / "screens").mkdir(parents=True, exist_ok=True)
    for old in [*(out / "screens").glob("*.png"), *(out / n for n in ("receipt.bin", "ticket.bin", "session.json"))]:
        old.unlink(missing_ok=True)  # nothing from an earlier run may pass for this one's
    data_dir = Path(tempfile.mkdtemp(prefix="kiosk-simulate-"))
    try:
        return _simulate(args, out, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # the simulated citizen's data leaves with the session


def _simulate(args, out: Path, data_dir: Path) -> int:
    from drivers.fakes.printer import FakePrinter
    from drivers.fakes.reader import FakeCodeReader
    from drivers.fakes.scanner import FakeScanner
    from kiosk.appliance import config
    from kiosk.appliance import services as services_mod
    from screens.app import run_app
    from screens.pilot import Pilot

    from kiosk.sandbox.testing import SandboxTestClient

    settings = config.load(portal={"url": args.portal}, kiosk={"data_dir": str(data_dir)})
    credentials = _enrol(args.portal, settings.kiosk.id, data_dir / "site")
    if credentials:
        settings = config.load(portal={"url": args.portal, "credentials_file": credentials},
                               kiosk={"data_dir": str(data_dir)})
    svc = services_mod.build(
        settings, data_dir=data_dir, sandbox=SandboxTestClient(args.portal),
        scanner=FakeScanner(delay=0.05, pages=0, fault=args.scanner_fault),
        printer=FakePrinter(width_dots=settings.printer.width_dots),
        reader=FakeCodeReader(delay=0.2), **_assistive_devices(args))
    outcome: dict[str, Any] = {"ok": False}

    def script(app) -> None:
        pilot = Pilot(app)
        scenario = (KeypadScenario if getattr(args, "keypad_only", False) else Scenario)(pilot, out, args, svc)
        try:
            result = scenario.run()
            outcome.update(result, ok=True)
        except BaseException as e:  # noqa: BLE001 - reported in session.json and the exit code
            outcome["error"] = f"{type(e).__name__}: {e}"
            traceback.print_exc()
            try:
                pilot.screenshot(out / "screens" / "failure.png")
            except Exception:  # noqa: BLE001
                pass
        finally:
            outcome["steps"] = scenario.steps
            if args.portal_down_at_submit:
                try:
                    sandbox_faults(args.portal, {})  # never leave the sandbox broken for whoever comes next
                except Exception:  # noqa: BLE001
                    pass
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: app.stop(), 0)

    run_app(svc, on_started=lambda app: threading.Thread(target=script, args=(app,), daemon=True).start(),
            with_fleet=False)
    (out / "session.json").write_text(json.dumps(outcome, ensure_ascii=False, indent=2), encoding="utf-8")
    if outcome["ok"]:
        printed = [str(out / f"{n}.bin") for n in ("receipt", "ticket") if (out / f"{n}.bin").exists()]
        print(f"simulated session complete: dossier {outcome['dossier_code'] or outcome['local_reference']}; "
              f"screenshots in {out / 'screens'}; printer bytes: {', '.join(printed) or 'none (printer fault)'}")
        return 0
    print(f"simulated session FAILED: {outcome.get('error')}", file=sys.stderr)
    return 1
