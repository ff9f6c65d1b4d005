"""Renders the status look-up screen once per national status (1-10) in one Kivy process (offscreen), writing
OUT_DIR/status-<n>.png and OUT_DIR/report.json (every visible label's text). Usage:

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

from kiosk.portal.models import DossierStatus, DossierView, NATIONAL_STATUS_CODE  # noqa: E402
from kiosk.sandbox.store import _status_details  # noqa: E402
from kiosk.session.machine import SessionData, State  # noqa: E402

CODE = "000.20.31.H38-260316-0042"


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    session = sw.make_session()
    from screens.app import KioskApp

    app = KioskApp(session)
    App._running_app = app
    EventLoop.ensure_window()
    app.build()
    Window.size = sw.SIZES["landscape"]
    sw.frames(2)
    if app.manager.parent is not None:
        Window.remove_widget(app.manager)
    app.manager = sw.build_manager(app)
    Window.add_widget(app.manager)
    sw.frames(2)
    report: dict = {}
    for status in DossierStatus:
        n = NATIONAL_STATUS_CODE[status]
        data = SessionData()
        data.status_view = DossierView(
            dossier_code=CODE, status=status, procedure_code="1.001193", procedure_name="Thủ tục đăng ký khai sinh",
            received_at=dt.datetime(2026, 3, 16, 2, 30, tzinfo=dt.UTC),
            appointment_date=dt.date(2026, 3, 17), documents=3, pages=3, **_status_details(CODE, status))
        session.state, session.data = State.STATUS_LOOKUP, data
        app._render()
        sw.frames(4)
        screen = app.manager.current_screen
        app.manager.export_to_png(str(out / f"status-{n}.png"))
        report[str(n)] = sw.facts(screen)
        screen.on_leave()
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
