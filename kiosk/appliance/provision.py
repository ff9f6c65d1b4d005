"""`kiosk provision`: turn a fresh Debian / Raspberry Pi OS box into a kiosk, and keep it one.

Steps, each reported as done / unchanged / skipped / failed:

1. kiosk user   `useradd --system` (dvc-kiosk), its state and log folders.
2. site config  /etc/dvc-kiosk/kiosk.toml (kiosk id, centre, portal URL and CA, printer, scanner, code reader,
   technician PIN hash), validated with kiosk.appliance.config before it replaces the old file; mode 0640, group kiosk.
3. credentials  /etc/dvc-kiosk/credentials.json from the portal for a one-time enrolment code; mode 0600, owned
   by the kiosk user. Existing credentials for the same kiosk id are kept: re-running never re-enrols.
   Then the seal (issue 14): a key pair made here (seal-key.pem, mode 0600, kiosk user) and a certificate
   signing request, which the portal's CA answers with seal-cert.pem (the kiosk's certificate + the CA's);
   a kiosk enrolled before sealing gets them on its next run.
4. units        systemd units, the cage session script, udev rules, a drop-in naming this install's `kiosk`;
   enabled for graphical.target (the boot target).
5. outbox key   the outbox master key sealed with `systemd-creds encrypt` (TPM2 where there is one) in
   /etc/credstore.encrypted/ and the unit drop-in that loads it (`LoadCredentialEncrypted=`); skipped, with the
   key left in outbox.key beside the data, where systemd-creds is missing or under --root.
6. self-test    kiosk.appliance.doctor's quick checks (no paper moves).

Answers come, later winning: repo defaults < the existing site file < `--from-file` (a kiosk.toml plus an
optional [provision] table: enrolment_code, technician_pin, kiosk_user) < flags (`--kiosk-id`, ...,
`--set section.key=value`). Interactive by default: each value is asked with the current one as the default.
`--non-interactive` never reads stdin (mass roll-out) and fails, naming them, when required answers are
missing (left to the repo defaults they would be the demo's: KIOSK-DEMO-01, a loopback portal, fake drivers).
`--root DIR` writes everything under DIR and runs no system command except offline `systemctl --root` (tests,
image building).

Exit status: 0 nothing failed, 1 a step failed, 2 the answers are invalid.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import grp
import pwd
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO
from collections.abc import Callable, Iterable

log = logging.getLogger("kiosk.appliance.provision")

KIOSK_USER = "dvc-kiosk"
SITE_DIR = Path("/etc/dvc-kiosk")
CONFIG_FILE = SITE_DIR / "kiosk.toml"
CREDENTIALS_FILE = SITE_DIR / "credentials.json"
STATE_DIR = Path("/var/lib/dvc-kiosk")
LOG_DIR = Path("/var/log/dvc-kiosk")
UNIT_DIR = Path("/etc/systemd/system")
UDEV_DIR = Path("/etc/udev/rules.d")
LIBEXEC_DIR = Path("/usr/lib/dvc-kiosk")
SESSION_SCRIPT = LIBEXEC_DIR / "dvc-kiosk-session"
MAIN_UNIT = "dvc-kiosk.service"
SANDBOX_UNIT = "dvc-kiosk-sandbox.service"
UDEV_RULES = "99-dvc-kiosk.rules"
BOOT_TARGET = "graphical.target"
# Groups that, where they exist, hold devices the rules do not cover (DRM render nodes, sound for prompts).
EXTRA_GROUPS = ("video", "render", "audio")


def _systemd_source_dir() -> Path:
    """Where the shipped units live: inside the package (kiosk.resources: the repository's systemd/ in a checkout)."""
    from kiosk import resources

    return resources.resource_path("systemd")


# ---------------------------------------------------------------------------------------------- answers
@dataclasses.dataclass(frozen=True)
class Question:
    """One site setting: where it lives in kiosk.toml, how it is asked, and when it applies."""

    section: str
    key: str
    prompt: str
    flag: str = ""
    applies: Callable[[dict[str, dict[str, Any]]], bool] = lambda site: True
    #: False when the repo default is a real site's answer too (orientation, the system CA, the printer model);
    #: a required question left to the repo default would give the demo's value (KIOSK-DEMO-01, fake drivers).
    required: bool = True

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}"


def _printer(connection: str | None = None) -> Callable[[dict[str, dict[str, Any]]], bool]:
    def applies(site: dict[str, dict[str, Any]]) -> bool:
        p = site.get("printer", {})
        return p.get("driver") == "escpos" and (connection is None or p.get("connection") == connection)

    return applies


QUESTIONS: tuple[Question, ...] = (
    Question("kiosk", "id", "Kiosk id (as registered on the portal, e.g. KIOSK-HN-0042)", "--kiosk-id"),
    Question("kiosk", "centre_name", "One-stop centre name (shown at the top of the screen, in Vietnamese)",
             "--centre-name"),
    Question("kiosk", "commune", "Commune / ward (xã / phường)", "--commune"),
    Question("kiosk", "agency_code", "Agency code on the public-service portal", "--agency-code"),
    Question("kiosk", "orientation", "Screen orientation (landscape/portrait)", "--orientation", required=False),
    Question("portal", "url", "Portal base URL (https://...)", "--portal-url"),
    Question("portal", "ca_file", "Portal CA certificate file (empty: the system CAs)", "--portal-ca", required=False),
    Question("printer", "driver", "Receipt printer driver (escpos/fake)", "--printer"),
    Question("printer", "connection", "Printer connection (usb/serial/network/cups/file)", "--printer-connection",
             _printer()),
    Question("printer", "profile", "Printer model (python-escpos profile, e.g. TM-T20II)", "--printer-profile",
             _printer(), required=False),
    Question("printer", "width_dots", "Print head width in dots (58 mm: 384; 80 mm: 512-576)", "--printer-width",
             _printer(), required=False),
    Question("printer", "host", "Printer IP address", "--printer-host", _printer("network")),
    Question("printer", "port", "Printer TCP port", "--printer-port", _printer("network"), required=False),
    Question("printer", "serial_device", "Printer serial device (e.g. /dev/ttyUSB0)", "--printer-serial",
             _printer("serial")),
    Question("printer", "usb_vendor", "Printer USB vendor id (decimal or 0x..., as lsusb shows)", "", _printer("usb")),
    Question("printer", "usb_product", "Printer USB product id", "", _printer("usb")),
    Question("printer", "cups_queue", "Printer CUPS queue (raw)", "--printer-queue", _printer("cups")),
    Question("scanner", "driver", "Document scanner driver (sane/fake)", "--scanner"),
    Question("scanner", "device", "SANE device name (empty: the first one found)", "--scanner-device",
             lambda site: site.get("scanner", {}).get("driver") == "sane", required=False),
    Question("code_reader", "driver", "QR code reader driver (camera/hid/serial/fake)", "--code-reader"),
    Question("code_reader", "device", "Code reader device (camera number, /dev/input/by-id/..., /dev/ttyACM0)",
             "--code-reader-device", lambda site: site.get("code_reader", {}).get("driver") != "fake"),
)
_BY_DOTTED = {q.dotted: q for q in QUESTIONS}
# Written by provisioning whatever the answers: where the units expect things to be.
FIXED = {"portal": {"credentials_file": str(CREDENTIALS_FILE)},
         "kiosk": {"data_dir": str(STATE_DIR), "log_dir": str(LOG_DIR)}}


class ProvisionError(Exception):
    """The answers cannot be used (exit status 2); the message tells the technician which and why."""


@dataclasses.dataclass
class StepResult:
    name: str
    status: str  # done | unchanged | skipped | failed
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Plan:
    """Everything provisioning needs, resolved from defaults, the existing site, the file and the flags."""

    root: Path
    site: dict[str, dict[str, Any]]
    enrolment_code: str = ""
    technician_pin: str = ""
    kiosk_user: str = KIOSK_USER
    kiosk_bin: str = ""
    self_test: bool = True

    def path(self, absolute: Path) -> Path:
        """`absolute` under the provisioning root."""
        return self.root / absolute.relative_to("/")

    @property
    def real_system(self) -> bool:
        """True when provisioning the running machine itself (root "/"): users, owners and services are real."""
        return self.root.resolve() == Path("/")


# ---------------------------------------------------------------------------------------------- reading answers
def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        raise ProvisionError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ProvisionError(f"{path}: cannot read: {e.strerror}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _set(site: dict[str, dict[str, Any]], dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    if not section or not key:
        raise ProvisionError(f"--set {dotted}: use section.key=value, e.g. printer.host=10.0.0.5")
    site.setdefault(section, {})[key] = value


def _flag_values(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    site: dict[str, dict[str, Any]] = {}
    for q in QUESTIONS:
        if q.flag:
            value = getattr(args, q.flag.lstrip("-").replace("-", "_"), None)
            if value is not None:
                _set(site, q.dotted, value)
    for item in getattr(args, "set", None) or []:
        dotted, sep, value = item.partition("=")
        if not sep:
            raise ProvisionError(f"--set {item}: use section.key=value")
        dotted, value = dotted.strip(), value.strip()
        if dotted.rpartition(".")[2] in _USB_IDS:
            try:
                value = int(value, 0)  # 0x04b8 as lsusb prints it
            except ValueError:
                raise ProvisionError(f"--set {item}: a USB id is a number such as 0x04b8") from None
        _set(site, dotted, value)
    return site


def _validate(site: dict[str, dict[str, Any]], where: str = "") -> dict[str, dict[str, Any]]:
    """Check `site` with kiosk.appliance.config exactly as the kiosk will load it; returns the values typed as the
    config types them (so "576" from a flag is written as the integer 576)."""
    from kiosk.appliance import config
    defaults = _read_toml(config.defaults_file())
    try:
        settings = config.Settings(**_merge(defaults, site))
    except Exception as e:  # pydantic ValidationError
        errors: list[dict[str, Any]] = getattr(e, "errors", lambda: [])()
        lines = [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in errors] or [f"  {e}"]
        raise ProvisionError("invalid site settings" + (f" ({where})" if where else "") + ":\n"
                             + "\n".join(lines)) from e
    typed: dict[str, dict[str, Any]] = {}
    for section, values in site.items():
        model = getattr(settings, section, None)
        for key in values:
            value = getattr(model, key)
            typed.setdefault(section, {})[key] = str(value) if isinstance(value, Path) else value
    return typed


class Prompter:
    """Asks questions on a text stream with the current value as default; re-asks until the answer is valid."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin, self.stdout = stdin, stdout

    def ask(self, prompt: str, default: str, check: Callable[[str], str | None] = lambda _: None) -> str:
        while True:
            self.stdout.write(f"{prompt} [{default}]: " if default != "" else f"{prompt}: ")
            self.stdout.flush()
            line = self.stdin.readline()
            if line == "":
                raise ProvisionError("input ended before every question was answered")
            answer = line.strip() or default
            problem = check(answer)
            if problem is None:
                return answer
            self.stdout.write(f"  -> {problem}\n")

    def confirm(self, prompt: str, default: bool = False) -> bool:
        answer = self.ask(prompt + (" (Y/n)" if default else " (y/N)"), "y" if default else "n",
                          lambda a: None if a.lower() in ("c", "k", "y", "n", "yes", "no", "có", "không")
                          else "y or n")
        return answer.lower() in ("c", "y", "yes", "có")


def _field_check(q: Question) -> Callable[[str], str | None]:
    from kiosk.appliance import config
    model = {"kiosk": config.KioskSection, "portal": config.PortalSection, "printer": config.PrinterSection,
             "scanner": config.ScannerSection, "code_reader": config.CodeReaderSection}[q.section]

    def check(answer: str) -> str | None:
        value: Any = answer
        if q.key in _USB_IDS:
            try:
                value = int(answer, 0)
            except ValueError:
                return "a number, e.g. 0x04b8"
        try:
            model(**{q.key: value})
        except Exception as e:  # pydantic ValidationError
            errors: list[dict[str, Any]] = getattr(e, "errors", lambda: [])()
            return errors[0]["msg"] if errors else str(e)
        return None

    return check


_USB_IDS = ("usb_vendor", "usb_product")


def _display(key: str, value: Any) -> str:
    """A current value as the prompt's default: USB ids in hex, as lsusb shows them."""
    if key in _USB_IDS and isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:04x}"
    return "" if value is None else str(value)


def _interactive(site: dict[str, dict[str, Any]], given: dict[str, dict[str, Any]], prompter: Prompter) -> None:
    """Ask every question that applies and was not answered by a flag (in order: later ones depend on earlier)."""
    for q in QUESTIONS:
        if q.key in given.get(q.section, {}) or not q.applies(site):
            continue
        current = site.get(q.section, {}).get(q.key, "")
        answer = prompter.ask(q.prompt, _display(q.key, current), _field_check(q))
        _set(site, q.dotted, int(answer, 0) if q.key in _USB_IDS else answer)


def missing_answers(site: dict[str, dict[str, Any]], answered: dict[str, dict[str, Any]]) -> list[str]:
    """The required questions that apply to `site` and that nobody answered (the site file, the answers file or
    a flag), each as "section.key (--flag)": left to the repo defaults they would be the demo's settings."""
    missing = []
    for q in QUESTIONS:
        if q.required and q.applies(site) and q.key not in answered.get(q.section, {}):
            missing.append(f"{q.dotted} ({q.flag})" if q.flag else q.dotted)
    return missing


def build_plan(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> Plan:
    """Resolve every answer (see the module doc for the order) and validate it with kiosk.appliance.config."""
    from kiosk.appliance import config
    root = Path(getattr(args, "root", None) or "/")
    plan = Plan(root=root, site={})
    existing = _read_toml(plan.path(CONFIG_FILE))
    answers_file = getattr(args, "from_file", None)
    if answers_file and not Path(answers_file).is_file():
        raise ProvisionError(f"{answers_file}: no such file")
    from_file = _read_toml(Path(answers_file)) if answers_file else {}
    provision = from_file.pop("provision", {})
    if not isinstance(provision, dict):
        raise ProvisionError(f"{args.from_file}: [provision] must be a table")
    given = _flag_values(args)
    defaults = _read_toml(config.defaults_file())
    # Start from the repo defaults for the asked keys, so the site file states every site choice explicitly.
    site: dict[str, dict[str, Any]] = {}
    for q in QUESTIONS:
        if q.key in defaults.get(q.section, {}):
            _set(site, q.dotted, defaults[q.section][q.key])
    site = _merge(_merge(_merge(site, existing), from_file), given)
    interactive = not getattr(args, "non_interactive", False)
    prompter = Prompter(stdin or sys.stdin, stdout or sys.stdout)
    if interactive:
        _interactive(site, given, prompter)
    site = _merge(site, FIXED)
    plan.site = _validate(site, "answers")
    plan.enrolment_code = (getattr(args, "enrolment_code", None) or str(provision.get("enrolment_code", ""))).strip()
    plan.technician_pin = str(provision.get("technician_pin", "")).strip()
    if getattr(args, "technician_pin_stdin", False):
        from kiosk.appliance.technician import read_pin_from

        plan.technician_pin = read_pin_from(stdin or sys.stdin, prompt="")
    plan.kiosk_user = getattr(args, "kiosk_user", None) or str(provision.get("kiosk_user", KIOSK_USER))
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", plan.kiosk_user):
        raise ProvisionError(f"kiosk user {plan.kiosk_user!r}: use lower-case letters, digits, - and _ (max 32)")
    plan.kiosk_bin = getattr(args, "kiosk_bin", None) or _installed_kiosk_bin()
    plan.self_test = not getattr(args, "no_self_test", False) and bool(provision.get("self_test", True))
    if interactive:
        _ask_secrets(plan, prompter, stdin or sys.stdin)
    if plan.technician_pin:
        from kiosk.appliance.technician import InvalidPin, check_pin_shape

        try:
            check_pin_shape(plan.technician_pin)
        except InvalidPin as e:
            raise ProvisionError(f"technician PIN: {e}") from None
    if not interactive:  # checked last: an invalid answer is the more precise message
        missing = missing_answers(plan.site, _merge(_merge(existing, from_file), given))
        if missing:
            raise ProvisionError("--non-interactive: these answers are missing (give them in --from-file, as "
                                 "flags or with --set): " + ", ".join(missing))
    return plan


def _ask_secrets(plan: Plan, prompter: Prompter, stdin: TextIO) -> None:
    """Interactive only: the enrolment code when there are no credentials yet, and the technician PIN."""
    from kiosk.appliance.technician import InvalidPin, check_pin_shape, is_valid_hash, read_pin_from

    if not plan.enrolment_code and _current_credentials(plan) is None:
        plan.enrolment_code = prompter.ask("Enrolment code (one-time, from the portal admin)", "")
    has_pin = is_valid_hash(plan.site.get("kiosk", {}).get("technician_pin_hash", ""))
    if plan.technician_pin or (has_pin and not prompter.confirm("Change the technician PIN?")):
        return
    while True:
        pin = read_pin_from(stdin, prompt="New technician PIN (6-12 digits): ")
        again = read_pin_from(stdin, prompt="Technician PIN again: ")
        try:
            check_pin_shape(pin)
        except InvalidPin as e:
            prompter.stdout.write(f"  -> {e}\n")
            if pin == "" and again == "":
                raise ProvisionError("input ended before the technician PIN was set") from None
            continue
        if pin == again:
            plan.technician_pin = pin
            return
        prompter.stdout.write("  -> The two PINs differ.\n")


def _installed_kiosk_bin() -> str:
    """The `kiosk` entry point of this installation (a venv's bin/ or /usr/bin)."""
    beside = Path(sys.executable).with_name("kiosk")
    if beside.exists():
        return str(beside)
    return shutil.which("kiosk") or "/usr/bin/kiosk"


# ---------------------------------------------------------------------------------------------- file helpers
def _write_if_changed(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> bool:
    """Atomically write `data` unless the file already holds it; fix mode and owner either way. True if written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    if (path.stat().st_mode & 0o7777) != mode:
        os.chmod(path, mode)
    if owner is not None:
        st = path.stat()
        if (st.st_uid, st.st_gid) != owner:
            os.chown(path, *owner)
    return not same


def _kiosk_ids(plan: Plan) -> tuple[int, int] | None:
    """uid/gid of the kiosk user on a real system; None under --root (files keep the caller's owner)."""
    if not plan.real_system:
        return None
    try:
        entry = pwd.getpwnam(plan.kiosk_user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _run(cmd: list[str]) -> tuple[bool, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"{cmd[0]}: {e}"
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()[-300:]


# ---------------------------------------------------------------------------------------------- steps
def render_site_config(site: dict[str, dict[str, Any]]) -> bytes:
    import tomli_w

    header = ("# DVC Kiosk site configuration, written by `kiosk provision`.\n"
              "# Re-running it keeps every value here unless told otherwise; "
              "edit with care and run `kiosk doctor`.\n\n")
    rank = {name: i for i, name in enumerate(("kiosk", "portal", "printer", "scanner", "code_reader"))}
    ordered = {section: dict(sorted(site[section].items()))
               for section in sorted(site, key=lambda name: (rank.get(name, len(rank)), name))}
    return (header + tomli_w.dumps(ordered)).encode("utf-8")


def step_site_config(plan: Plan) -> StepResult:
    from kiosk.appliance import config
    from kiosk.appliance.technician import hash_pin, verify_pin

    target = plan.path(CONFIG_FILE)
    existing = _read_toml(target)
    site = plan.site
    # The same PIN again (a re-run from the same file) keeps its hash, so the file is not rewritten.
    current_hash = str(site.get("kiosk", {}).get("technician_pin_hash", ""))
    if plan.technician_pin and not verify_pin(plan.technician_pin, current_hash):
        site.setdefault("kiosk", {})["technician_pin_hash"] = hash_pin(plan.technician_pin)
    # Keys a technician added by hand (not asked here) survive a re-run.
    site = _merge(existing, site)
    data = render_site_config(site)
    tmp = target.with_name(f".{target.name}.check")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    try:
        config.load(tmp)
    except config.ConfigError as e:
        return StepResult("site config", "failed", f"the rendered file does not load: {e}")
    finally:
        tmp.unlink(missing_ok=True)
    ids = _kiosk_ids(plan)
    written = _write_if_changed(target, data, 0o640, (0, ids[1]) if ids else None)
    os.chmod(target.parent, 0o755)
    plan.site = site
    return StepResult("site config", "done" if written else "unchanged", str(target))


def useradd_command(plan: Plan) -> list[str]:
    groups = [g for g in EXTRA_GROUPS if _group_exists(g)]
    cmd = ["useradd", "--system", "--user-group", "--home-dir", str(STATE_DIR), "--no-create-home",
           "--shell", "/usr/sbin/nologin", "--comment", "DVC Kiosk"]
    if groups:
        cmd += ["--groups", ",".join(groups)]
    return cmd + [plan.kiosk_user]


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def step_kiosk_user(plan: Plan) -> StepResult:
    detail = ""
    if plan.real_system:
        try:
            pwd.getpwnam(plan.kiosk_user)
            status = "unchanged"
        except KeyError:
            ok, out = _run(useradd_command(plan))
            if not ok:
                return StepResult("kiosk user", "failed", f"useradd failed: {out}")
            status = "done"
    else:
        status, detail = "skipped", "simulated under --root: " + " ".join(useradd_command(plan))
    ids = _kiosk_ids(plan)
    for folder, mode in ((STATE_DIR, 0o700), (LOG_DIR, 0o750)):
        path = plan.path(folder)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        if ids:
            os.chown(path, *ids)
    return StepResult("kiosk user", status, detail or plan.kiosk_user)


def _current_credentials(plan: Plan) -> Any:
    from kiosk.appliance.fleet import load_credentials

    credentials = load_credentials(plan.path(CREDENTIALS_FILE))
    kiosk_id = plan.site.get("kiosk", {}).get("id")
    return credentials if credentials is not None and credentials.kiosk_id == kiosk_id else None


ENROLMENT_MESSAGES = {
    "enrolment_code_unknown": "The portal does not know this enrolment code: check it, or ask the portal admin.",
    "enrolment_code_expired": "The enrolment code has expired: ask the portal admin for a new one.",
    "enrolment_code_used": "The enrolment code was used by another kiosk: ask the portal admin for a new one.",
}


def _portal_client(plan: Plan) -> Any:
    from kiosk.portal.client import PortalClient

    portal = plan.site["portal"]
    return PortalClient(portal["url"], kiosk_id=plan.site["kiosk"]["id"], ca_file=portal.get("ca_file") or None,
                        connect_timeout=float(portal.get("connect_timeout", 3.0)),
                        read_timeout=float(portal.get("read_timeout", 15.0)))


def _seal_ready(plan: Plan) -> bool:
    """The seal key and a certificate for it naming this kiosk id are in place."""
    from kiosk.outbox import seal

    folder = plan.path(CREDENTIALS_FILE).parent
    try:
        key = seal.load_key(folder / seal.KEY_FILE)  # the same reader the outbox uses
        cert = seal.read_certificates(folder / seal.CERT_FILE)[0]
    except (OSError, seal.SealError, IndexError):
        return False
    return seal.certificate_matches(key, cert) and seal.certificate_kiosk_id(cert) == plan.site["kiosk"]["id"]


def _enrol_seal(plan: Plan, credentials: Any, ids: tuple[int, int] | None) -> str:
    """Issue 14: the kiosk's seal key (made here, mode 0600, reused when a run was cut short) and its certificate
    from the portal's CA, beside credentials.json. Returns "" when done, else why it failed."""
    from kiosk.outbox import seal
    from kiosk.portal.client import PortalError

    try:
        with _portal_client(plan) as client:
            enrol_seal(client, credentials.kiosk_token, plan.path(CREDENTIALS_FILE).parent, owner=ids)
    except (PortalError, seal.SealError) as e:
        return f"{e.code}: the portal did not certify the seal key; re-run `kiosk provision` when it is reachable"
    return ""


def enrol_seal(client: Any, kiosk_token: str, folder: Path, *, owner: tuple[int, int] | None = None) -> None:
    """Make (or reuse) the seal key in `folder`, send its CSR with `client` (a PortalClient for this kiosk id) and
    save the certificate the portal's CA answers. Raises PortalError / SealError."""
    from kiosk.outbox import seal

    key = seal.load_or_create_key(folder / seal.KEY_FILE, owner=owner)
    answer = client.seal_certificate(seal.make_csr(key, client.kiosk_id).decode(), kiosk_token=kiosk_token)
    seal.save_certificate(folder / seal.CERT_FILE, answer.certificate_pem, key, client.kiosk_id, owner=owner)


def step_credentials(plan: Plan) -> StepResult:
    from kiosk.appliance.fleet import save_credentials
    from kiosk.outbox import seal
    from kiosk.portal.client import PortalError

    target = plan.path(CREDENTIALS_FILE)
    ids = _kiosk_ids(plan)
    credentials = _current_credentials(plan)
    if credentials is not None:
        if os.stat(target).st_mode & 0o077:
            os.chmod(target, 0o600)
        if ids and (os.stat(target).st_uid, os.stat(target).st_gid) != ids:
            os.chown(target, *ids)
        if _seal_ready(plan):
            return StepResult("credentials", "unchanged", f"kept {target} and the seal certificate")
        failed = _enrol_seal(plan, credentials, ids)  # enrolled before kiosks sealed their dossiers
        if failed:
            return StepResult("credentials", "failed", f"kept {target}; seal: {failed}")
        return StepResult("credentials", "done", f"kept {target}; seal certificate {seal.CERT_FILE} issued")
    if not plan.enrolment_code:
        return StepResult("credentials", "failed",
                          "no portal credentials for this kiosk id and no enrolment code: pass --enrolment-code "
                          "(or [provision] enrolment_code) from the portal admin")
    try:
        with _portal_client(plan) as client:
            credentials = client.register_kiosk(plan.enrolment_code)
    except PortalError as e:
        advice = ENROLMENT_MESSAGES.get(e.code, "check the portal URL, the network and the CA file")
        return StepResult("credentials", "failed", f"{e.code}: {advice}")
    save_credentials(target, credentials, owner=ids)
    failed = _enrol_seal(plan, credentials, ids)
    if failed:
        return StepResult("credentials", "failed", f"{target} (mode 0600); seal: {failed}")
    return StepResult("credentials", "done", f"{target} (mode 0600), seal key {seal.KEY_FILE} (mode 0600) and "
                                             "its certificate")


def _dropin(plan: Plan) -> bytes:
    return ("# Written by `kiosk provision`: where this installation's `kiosk` command lives.\n"
            "[Service]\n"
            f"Environment=KIOSK_BIN={plan.kiosk_bin}\n"
            f"Environment=KIOSK_CONFIG={CONFIG_FILE}\n").encode()


def installed_files(plan: Plan) -> list[tuple[Path, bytes, int]]:
    """(absolute path on the target, content, mode) of every file the units step installs."""
    source = _systemd_source_dir()
    files = [
        (UNIT_DIR / MAIN_UNIT, (source / MAIN_UNIT).read_bytes(), 0o644),
        (UNIT_DIR / SANDBOX_UNIT, (source / SANDBOX_UNIT).read_bytes(), 0o644),
        (SESSION_SCRIPT, (source / "dvc-kiosk-session").read_bytes(), 0o755),
        (UDEV_DIR / UDEV_RULES,
         (source / UDEV_RULES).read_bytes().replace(b'"dvc-kiosk"', f'"{plan.kiosk_user}"'.encode()), 0o644),
    ]
    for unit in (MAIN_UNIT, SANDBOX_UNIT):
        files.append((UNIT_DIR / f"{unit}.d" / "10-provision.conf", _dropin(plan), 0o644))
    if plan.kiosk_user != KIOSK_USER:
        main_unit = files[0][1].replace(f"User={KIOSK_USER}".encode(), f"User={plan.kiosk_user}".encode())
        files[0] = (files[0][0], main_unit.replace(f"Group={KIOSK_USER}".encode(), f"Group={plan.kiosk_user}".encode()),
                    0o644)
    return files


def _enable_offline(plan: Plan) -> bool:
    """Enable the unit under --root: `systemctl --root` when present, else the symlinks it would make."""
    wants = plan.path(UNIT_DIR / f"{BOOT_TARGET}.wants" / MAIN_UNIT)
    if shutil.which("systemctl"):
        ok, out = _run(["systemctl", f"--root={plan.root}", "enable", MAIN_UNIT])
        if not ok:
            log.warning("systemctl --root enable failed (%s); linking by hand", out)
    changed = False
    if not wants.is_symlink():
        wants.parent.mkdir(parents=True, exist_ok=True)
        wants.symlink_to(UNIT_DIR / MAIN_UNIT)
        changed = True
    default = plan.path(UNIT_DIR / "default.target")
    if not default.is_symlink():
        default.symlink_to(Path("/lib/systemd/system") / BOOT_TARGET)
        changed = True
    return changed


def step_units(plan: Plan) -> StepResult:
    changed = []
    for absolute, data, mode in installed_files(plan):
        if _write_if_changed(plan.path(absolute), data, mode):
            changed.append(absolute.name if absolute.suffix != ".conf" else f"{absolute.parent.name}/{absolute.name}")
    if plan.real_system:
        if not Path("/run/systemd/system").exists():
            return StepResult("units", "failed", "systemd is not running here: cannot enable the kiosk unit")
        for cmd in (["systemctl", "daemon-reload"], ["systemctl", "enable", MAIN_UNIT],
                    ["systemctl", "set-default", BOOT_TARGET], ["systemctl", "disable", "getty@tty1.service"],
                    ["udevadm", "control", "--reload"], ["udevadm", "trigger"]):
            ok, out = _run(cmd)
            if not ok:
                return StepResult("units", "failed", f"{' '.join(cmd)}: {out}")
    elif _enable_offline(plan):
        changed.append(f"enabled for {BOOT_TARGET}")
    return StepResult("units", "done" if changed else "unchanged", ", ".join(changed) or "all up to date")


def step_outbox_key(plan: Plan) -> StepResult:
    """The outbox master key off the data disk: sealed with systemd-creds (TPM2 where there is one) and handed
    to the kiosk by the drop-in systemd/dvc-kiosk-outbox-key.conf. Without systemd-creds, or under --root (a
    credential must be sealed on the machine that will open it), the key stays in outbox.key beside the data."""
    from kiosk.appliance import outbox_key

    credential = plan.path(outbox_key.CREDENTIAL_FILE)
    dropin = UNIT_DIR / f"{MAIN_UNIT}.d" / outbox_key.DROPIN_NAME
    sealed = ""
    if not credential.exists():
        if not plan.real_system:
            return StepResult("outbox key", "skipped", "under --root: seal it on the kiosk itself (`kiosk provision`"
                              " there); until then the master key is outbox.key beside the data")
        try:
            outbox_key.seal(credential)
        except outbox_key.SealFailed as e:
            return StepResult("outbox key", "skipped", f"{e.detail}; the master key stays in outbox.key beside the "
                              "data (kiosk doctor warns)")
        sealed = f"sealed {outbox_key.CREDENTIAL_FILE}"
    written = _write_if_changed(plan.path(dropin), (_systemd_source_dir() / outbox_key.SHIPPED_DROPIN).read_bytes(),
                                0o644)
    if written and plan.real_system:
        ok, out = _run(["systemctl", "daemon-reload"])
        if not ok:
            return StepResult("outbox key", "failed", f"systemctl daemon-reload: {out}")
    changes = [c for c in (sealed, f"{dropin.parent.name}/{dropin.name}" if written else "") if c]
    return StepResult("outbox key", "done" if changes else "unchanged",
                      ", ".join(changes) or f"credential {outbox_key.CREDENTIAL_FILE} in use")


def step_self_test(plan: Plan) -> StepResult:
    if not plan.self_test:
        return StepResult("self-test", "skipped", "--no-self-test")
    try:
        from kiosk.appliance import doctor
    except ImportError:
        return StepResult("self-test", "skipped", "kiosk doctor is not available in this build")
    checks_fn = getattr(doctor, "quick_checks", None) or getattr(doctor, "run_checks", None)
    if checks_fn is None:
        return StepResult("self-test", "skipped", "kiosk doctor has no checks to run")
    from kiosk.appliance import config
    from kiosk.appliance import services as services_module
    overrides: dict[str, Any] = {}
    if not plan.real_system:  # keep the test's state inside the root
        overrides["kiosk"] = {"data_dir": str(plan.path(STATE_DIR)), "log_dir": str(plan.path(LOG_DIR))}
        overrides["portal"] = {"credentials_file": str(plan.path(CREDENTIALS_FILE))}
    try:
        settings = config.load(plan.path(CONFIG_FILE), **overrides)
        services = services_module.build(settings)
    except Exception as e:  # noqa: BLE001 - reported as the step's failure
        return StepResult("self-test", "failed", f"cannot start the kiosk services: {type(e).__name__}: {e}")
    try:
        checks = checks_fn(services)
    finally:
        try:
            services.close()
        except Exception:  # noqa: BLE001
            pass
    failed = [c for c in checks if not getattr(c, "ok", False)]
    summary = ", ".join(f"{getattr(c, 'name', '?')}: {getattr(c, 'severity', '')}" for c in checks)
    simulated: list[str] = getattr(doctor, "simulated_devices", lambda _: [])(settings)
    if simulated:
        log.warning("provision: SIMULATED devices (driver \"fake\"): %s; this kiosk cannot serve citizens with "
                    "them", ", ".join(simulated))
        summary = f"SIMULATED (driver \"fake\"): {', '.join(simulated)}; " + summary
    if failed:
        return StepResult("self-test", "failed",
                          "; ".join(f"{c.name}: {getattr(c, 'detail', '')}" for c in failed) + " (run `kiosk doctor`)")
    return StepResult("self-test", "done", summary)


STEPS: tuple[Callable[[Plan], StepResult], ...] = (step_kiosk_user, step_site_config, step_credentials, step_units,
                                                  step_outbox_key, step_self_test)


def provision(plan: Plan) -> list[StepResult]:
    """Run every step in order; a failing step does not stop the later ones (each is safe on its own), except
    that the self-test is skipped when something before it failed."""
    results: list[StepResult] = []
    for step in STEPS:
        if step is step_self_test and any(r.status == "failed" for r in results):
            results.append(StepResult("self-test", "skipped", "an earlier step failed"))
            continue
        try:
            results.append(step(plan))
        except OSError as e:
            results.append(StepResult(step.__name__.removeprefix("step_").replace("_", " "), "failed",
                                      f"{e.strerror or e}: {e.filename or ''}".strip()))
    return results


def format_results(results: Iterable[StepResult]) -> str:
    rows = [("STEP", "STATUS", "DETAIL")] + [(r.name, r.status.upper(), r.detail) for r in results]
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows)


__all__ = ["build_plan", "missing_answers", "provision", "enrol_seal", "Plan", "StepResult", "ProvisionError",
           "QUESTIONS", "render_site_config", "installed_files", "useradd_command"]
