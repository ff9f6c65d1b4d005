"""The appliance's systemd side: units pass `systemd-analyze verify`, the session script launches cage locked
down, the udev rules are well formed, and sd_notify really reaches a notify socket."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from kiosk.appliance import provision

from kiosk.appliance import watchdog
REPO_ROOT = Path(__file__).resolve().parents[1]

SYSTEMD = REPO_ROOT / "systemd"
UNITS = ("dvc-kiosk.service", "dvc-kiosk-sandbox.service")
HOST_UNITS = Path("/usr/lib/systemd/system")


def unit_entries(path: Path) -> dict[str, list[tuple[str, str]]]:
    """[section] -> [(key, value)], keeping repeated keys (Environment=, After=) in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(path: Path, section: str, key: str) -> list[str]:
    return [v for k, v in unit_entries(path).get(section, []) if k == key]


# ---------------------------------------------------------------------------------------------- verify
@pytest.fixture(scope="module")
def installed_root(tmp_path_factory) -> Path:
    """The units as provisioning installs them, in a root that also holds the host's stock units (targets)."""
    root = tmp_path_factory.mktemp("root")
    plan = provision.Plan(root=root, site={}, kiosk_bin="/usr/bin/kiosk")
    result = provision.step_units(plan)
    assert result.status == "done", result
    stock = root / "usr/lib/systemd/system"
    stock.mkdir(parents=True)
    if HOST_UNITS.is_dir():
        for unit in HOST_UNITS.iterdir():
            if unit.is_file() and not unit.is_symlink():
                shutil.copy(unit, stock / unit.name)
    return root


def analyze_verify(root: Path, unit: Path) -> tuple[int, str]:
    proc = subprocess.run(["systemd-analyze", f"--root={root}", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze missing: apt-get install systemd")


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_unit_passes_systemd_analyze_verify(installed_root, unit):
    # verify exits 0 even for directives it ignores, so any output at all counts as a failure.
    code, output = analyze_verify(installed_root, installed_root / "etc/systemd/system" / unit)
    assert code == 0 and output == "", output


@needs_analyze
def test_verify_check_catches_a_broken_unit(installed_root):
    good = installed_root / "etc/systemd/system/dvc-kiosk.service"
    broken = good.with_name("dvc-kiosk-broken.service")
    broken.write_text(good.read_text().replace("Type=notify", "Type=notifyy"))
    try:
        code, output = analyze_verify(installed_root, broken)
    finally:
        broken.unlink()
    assert "notifyy" in output


# ---------------------------------------------------------------------------------------------- unit content
def test_kiosk_unit_is_a_watched_notify_service_with_a_start_limit():
    unit = SYSTEMD / "dvc-kiosk.service"
    assert values(unit, "Service", "Type") == ["notify"]
    assert values(unit, "Service", "WatchdogSec") == ["30"]
    assert values(unit, "Service", "NotifyAccess") == ["all"]  # the app is cage's child
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert int(values(unit, "Unit", "StartLimitBurst")[0]) >= 3
    assert int(values(unit, "Unit", "StartLimitIntervalSec")[0]) > 0
    assert values(unit, "Install", "WantedBy") == ["graphical.target"]


def test_app_restart_exit_code_restarts_the_unit():
    # Read the constant without importing Kivy into the test process (one Kivy app per process).
    import ast

    tree = ast.parse((REPO_ROOT / "kiosk" / "appliance" / "runtime.py").read_text())  # technician and pushed restarts
    EXIT_RESTART = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                        and any(getattr(t, "id", "") == "EXIT_RESTART" for t in node.targets))
    unit = SYSTEMD / "dvc-kiosk.service"
    assert values(unit, "Service", "RestartForceExitStatus") == [str(EXIT_RESTART)]
    assert values(unit, "Service", "SuccessExitStatus") == [str(EXIT_RESTART)]


def test_kiosk_unit_runs_unprivileged_and_hardened():
    unit = SYSTEMD / "dvc-kiosk.service"
    assert values(unit, "Service", "User") == [provision.KIOSK_USER]
    for key, expected in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                          ("ProtectHome", "yes"), ("CapabilityBoundingSet", "")):
        assert values(unit, "Service", key) == [expected], key
    writable = " ".join(values(unit, "Service", "ReadWritePaths")).split()
    assert set(writable) == {"/var/lib/dvc-kiosk", "/var/log/dvc-kiosk"}


def test_kiosk_unit_flushes_the_outbox_on_stop():
    unit = SYSTEMD / "dvc-kiosk.service"
    assert values(unit, "Service", "KillSignal") == ["SIGTERM"]
    stop_post = values(unit, "Service", "ExecStopPost")
    assert stop_post and stop_post[0].startswith("-") and stop_post[0].endswith("dvc-kiosk-session flush")
    assert int(values(unit, "Service", "TimeoutStopSec")[0]) >= 20


# ---------------------------------------------------------------------------------------------- session script
@pytest.fixture
def fake_bin(tmp_path) -> Path:
    """A `cage` and a `kiosk` that record how they were called."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("cage", "kiosk"):
        script = bindir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls"\n')
        script.chmod(0o755)
    return bindir


def run_session(fake_bin: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    environment = {"PATH": f"{fake_bin}:/usr/bin:/bin", "KIOSK_BIN": str(fake_bin / "kiosk"), **env}
    proc = subprocess.run(["sh", str(SYSTEMD / "dvc-kiosk-session"), *args], env=environment, capture_output=True,
                          text=True, timeout=30)
    calls = fake_bin.parent / "calls"
    return proc.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_session_runs_the_app_inside_cage_without_vt_switching(fake_bin):
    code, calls = run_session(fake_bin, "run")
    assert code == 0
    assert calls == [f"cage -d -- {fake_bin / 'kiosk'} run"]


def test_session_allows_vt_switching_only_when_asked(fake_bin):
    _, calls = run_session(fake_bin, "run", DVC_KIOSK_ALLOW_VT_SWITCH="1")
    assert calls[0].startswith("cage -d -s -- ")


def test_session_flush_sends_the_outbox(fake_bin):
    code, calls = run_session(fake_bin, "flush")
    assert code == 0 and calls == ["kiosk outbox retry --json"]


def test_session_refuses_a_missing_kiosk_command(fake_bin, tmp_path):
    proc = subprocess.run(["sh", str(SYSTEMD / "dvc-kiosk-session"), "run"],
                          env={"PATH": "/usr/bin:/bin", "KIOSK_BIN": str(tmp_path / "nope")}, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1 and "kiosk provision" in proc.stderr


# ---------------------------------------------------------------------------------------------- udev
_TOKEN = re.compile(r'\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
_MATCH_ONLY = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "KERNELS", "DRIVER", "DRIVERS", "TEST"}


def parse_rule(line: str) -> list[tuple[str, str, str]]:
    tokens, pos = [], 0
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        assert m, f"cannot parse udev rule at {line[pos:]!r}"
        tokens.append(m.groups())
        pos = m.end()
    return tokens


def test_udev_rules_are_well_formed_and_grant_only_the_kiosk_group():
    rules = [line for line in (SYSTEMD / "99-dvc-kiosk.rules").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    covered = set()
    for line in rules:
        tokens = parse_rule(line)
        for key, op, value in tokens:
            base = key.split("{")[0]
            if base in _MATCH_ONLY:
                assert op in ("==", "!="), f"{key} can only be matched: {line}"
            if base == "GROUP":
                assert (op, value) == ("=", provision.KIOSK_USER)
            if base == "MODE":
                assert value == "0660"
            if base in ("SUBSYSTEM", "KERNEL") and op == "==":
                covered.add(value)
        assert any(op in ("==", "!=") for _, op, _ in tokens) or tokens[0][0] == "LABEL", line
    # Scanners, USB printers, serial devices, HID readers and cameras are all given to the kiosk user.
    assert {"usb", "tty", "input", "video4linux"} <= covered
    assert any('ENV{libsane_matched}=="yes"' in line for line in rules)


@pytest.mark.skipif(subprocess.run(["udevadm", "verify", "--help"], capture_output=True).returncode != 0
                    if shutil.which("udevadm") else True, reason="udevadm verify needs systemd >= 254")
def test_udev_rules_pass_udevadm_verify():
    proc = subprocess.run(["udevadm", "verify", str(SYSTEMD / "99-dvc-kiosk.rules")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_provisioning_rewrites_the_udev_group_for_another_user(tmp_path):
    plan = provision.Plan(root=tmp_path, site={}, kiosk_user="kiosk-hue", kiosk_bin="/usr/bin/kiosk")
    files = {path.name: data for path, data, _ in provision.installed_files(plan)}
    assert b'GROUP="kiosk-hue"' in files["99-dvc-kiosk.rules"] and b'"dvc-kiosk"' not in files["99-dvc-kiosk.rules"]
    assert b"User=kiosk-hue" in files["dvc-kiosk.service"]


# ---------------------------------------------------------------------------------------------- sd_notify
@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_ready_and_stopping_reach_systemd(notify_socket):
    assert watchdog.ready("Sẵn sàng")
    assert notify_socket.recv(4096).decode().split("\n") == ["READY=1", "STATUS=Sẵn sàng"]
    assert watchdog.stopping()
    assert notify_socket.recv(4096) == b"STOPPING=1"


def test_watchdog_pings_at_most_every_half_period(notify_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    now = [100.0]
    dog = watchdog.Watchdog(clock=lambda: now[0])
    assert dog.enabled and dog.period == 30
    sent = []
    for step in range(0, 61):  # a UI loop ticking every second for a minute
        now[0] = 100.0 + step
        if dog.ping():
            sent.append(now[0])
    assert sent == [100.0, 115.0, 130.0, 145.0, 160.0]
    notify_socket.setblocking(False)
    received = []
    while True:
        try:
            received.append(notify_socket.recv(64))
        except BlockingIOError:
            break
    assert received == [b"WATCHDOG=1"] * 5


def test_abstract_notify_socket(monkeypatch):
    name = f"dvc-kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert watchdog.notify("WATCHDOG=1")
        assert sock.recv(64) == b"WATCHDOG=1"


def test_outside_systemd_everything_is_a_no_op(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert not watchdog.ready()
    dog = watchdog.Watchdog()
    assert not dog.enabled and not dog.ping()
    # A socket that went away is logged, never raised.
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert watchdog.notify("WATCHDOG=1") is False


# ---------------------------------------------------------------------------------------------- outbox master key
from kiosk.appliance import outbox_key  # noqa: E402

DROPIN = SYSTEMD / outbox_key.SHIPPED_DROPIN


def test_the_outbox_key_drop_in_loads_the_encrypted_credential_the_store_reads():
    from kiosk.outbox.store import CREDENTIAL_NAME

    assert values(DROPIN, "Service", "LoadCredentialEncrypted") == [f"{CREDENTIAL_NAME}:{outbox_key.CREDENTIAL_FILE}"]
    assert set(unit_entries(DROPIN)) == {"Service"}


@pytest.fixture
def sealed_root(tmp_path) -> Path:
    """A provisioned root whose outbox credential exists (sealed on the kiosk, copied into the image)."""
    root = tmp_path / "root"
    plan = provision.Plan(root=root, site={}, kiosk_bin="/usr/bin/kiosk")
    assert provision.step_units(plan).status == "done"
    assert provision.step_outbox_key(plan).status == "skipped"  # nothing sealed yet: the outbox.key fallback
    assert not (root / "etc/systemd/system/dvc-kiosk.service.d" / outbox_key.DROPIN_NAME).exists()
    credential = plan.path(outbox_key.CREDENTIAL_FILE)
    credential.parent.mkdir(parents=True)
    credential.write_bytes(b"sealed")
    result = provision.step_outbox_key(plan)
    assert result.status == "done" and outbox_key.DROPIN_NAME in result.detail
    assert provision.step_outbox_key(plan).status == "unchanged"
    return root


@needs_analyze
def test_the_kiosk_unit_with_the_outbox_key_drop_in_passes_verify(sealed_root):
    dropin = sealed_root / "etc/systemd/system/dvc-kiosk.service.d" / outbox_key.DROPIN_NAME
    assert dropin.read_bytes() == DROPIN.read_bytes()
    stock = sealed_root / "usr/lib/systemd/system"
    stock.mkdir(parents=True)
    if HOST_UNITS.is_dir():
        for unit in HOST_UNITS.iterdir():
            if unit.is_file() and not unit.is_symlink():
                shutil.copy(unit, stock / unit.name)
    code, output = analyze_verify(sealed_root, sealed_root / "etc/systemd/system/dvc-kiosk.service")
    assert code == 0 and output == "", output
    broken = dropin.with_name("30-broken.conf")  # the check sees the drop-in's lines
    broken.write_text(DROPIN.read_text().replace("LoadCredentialEncrypted=", "LoadCredentialEncryptd="))
    code, output = analyze_verify(sealed_root, sealed_root / "etc/systemd/system/dvc-kiosk.service")
    broken.unlink()
    assert "LoadCredentialEncryptd" in output


@pytest.fixture
def fake_creds(tmp_path, monkeypatch) -> Path:
    """A `systemd-creds` that records its arguments and 'seals' stdin by prefixing it (no TPM or host key here)."""
    bindir = tmp_path / "credsbin"
    bindir.mkdir()
    script = bindir / "systemd-creds"
    script.write_text(f'#!/bin/sh\necho "$*" > "{tmp_path}/creds-args"\n'
                      'out=""; for a in "$@"; do out="$a"; done\n'
                      '[ -n "$FAIL_SEAL" ] && { echo "no TPM2 and no host key" >&2; exit 1; }\n'
                      '{ printf "SEALED:"; cat; } > "$out"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return tmp_path


def test_seal_pipes_a_new_fernet_key_through_systemd_creds_into_a_private_file(fake_creds, monkeypatch):
    from cryptography.fernet import Fernet

    target = fake_creds / "credstore.encrypted" / "dvc-kiosk-outbox-key"
    assert outbox_key.seal(target) == target
    sealed = target.read_bytes()
    assert sealed.startswith(b"SEALED:")
    Fernet(sealed[len(b"SEALED:"):])  # a valid key went in on stdin, never on the command line
    args = (fake_creds / "creds-args").read_text().split()
    assert args[:3] == ["encrypt", "--name=dvc-kiosk-outbox-key", "-"]
    assert target.stat().st_mode & 0o777 == 0o600
    assert outbox_key.seal(target).read_bytes() == sealed, "an existing key is kept (waiting dossiers need it)"
    other = fake_creds / "credstore.encrypted" / "other"
    monkeypatch.setenv("FAIL_SEAL", "1")
    with pytest.raises(outbox_key.SealFailed, match="no TPM2"):
        outbox_key.seal(other)
    assert sorted(p.name for p in other.parent.iterdir()) == ["dvc-kiosk-outbox-key"]


def test_the_outbox_takes_its_master_key_from_the_credentials_directory(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    from kiosk.outbox.store import KEY_FILE, Outbox, OutboxError

    creds = tmp_path / "run-credentials"  # what systemd mounts for the unit, off the data disk
    creds.mkdir()
    (creds / outbox_key.CREDENTIAL_NAME).write_bytes(Fernet.generate_key() + b"\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    with Outbox(tmp_path / "data") as outbox:
        assert outbox.master_source == "credential"
    assert not (tmp_path / "data" / KEY_FILE).exists(), "no key may be written beside the data"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with Outbox(tmp_path / "fallback") as outbox:  # the documented fallback
        assert outbox.master_source == "file"
    assert (tmp_path / "fallback" / KEY_FILE).stat().st_mode & 0o777 == 0o600
    (creds / outbox_key.CREDENTIAL_NAME).write_bytes(b"short")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    with pytest.raises(OutboxError) as refused:
        Outbox(tmp_path / "data2")
    assert refused.value.code == "key_unreadable"
