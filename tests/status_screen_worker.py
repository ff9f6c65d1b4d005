"""Renders the status look-up screen once per national status (1-10), and in the states around a look-up (asking
for the secret, a wrong secret), in landscape and portrait, in one Kivy process (offscreen), writing
OUT_DIR/status-<case>-<orientation>.npy (RGB, as tests/screen_worker.py saves) and OUT_DIR/report.json (every
visible label's text and the problems a reader would see, per picture). Usage:

    python tests/status_screen_worker.py OUT_DIR
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import screen_worker as sw  # noqa: E402  (configures Kivy offscreen first)
from kivy.app import App  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from kiosk import messages  # noqa: E402
from kiosk.portal.models import DossierStatus, DossierView, NATIONAL_STATUS_CODE  # noqa: E402
from kiosk.sandbox.store import _status_details  # noqa: E402
from kiosk.session.machine import SessionData, State  # noqa: E402

CODE = "000.20.31.H38-260316-0042"
#: Beyond the ten statuses: the code scanned from an old receipt (the secret is asked), and a wrong secret.
EXTRA_CASES = ["ask-secret", "wrong-secret"]


def _view(status: DossierStatus) -> DossierView:
    details = _status_details(CODE, status)
    if status in (DossierStatus.COMPLETED, DossierStatus.RETURNED):  # a printable electronic copy (trích lục)
        details.update(result_electronic=True, result_printable=status is DossierStatus.COMPLETED)
    return DossierView(
        dossier_code=CODE, status=status, procedure_code="2.000635", procedure_name="Cấp bản sao trích lục hộ tịch",
        received_at=dt.datetime(2026, 3, 16, 2, 30, tzinfo=dt.UTC),
        appointment_date=dt.date(2026, 3, 17), documents=3, pages=3, **details)


def _data(case: str) -> SessionData:
    data = SessionData()
    if case == "ask-secret":
        data.status_code = CODE
        data.error = messages.for_portal_code("lookup_secret_required")
    elif case == "wrong-secret":
        data.status_code = CODE
        data.error = messages.for_portal_code("lookup_mismatch", remaining_attempts=3)
    else:
        data.status_view = _view(next(s for s in DossierStatus if str(NATIONAL_STATUS_CODE[s]) == case))
        if case == "6":  # the centre has a collecting account: a VietQR for the amount due
            from kiosk.domain.vietqr import vietqr_payload

            v = data.status_view
            data.status_payment_qr = vietqr_payload("970415", "113366668888", v.fee_amount, v.payment_code)
    return data


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    session = sw.make_session()
    from screens.app import KioskApp

    app = KioskApp(session)
    App._running_app = app
    EventLoop.ensure_window()
    app.build()
    report: dict = {}
    cases = [str(NATIONAL_STATUS_CODE[s]) for s in DossierStatus] + EXTRA_CASES
    for orientation, size in sw.SIZES.items():
        Window.size = size
        sw.frames(2)
        if app.manager.parent is not None:
            Window.remove_widget(app.manager)
        app.manager = sw.build_manager(app)
        Window.add_widget(app.manager)
        sw.frames(2)
        for case in cases:
            session.state, session.data = State.STATUS_LOOKUP, _data(case)
            app._render()
            sw.frames(4)
            screen = app.manager.current_screen
            if case == "wrong-secret":
                screen.secret = "ACDE47"
                sw.frames(2)
            sw.save_shot(sw.grab(app.manager), out / f"status-{case}-{orientation}.npy")
            report[f"{case}-{orientation}"] = sw.facts(screen)
            screen.on_leave()
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
