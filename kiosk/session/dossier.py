"""What the session adds to a dossier besides the scans: the filled declaration form (issue 14).

`declaration_document` builds the procedure's tờ khai (kiosk.domain.declaration) from the confirmed form and
the citizen's profile; the session puts it FIRST among the dossier's documents. `declaration_preview` renders
page 1 for the review screen, from the same layout, so the citizen sees the form as it will be sent.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from collections.abc import Mapping

from kiosk.domain import declaration as decl
from kiosk.domain.clock import to_centre

DECLARATION_COMPONENT = "to_khai_dien_tu"
DECLARATION_NAME = "Tờ khai (kiosk điền theo mẫu)"


def declaration_plan(procedure: Any, form: Mapping[str, Any], citizen: Any, config: Any,
                     now: dt.datetime) -> decl.Plan | None:
    template = getattr(procedure, "declaration", None)
    if not template:
        return None
    kiosk = config.kiosk
    agency = getattr(procedure, "agency", "") or ""
    commune = getattr(kiosk, "commune", "") or ""
    if commune and "cấp xã" in agency:
        agency = agency.replace("cấp xã", commune.lower().replace("xã", "xã", 1))
    return decl.layout(template, {k: v for k, v in form.items() if not k.startswith("_")}, citizen=citizen,
                       agency=agency, place=commune, day=to_centre(now).date(), kiosk_id=kiosk.id,
                       form_fields=[f.id for f in getattr(procedure, "form", [])])


def declaration_document(procedure: Any, form: Mapping[str, Any], citizen: Any, config: Any,
                         now: dt.datetime) -> tuple[Any, bytes] | None:
    """(DocumentRef, PDF bytes) of the filled declaration, or None when the procedure has no template."""
    from kiosk.portal.models import DocumentRef

    plan = declaration_plan(procedure, form, citizen, config, now)
    if plan is None:
        return None
    pdf = decl.declaration_pdf(plan, created=now)
    return DocumentRef(component=DECLARATION_COMPONENT, name=DECLARATION_NAME, sha256=decl.declaration_sha256(pdf),
                       size=len(pdf), pages=1), pdf


def declaration_preview(session: Any, dpi: int = 100):
    """Page 1 of the declaration as it will be sent (PIL image), for the review screen; None without one."""
    data, svc = session.data, session.services
    if data.procedure is None:
        return None
    plan = declaration_plan(data.procedure, dict(data.clean_form), data.citizen, svc.config, svc.now())
    return None if plan is None else decl.render_page(plan, dpi)


__all__ = ["declaration_plan", "declaration_document", "declaration_preview", "DECLARATION_COMPONENT"]
