"""The outbox master key sealed as a systemd credential, so it is not on the data disk beside the dossiers.

`seal(target)` makes a new random Fernet key and has `systemd-creds encrypt` seal it (TPM2 where the machine has
one, else the host key: systemd-creds' `--with-key=auto`) into `target`, normally
/etc/credstore.encrypted/dvc-kiosk-outbox-key, mode 0600, root's. The plain key only ever passes through a pipe.
The unit drop-in systemd/dvc-kiosk-outbox-key.conf (`LoadCredentialEncrypted=`) then hands the decrypted key to
the kiosk in $CREDENTIALS_DIRECTORY (kiosk.outbox.store.credential_key_path). `kiosk provision` does both (its
"outbox key" step); by hand, as root:

    python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' \\
      | systemd-creds encrypt --name=dvc-kiosk-outbox-key - /etc/credstore.encrypted/dvc-kiosk-outbox-key
    install -D -m 0644 systemd/dvc-kiosk-outbox-key.conf \\
      /etc/systemd/system/dvc-kiosk.service.d/20-outbox-key.conf
    systemctl daemon-reload && systemctl restart dvc-kiosk

Dossiers already waiting under the old `outbox.key` stay readable with it; the outbox deletes that file once the
last of them is delivered.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from collections.abc import Callable

from kiosk.errors import KioskError
from kiosk.outbox.store import CREDENTIAL_NAME  # noqa: F401  (re-exported for the tests)

CREDSTORE = Path("/etc/credstore.encrypted")
CREDENTIAL_FILE = CREDSTORE / CREDENTIAL_NAME
#: The shipped drop-in (systemd/) and where it is installed.
SHIPPED_DROPIN = "dvc-kiosk-outbox-key.conf"
DROPIN_NAME = "20-outbox-key.conf"


class SealFailed(KioskError):
    """The key could not be sealed (no systemd-creds, or it failed); the outbox keeps its key file."""

    code = "outbox_key_not_sealed"


def encrypt_command(target: Path) -> list[str]:
    return ["systemd-creds", "encrypt", f"--name={CREDENTIAL_NAME}", "-", str(target)]


def seal(target: Path = CREDENTIAL_FILE, *, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> Path:
    """Seal a new master key into `target` (kept when it exists: re-sealing would orphan every waiting dossier).
    Raises SealFailed."""
    from cryptography.fernet import Fernet

    if target.exists():
        return target
    if shutil.which("systemd-creds") is None:
        raise SealFailed("systemd-creds is not installed (systemd >= 250)")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.tmp")
    key = Fernet.generate_key()
    try:
        proc = run(encrypt_command(tmp), input=key, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        tmp.unlink(missing_ok=True)
        raise SealFailed(f"systemd-creds: {type(e).__name__}") from None
    finally:
        del key
    if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        message = (proc.stderr or b"").decode(errors="replace").strip()[-200:]
        raise SealFailed(f"systemd-creds encrypt failed: {message or proc.returncode}")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target
