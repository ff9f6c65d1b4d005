"""Everything a session needs, built once from configuration: catalogue, portal, devices, outbox, calendar."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any
from collections.abc import Callable

from drivers import registry
from drivers.base import CodeReader, Printer, Scanner

from kiosk.appliance.config import Settings
from kiosk.domain.clock import centre_now

log = logging.getLogger("kiosk.appliance.services")


@dataclasses.dataclass
class Services:
    config: Settings
    catalog: Any  # kiosk.domain.catalog.Catalog
    portal: Any  # kiosk.portal.client.PortalClient
    scanner: Scanner
    printer: Printer
    reader: CodeReader
    outbox: Any  # kiosk.outbox.store.Outbox
    holidays: Any = None  # kiosk.domain.appointment.HolidayCalendar
    now: Callable[[], dt.datetime] = centre_now
    catalog_store: Any = None  # kiosk.domain.catalog.CatalogStore: the last good copy of the portal's catalogue
    last_receipt: Any = None  # the last receipt PrintJob, for the technician's reprint
    last_print: dict | None = None  # bytes of the last receipt/ticket, for `kiosk simulate`
    simulator: Any = None  # drivers.fakes.simulator.Simulator when devices are fakes (demo hooks), else None
    speech: Any = None  # drivers.speech.SpeechOutput (spoken guidance), None when not built
    keypad: Any = None  # drivers.keypad.Keypad, None when the unit has none
    chip_reader: Any = None  # drivers.chip.ChipReader (the chip ID card, issue 11), None when the unit has none

    def devices(self) -> dict[str, Any]:
        devices = {"scanner": self.scanner, "printer": self.printer, "code_reader": self.reader}
        devices.update({name: dev for name, dev in (("speech", self.speech), ("keypad", self.keypad),
                                                                 ("chip_reader", self.chip_reader)) if dev is not None})
        return devices

    def close(self) -> None:
        for name, dev in self.devices().items():
            try:
                dev.close()
            except Exception:  # noqa: BLE001
                log.exception("closing %s failed", name)
        try:
            self.outbox.close()
        except Exception:  # noqa: BLE001
            log.exception("closing the outbox failed")


def outbox_preparer(settings: Settings) -> Any:
    """What the outbox does to a dossier's PDFs before delivery (issue 14): the OCR text layer on scans when
    `scanner.text_layer`, and the kiosk's seal once enrolment gave it a certificate (beside credentials.json)."""
    from kiosk.appliance.fleet import credentials_path
    from kiosk.outbox.prepare import Preparer
    from kiosk.outbox.seal import Sealer, SealError

    sealer: Sealer | SealError | None
    try:
        sealer = Sealer.from_folder(credentials_path(settings).parent)
    except SealError as e:  # the outbox then holds dossiers back (seal_*): doctor and the logs tell the technician
        log.error("the kiosk's seal key or certificate is unusable: %s", e.code)
        sealer = e
    if sealer is None:
        log.info("no seal certificate beside the portal credentials: dossiers go unsealed (run `kiosk provision`)")
    if sealer is None and not settings.scanner.text_layer:
        return None
    return Preparer(sealer, ocr=settings.scanner.text_layer)


def build(settings: Settings, *, data_dir: Path | None = None, sandbox: Any = None, **devices: Any) -> Services:
    """Build the services. Devices given as keywords (scanner=, printer=, reader=) replace configured ones.
    `sandbox` (the composition root's kiosk.sandbox.testing.SandboxTestClient, demo and `kiosk simulate` only)
    gives the simulator the phone's side: the one-time code's text message and the VNeID app's "approve"."""
    from kiosk.domain.appointment import HolidayCalendar
    from kiosk.domain.catalog import CatalogStore
    from kiosk.messages.i18n import use_catalog
    from kiosk.outbox.store import Outbox
    from kiosk.portal.client import PortalClient

    data_dir = Path(data_dir or settings.kiosk.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    portal = PortalClient.from_settings(settings)
    store = CatalogStore(data_dir, settings.catalog.path)
    scanner = devices.get("scanner") or registry.build_scanner(settings.scanner)
    reader = devices.get("reader") or registry.build_reader(settings.code_reader)
    chip_reader = devices.get("chip_reader") or registry.build_chip_reader(settings.chip_reader)
    catalog = store.current()
    use_catalog(catalog)  # its English is what English mode shows
    return Services(
        config=settings,
        catalog=catalog,
        portal=portal,
        scanner=scanner,
        printer=devices.get("printer") or registry.build_printer(settings.printer),
        reader=reader,
        outbox=Outbox(data_dir, preparer=outbox_preparer(settings)),
        holidays=HolidayCalendar.from_file(settings.holidays.path),
        catalog_store=store,
        simulator=registry.simulator(reader=reader, scanner=scanner, chip_reader=chip_reader,
                                     text_message=getattr(sandbox, "otp_code", None),
                                     approve_login=getattr(sandbox, "approve_login", None)),
        speech=devices.get("speech") or registry.build_speech(settings.speech),
        keypad=devices.get("keypad") or registry.build_keypad(settings.keypad),
        chip_reader=chip_reader,
    )
