"""The sandbox portal: a stand-in for the province/national public-service portal.

It speaks the same API contract as the real portal (docs/openapi.json, generated from kiosk.portal.models), keeps
its state in SQLite plus content-addressed blob files, and can be told to misbehave (kiosk.sandbox.faults)
so the kiosk's retry and outbox paths can be proven. Demos, training and CI use it; nothing else does.

Public API: `start_sandbox(db_path, ...) -> SandboxHandle` (kiosk.sandbox.server), `FaultConfig`
(kiosk.sandbox.faults), `SandboxStore` (kiosk.sandbox.store), `create_app` (kiosk.sandbox.app).
Imports are lazy so `import kiosk.sandbox` stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.sandbox.faults import FaultConfig
    from kiosk.sandbox.server import SandboxHandle, start_sandbox

__all__ = ["FaultConfig", "SandboxHandle", "start_sandbox", "missing_library", "NEEDS_EXTRA"]

#: The sandbox's web stack is the package's `sandbox` extra (pyproject.toml): a production kiosk goes without it.
NEEDS_EXTRA = "the sandbox portal needs the package's 'sandbox' extra: pip install 'dvc-kiosk[sandbox]'"
_LIBRARIES = ("fastapi", "uvicorn")


def missing_library() -> str | None:
    """The first library of the `sandbox` extra that is not installed, or None when the sandbox can run."""
    import importlib.util

    return next((name for name in _LIBRARIES if importlib.util.find_spec(name) is None), None)


def __getattr__(name: str) -> Any:
    if name == "FaultConfig":
        from kiosk.sandbox.faults import FaultConfig

        return FaultConfig
    if name in ("SandboxHandle", "start_sandbox"):
        from kiosk.sandbox import server

        return getattr(server, name)
    raise AttributeError(name)
