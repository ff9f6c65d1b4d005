"""Fleet health: enrolment, heartbeats that reach the (sandbox) portal and never raise, and the Prometheus
endpoint scraped over real HTTP."""
from __future__ import annotations

import json
import time
import types

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from drivers.base import DeviceStatus, Health
from drivers.fakes.scanner import FakeScanner
from kiosk.appliance import config
from kiosk.appliance import fleet
from kiosk.appliance.fleet import FleetMonitor, HeartbeatSender, Metrics, load_credentials, save_credentials
from kiosk.portal.client import PortalClient, PortalRejected
from kiosk.sandbox import FaultConfig, start_sandbox
from kiosk.sandbox.store import TEST_CITIZENS

KIOSK_ID = "KIOSK-FLEET-01"


class StubDevice:
    def __init__(self, kind: str, status: DeviceStatus | Exception, driver: str = "stub") -> None:
        self.kind, self.driver, self._status = kind, driver, status

    def status(self) -> DeviceStatus:
        if isinstance(self._status, Exception):
            raise self._status
        return self._status

    def close(self) -> None:
        pass


class StubOutbox:
    def __init__(self, depth: int, oldest: float | None) -> None:
        self._depth, self._oldest = depth, oldest

    def depth(self) -> int:
        return self._depth

    def oldest_pending_age(self) -> float | None:
        return self._oldest


def make_services(*, printer: DeviceStatus | Exception = DeviceStatus(Health.OK), depth: int = 0,
                  oldest: float | None = None, url: str = "http://127.0.0.1:9", data_dir=None):
    devices = {"scanner": FakeScanner(delay=0, fault="io_error"),
               "printer": StubDevice("printer", printer),
               "code_reader": StubDevice("code_reader", DeviceStatus(Health.WARNING, "dusty lens"))}
    settings = config.load(portal={"url": url, "credentials_file": str((data_dir or ".") / "credentials.json")
                                   if data_dir else ""}, kiosk={"id": KIOSK_ID})
    return types.SimpleNamespace(config=settings, outbox=StubOutbox(depth, oldest), devices=lambda: devices)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    handle = start_sandbox(tmp_path_factory.mktemp("portal") / "portal.sqlite3")
    yield handle
    handle.stop()


@pytest.fixture
def enrolled(sandbox, tmp_path):
    """Credentials for KIOSK_ID, obtained from the sandbox with a fresh enrolment code."""
    code = f"ENROL-TEST-{int(time.monotonic_ns() % 10000):04d}"
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID) as client:
        credentials = client.register_kiosk(code)
    path = tmp_path / "credentials.json"
    save_credentials(path, credentials)
    return path


def heartbeats_at(sandbox, kiosk_id: str = KIOSK_ID) -> list[dict]:
    return httpx.get(f"{sandbox.url}/api/v1/sandbox/kiosks/{kiosk_id}/heartbeats").json()


# ---------------------------------------------------------------------------------------------- enrolment
def test_enrolment_gives_private_credentials(sandbox, tmp_path):
    with PortalClient(sandbox.url, kiosk_id="KIOSK-ENROL-01") as client:
        credentials = client.register_kiosk("ENROL-TEST-0101")
    path = tmp_path / "etc" / "credentials.json"
    save_credentials(path, credentials)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_credentials(path) == credentials


def test_enrolment_code_is_single_use_across_kiosks(sandbox):
    with PortalClient(sandbox.url, kiosk_id="KIOSK-ENROL-02") as client:
        client.register_kiosk("ENROL-TEST-0202")
    with PortalClient(sandbox.url, kiosk_id="KIOSK-ENROL-03") as other, pytest.raises(PortalRejected) as refused:
        other.register_kiosk("ENROL-TEST-0202")
    assert refused.value.code == "enrolment_code_used"
    with PortalClient(sandbox.url, kiosk_id="KIOSK-ENROL-03") as other, pytest.raises(PortalRejected) as expired:
        other.register_kiosk("ENROL-TEST-EXPIRED")
    assert expired.value.code == "enrolment_code_expired"


# ---------------------------------------------------------------------------------------------- heartbeat
def test_heartbeat_reaches_the_portal_with_health_and_outbox(sandbox, enrolled):
    services = make_services(printer=DeviceStatus(Health.FAILED, "no paper", "paper_out"), depth=3, oldest=125.0)
    metrics = Metrics()
    metrics.record_error("paper_out")
    sender = HeartbeatSender(FleetMonitor(services, metrics), lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID),
                             enrolled)
    before = len(heartbeats_at(sandbox))
    assert sender.send_once() is True
    sender.stop()
    beats = heartbeats_at(sandbox)
    assert len(beats) == before + 1
    beat = beats[-1]
    assert beat["outbox_depth"] == 3 and beat["outbox_oldest_seconds"] == 125.0
    assert beat["last_error_kind"] == "paper_out"
    assert beat["app_version"]
    health = {d["kind"]: (d["health"], d["error_kind"]) for d in beat["devices"]}
    assert health["printer"] == ("failed", "paper_out")
    assert health["scanner"][0] == "failed"  # the fake scanner's io_error fault
    assert health["code_reader"] == ("warning", "")
    # Technicians' device detail ("dusty lens", serials, paths) never leaves the kiosk.
    assert "dusty lens" not in json.dumps(beat)


def test_heartbeat_thread_posts_repeatedly_and_stops(sandbox, enrolled):
    sender = HeartbeatSender(FleetMonitor(make_services()), lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID),
                             enrolled, interval=0.05)
    before = len(heartbeats_at(sandbox))
    sender.start()
    deadline = time.monotonic() + 10
    while sender.sent < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    sender.stop()
    assert sender.sent >= 3
    after_stop = len(heartbeats_at(sandbox))
    assert after_stop - before >= 3
    time.sleep(0.2)
    assert len(heartbeats_at(sandbox)) == after_stop  # stopped means stopped


def test_heartbeat_failures_never_raise(sandbox, enrolled, tmp_path):
    monitor = FleetMonitor(make_services(printer=RuntimeError("driver crashed")))
    # The portal failing: counted, remembered by code, not raised.
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("500",)))
    try:
        failing = HeartbeatSender(monitor, lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID, read_timeout=2),
                                  enrolled)
        assert failing.send_once() is False
        assert failing.last_error == "server_error" and failing.failed == 1
    finally:
        sandbox.set_faults(None)
    # Nothing listening at all.
    down = HeartbeatSender(monitor, lambda: PortalClient("http://127.0.0.1:9", kiosk_id=KIOSK_ID, connect_timeout=0.5),
                           enrolled)
    assert down.send_once() is False and down.last_error == "unreachable"
    # Not enrolled yet.
    unregistered = HeartbeatSender(monitor, lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID),
                                   tmp_path / "missing.json")
    assert unregistered.send_once() is False and unregistered.last_error == "not_registered"
    # A stolen id without the token.
    forged = tmp_path / "forged.json"
    good = load_credentials(enrolled)
    save_credentials(forged, good.model_copy(update={"kiosk_token": "x" * 40}))
    impostor = HeartbeatSender(monitor, lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID), forged)
    assert impostor.send_once() is False and impostor.last_error == "kiosk_unknown"
    # The crashing driver was reported as a failed device, not an exception.
    assert {d.kind: d.health for d in monitor.devices()}["printer"] == "failed"


def test_heartbeat_carries_no_personal_data(sandbox, enrolled):
    services = make_services()
    metrics = Metrics()
    session = FakeSession()
    metrics.watch(session)
    citizen = TEST_CITIZENS["VNEID-TEST-0001"]
    session.data.citizen = citizen
    session.move("procedure", error=types.SimpleNamespace(kind="level_insufficient", text=citizen.full_name))
    sender = HeartbeatSender(FleetMonitor(services, metrics), lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID),
                             enrolled)
    assert sender.send_once()
    sent = json.dumps(heartbeats_at(sandbox)[-1], ensure_ascii=False)
    assert '"last_error_kind": "level_insufficient"' in sent
    for personal in (citizen.id_number, citizen.full_name, citizen.address, citizen.phone_masked):
        assert personal not in sent


def test_device_health_is_not_queried_during_a_session():
    status = {"value": DeviceStatus(Health.OK)}
    printer = StubDevice("printer", DeviceStatus(Health.OK))
    printer.status = lambda: status["value"]  # type: ignore[method-assign]
    idle = {"value": True}
    services = make_services()
    services.devices = lambda: {"printer": printer}
    monitor = FleetMonitor(services, idle=lambda: idle["value"])
    assert [d.health for d in monitor.refresh_devices()] == ["ok"]
    idle["value"] = False  # a citizen is printing: the status query could interleave with the job's bytes
    status["value"] = DeviceStatus(Health.FAILED, "", "paper_out")
    assert [d.health for d in monitor.refresh_devices()] == ["ok"]
    idle["value"] = True
    assert [d.health for d in monitor.refresh_devices()] == ["failed"]


# ---------------------------------------------------------------------------------------------- counters
class FakeSession:
    """Just what Metrics.watch uses of kiosk.session.machine.Session: state, data.error and subscribe."""

    def __init__(self) -> None:
        self.state = types.SimpleNamespace(value="attract")
        self.data = types.SimpleNamespace(error=None, citizen=None)
        self._listeners = []

    def subscribe(self, listener) -> None:
        self._listeners.append(listener)

    def move(self, state: str, error=None) -> None:
        self.state = types.SimpleNamespace(value=state)
        self.data.error = error
        for listener in self._listeners:
            listener(self)


def test_metrics_count_sessions_and_submitted_dossiers_from_transitions():
    metrics, session = Metrics(), FakeSession()
    metrics.watch(session)
    for state in ("procedure", "login", "form", "documents", "review", "otp", "submitting", "done", "rating",
                  "attract", "status_lookup", "attract", "out_of_service", "attract"):
        session.move(state)
    session.move("procedure")
    session.move("procedure")  # a re-render without a transition counts nothing
    assert metrics.sessions_total == 3  # two citizens who used a service + one who is browsing now
    assert metrics.dossiers_submitted_total == 1
    paper_out = types.SimpleNamespace(kind="paper_out")
    session.move("done", error=paper_out)
    session.move("done", error=paper_out)
    assert metrics.last_error_kind == "paper_out"


# ---------------------------------------------------------------------------------------------- metrics endpoint
def scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_endpoint_serves_prometheus_text_over_http():
    services = make_services(printer=DeviceStatus(Health.FAILED, "cover", "cover_open"), depth=2, oldest=61.5)
    metrics = Metrics()
    monitor = FleetMonitor(services, metrics)
    monitor.refresh_devices()
    metrics.session_started()
    metrics.session_started()
    metrics.dossier_submitted()
    server = fleet.start_metrics_server(monitor, port=0)
    try:
        assert server.host == "127.0.0.1"
        samples = scrape(server.url)
        assert samples[("kiosk_up", ())] == 1
        assert samples[("kiosk_outbox_depth", ())] == 2
        assert samples[("kiosk_outbox_oldest_seconds", ())] == 61.5
        assert samples[("kiosk_device_ok", (("kind", "printer"),))] == 0
        assert samples[("kiosk_device_ok", (("kind", "code_reader"),))] == 1  # a warning is still usable
        assert samples[("kiosk_device_ok", (("kind", "scanner"),))] == 0
        assert samples[("kiosk_sessions_total", ())] == 2
        assert samples[("kiosk_dossiers_submitted_total", ())] == 1
        # Live values: the next scrape sees the next session without a restart.
        metrics.session_started()
        assert scrape(server.url)[("kiosk_sessions_total", ())] == 3
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=1)


def test_start_fleet_runs_both_and_survives_a_busy_port(sandbox, enrolled):
    services = make_services(url=sandbox.url, data_dir=enrolled.parent)
    blocker = fleet.start_metrics_server(FleetMonitor(services), port=0)
    try:
        running = fleet.start_fleet(services, metrics_port=blocker.port, interval=0.05)
        try:
            assert running.server is None  # port taken: metrics off, logged
            deadline = time.monotonic() + 10
            while running.sender.sent < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert running.sender.sent >= 1
        finally:
            running.stop()
    finally:
        blocker.stop()
