"""The identity part of the portal contract: how a citizen who is not logged in with a VNeID code is identified.

Three identity sources, recorded by the portal with every dossier (never chosen by the dossier body):

* ``vneid``   — the citizen approved the login in the VNeID app (a code shown in the app, or the kiosk's QR
  scanned by the app: OpenID Connect device grant, `POST /api/v1/auth/oidc` with the verified ID token).
* ``chip_pa`` — the kiosk read the chip in the ID card and passive authentication passed (SOD signature chains
  to the CSCA, every data-group hash matches). Chip data is *identity*, not authentication (anyone holding the
  card, or a copy of its SOD, can present it), so it is never a login by itself: a chip-identified citizen
  submits through the **assisted path**: a clerk signs in (`POST /api/v1/staff/login`, staff PIN issued by the
  centre, or their own VNeID: `POST /api/v1/staff/login/vneid`), then `POST /api/v1/auth/assisted` opens a
  session *on the citizen's behalf* carrying the chip identity
  and the SOD's SHA-256. The one-time code of that session goes to the clerk's phone (the clerk confirms), and
  every dossier of it is marked assisted (who helped), with the identity source, and flagged for an identity
  check at the counter; its queue ticket goes to the verification counter.
* ``qr_only`` — the chip could not be read: the identity comes from the ID card's front QR (unsigned: weakest),
  assisted path only, always flagged.

Staff see the marks with `GET /api/v1/staff/dossiers/{code}` (staff bearer); the public status look-up
(`GET /api/v1/dossiers/{code}`) does not show them.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiosk.portal.models import DossierView

VERIFICATION_COUNTER = "Quầy xác thực"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class IdentitySource(str, Enum):
    VNEID = "vneid"
    CHIP_PA = "chip_pa"
    QR_ONLY = "qr_only"


class OidcLoginRequest(_Model):
    """The ID token the kiosk received from the identity provider (device grant) and verified itself; the
    portal verifies it again (signature, issuer, audience, expiry) before opening a session."""

    id_token: Annotated[str, StringConstraints(min_length=20, max_length=8192)]
    kiosk_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class StaffLoginRequest(_Model):
    staff_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]
    kiosk_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class StaffVneidLoginRequest(_Model):
    """A clerk or volunteer signs in with their OWN VNeID: the login code their VNeID app shows (mode 1). The
    portal accepts it only for a VNeID account the centre registered as staff (error staff_not_registered)."""

    login_code: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    kiosk_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class StaffMember(_Model):
    staff_id: Annotated[str, StringConstraints(max_length=40)]
    display_name: Annotated[str, StringConstraints(max_length=120)]
    phone_masked: Annotated[str, StringConstraints(max_length=20)] = ""


class StaffLoginResponse(_Model):
    staff_token: Annotated[str, StringConstraints(min_length=16, max_length=256)]
    expires_at: dt.datetime
    staff: StaffMember


class AssistedLoginRequest(_Model):
    """Open a session on a citizen's behalf (staff bearer). `sod_sha256` is required for chip_pa."""

    identity_source: IdentitySource
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    birth_date: dt.date
    sex: Annotated[str, StringConstraints(max_length=10)] = ""
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    sod_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    kiosk_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class DossierStaffView(DossierView):
    """What staff see of a dossier: the public view plus how the citizen was identified."""

    identity_source: IdentitySource = IdentitySource.VNEID
    assisted_by: Annotated[str, StringConstraints(max_length=120)] = ""
    identity_check_required: bool = False
    verification_counter: Annotated[str, StringConstraints(max_length=40)] = ""
    sod_sha256: str | None = Field(default=None, max_length=64)
