"""`make wheel-check`: the kiosk as a wheel, installed and run away from the checkout.

1. The checkout's files (tracked and new, not ignored) are copied to a temporary folder outside the checkout and the
   wheel is built there (`python -m build --wheel`, in its own build environment), so nothing left in the checkout
   (an old build/ folder, an editable install) can stand in for what the wheel holds.
2. The wheel must hold every shipped file: the config defaults, the catalogue, holidays, declaration templates, fonts,
   icons, the systemd units, the OpenAPI copy (under kiosk/_resources/, see kiosk/resources.py) and every .py and .kv
   of kiosk/, drivers/ and screens/. One missing file fails the check, naming it.
3. A new venv (no pip of its own, no site packages) gets the wheel with its `sandbox` extra; the dependencies come
   from the package index (or pip's cache), constrained by requirements/appliance.lock when it exists.
4. From a folder outside the checkout, with a site config there (fake devices, data and logs in the temporary
   folder) and no KIOSK_* variables from the caller: every shipped file resolves through kiosk.resources inside the
   venv; `kiosk sandbox` serves a portal; `kiosk doctor --json` passes against it; `kiosk simulate` plays one whole
   citizen session and writes its screenshots, the receipt's and ticket's printer bytes and session.json.

Exit status 0 when all of that holds. The temporary folder is removed unless the check failed or --keep is given.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = Path("requirements") / "appliance.lock"
PACKAGES = ("kiosk", "drivers", "screens")
#: repository folders shipped whole inside the package kiosk._resources (pyproject.toml, package-data)
SHIPPED_DIRS = ("config", "assets", "systemd")
SHIPPED_FILES = ("docs/openapi.json",)
CODE_SUFFIXES = (".py", ".kv")
#: the screenshots `kiosk simulate` takes at the least (one per step it walks through)
MIN_SCREENSHOTS = 10


class CheckFailed(Exception):
    pass


def _say(message: str) -> None:
    print(f"wheel-check: {message}", file=sys.stderr, flush=True)


def source_files(repo: Path = REPO) -> list[str]:
    """The checkout's files as git sees them (tracked and new, not ignored), relative to the repository root."""
    try:
        out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise CheckFailed(f"cannot list the checkout's files with git: {e}") from None
    names = sorted({n for n in out.decode().split("\0") if n})
    return [n for n in names if os.path.lexists(repo / n)]  # deleted but not yet committed: gone


def expected_in_wheel(files: Iterable[str]) -> set[str]:
    """What the wheel must hold, from the checkout's file list."""
    expected: set[str] = set()
    for name in files:
        top = name.split("/", 1)[0]
        if top in SHIPPED_DIRS or name in SHIPPED_FILES:
            expected.add(f"kiosk/_resources/{name}")
        elif top in PACKAGES and name.endswith(CODE_SUFFIXES) and not name.startswith("kiosk/_resources/"):
            expected.add(name)
    return expected


def missing_from_wheel(wheel: Path, expected: set[str]) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        held = set(z.namelist())
    return sorted(expected - held)


def copy_sources(files: Iterable[str], dest: Path, repo: Path = REPO) -> None:
    for name in files:
        src, dst = repo / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)  # kiosk/_resources/* lead to the copy's own config/, assets/, ...
        elif src.is_file():
            shutil.copy2(src, dst)


def _run(cmd: list[str], *, log: Path, timeout: float, stdout: Path | None = None, **kwargs) -> None:
    """Run `cmd`; its output goes to `log` (standard output to `stdout` when given). Non-zero: CheckFailed."""
    with contextlib.ExitStack() as files:
        err = files.enter_context(log.open("w", encoding="utf-8"))
        out = files.enter_context(stdout.open("w", encoding="utf-8")) if stdout else err
        result = subprocess.run(cmd, stdout=out, stderr=err, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise CheckFailed(f"{' '.join(cmd[:3])} ... exited {result.returncode}; the end of {log}:\n{tail}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(work: Path, site: Path) -> dict[str, str]:
    """The caller's environment without anything that could lead back to the checkout or change the config."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("KIOSK_", "KIVY_"))}
    env.update(KIOSK_CONFIG=str(site), KIVY_HOME=str(work / "kivy-home"), KIVY_NO_ARGS="1",
               KIVY_LOG_MODE="PYTHON", PYTHONNOUSERSITE="1", HOME=str(work / "home"))
    (work / "home").mkdir(exist_ok=True)
    return env


_PROBE = r"""
import json, sys
from pathlib import Path
import kiosk, drivers, screens
from kiosk import resources
venv = Path(sys.prefix).resolve()
names = json.loads(sys.argv[1])
outside = [m.__name__ for m in (kiosk, drivers, screens) if venv not in Path(m.__file__).resolve().parents]
missing, elsewhere = [], []
for name in names:
    try:
        path = resources.resource_path(name).resolve()
    except resources.MissingResource:
        missing.append(name)
        continue
    if venv not in path.parents:
        elsewhere.append(f"{name} -> {path}")
kv = sorted(p.name for p in Path(screens.__file__).parent.glob("*.kv"))
print(json.dumps({"outside": outside, "missing": missing, "elsewhere": elsewhere, "kv": kv}))
"""


def check(keep: bool = False) -> Path:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="dvc-kiosk-wheel-")).resolve()
    if REPO == work or REPO in work.parents:
        raise CheckFailed(f"the temporary folder {work} lies inside the checkout; set TMPDIR elsewhere")
    logs = work / "logs"
    logs.mkdir()
    ok = False
    sandbox: subprocess.Popen | None = None
    try:
        # 1. build from a copy
        files = source_files()
        src, dist = work / "src", work / "dist"
        copy_sources(files, src)
        t = time.monotonic()
        _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(src)],
             log=logs / "build.log", timeout=600, cwd=work)
        wheels = sorted(dist.glob("dvc_kiosk-*.whl"))
        if len(wheels) != 1:
            raise CheckFailed(f"expected one wheel in {dist}, found {[w.name for w in wheels]}")
        wheel = wheels[0]
        _say(f"built {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - t:.0f} s")

        # 2. the wheel holds every shipped file
        expected = expected_in_wheel(files)
        missing = missing_from_wheel(wheel, expected)
        if missing:
            raise CheckFailed(f"{len(missing)} file(s) missing from the wheel: {', '.join(missing[:20])}")
        _say(f"the wheel holds all {len(expected)} shipped files")

        # 3. a clean venv with the wheel
        t = time.monotonic()
        venv = work / "venv"
        _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log=logs / "venv.log", timeout=300)
        python = venv / "bin" / "python"
        install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                   f"{wheel}[sandbox]"]
        if (REPO / LOCK).exists():
            install += ["--constraint", str(REPO / LOCK)]
        _run(install, log=logs / "install.log", timeout=1200, cwd=work)
        _say(f"installed into a clean venv in {time.monotonic() - t:.0f} s")

        # 4. run it from outside the checkout
        run_dir = work / "run"
        run_dir.mkdir()
        port = _free_port()
        portal = f"http://127.0.0.1:{port}"
        site = run_dir / "kiosk.toml"
        site.write_text(
            "# wheel-check: fake devices, everything in this folder\n"
            f'[kiosk]\ndata_dir = "{run_dir / "data"}"\nlog_dir = "{run_dir / "log"}"\nfullscreen = false\n'
            f'[portal]\nurl = "{portal}"\n'
            '[scanner]\ndriver = "fake"\n[printer]\ndriver = "fake"\n[code_reader]\ndriver = "fake"\n'
            '[speech]\ndriver = "fake"\n[chip_reader]\ndriver = "fake"\n[keypad]\ndriver = "none"\n',
            encoding="utf-8")
        env = _clean_env(work, site)
        kiosk = str(venv / "bin" / "kiosk")

        names = sorted(n.removeprefix("kiosk/_resources/") for n in expected if n.startswith("kiosk/_resources/"))
        _run([str(python), "-I", "-c", _PROBE, json.dumps(names)], log=logs / "probe.log", stdout=logs / "probe.json",
             timeout=120, cwd=run_dir, env=env)
        found = json.loads((logs / "probe.json").read_text(encoding="utf-8"))
        want_kv = sorted(Path(n).name for n in expected if n.startswith("screens/") and n.endswith(".kv"))
        if found["outside"] or found["missing"] or found["elsewhere"] or found["kv"] != want_kv:
            raise CheckFailed(f"the installed kiosk does not find its files in its venv: {found}")
        _say(f"all {len(names)} shipped files resolve inside the venv through kiosk.resources")

        with (logs / "sandbox.log").open("w", encoding="utf-8") as sandbox_log:
            sandbox = subprocess.Popen([kiosk, "sandbox", "--port", str(port), "--db", str(run_dir / "portal.db")],
                                       cwd=run_dir, env=env, stdout=sandbox_log, stderr=subprocess.STDOUT)
        _wait_for(portal, sandbox, logs / "sandbox.log")

        t = time.monotonic()
        _run([kiosk, "doctor", "--json", "--no-read"], log=logs / "doctor.log", stdout=logs / "doctor.json",
             timeout=300, cwd=run_dir, env=env)
        report = json.loads((logs / "doctor.json").read_text(encoding="utf-8"))
        if not report.get("ok"):
            raise CheckFailed(f"kiosk doctor --json is not ok: {report}")
        _say(f"kiosk doctor --json: ok, {len(report['checks'])} checks, {time.monotonic() - t:.0f} s")

        t = time.monotonic()
        out = run_dir / "simulate"
        _run([kiosk, "simulate", "--portal", portal, "--out", str(out)], log=logs / "simulate.log", timeout=900,
             cwd=run_dir, env=env)
        session = json.loads((out / "session.json").read_text(encoding="utf-8"))
        shots = sorted((out / "screens").glob("*.png"))
        receipt, ticket = out / "receipt.bin", out / "ticket.bin"
        problems = [p for p, bad in (
            ("session.json says the session failed", not session.get("ok")),
            (f"only {len(shots)} screenshots", len(shots) < MIN_SCREENSHOTS),
            ("an empty screenshot", any(s.stat().st_size == 0 for s in shots)),
            ("no receipt bytes", not receipt.exists() or receipt.stat().st_size == 0),
            ("no queue ticket bytes", not ticket.exists() or ticket.stat().st_size == 0),
            ("no dossier code from the portal", not session.get("dossier_code"))) if bad]
        if problems:
            raise CheckFailed(f"kiosk simulate: {'; '.join(problems)} (see {out})")
        _say(f"kiosk simulate: dossier {session['dossier_code']}, {len(shots)} screenshots, receipt "
             f"{receipt.stat().st_size} bytes, ticket {ticket.stat().st_size} bytes, {time.monotonic() - t:.0f} s")
        ok = True
    finally:
        if sandbox is not None:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=15)
            except subprocess.TimeoutExpired:
                sandbox.kill()
        if ok and not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            _say(f"left {work} for a look")
    _say(f"passed in {time.monotonic() - started:.0f} s")
    return work


def _wait_for(portal: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CheckFailed(f"kiosk sandbox exited {proc.returncode}: {log.read_text(encoding='utf-8')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{portal}/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise CheckFailed(f"kiosk sandbox did not answer on {portal} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (wheel, venv, logs, output)")
    args = p.parse_args(argv)
    try:
        check(keep=args.keep)
    except CheckFailed as e:
        _say(f"FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
