"""The benchmark report: every benchmark hands its figures to one session-wide collector, and `make bench`
ends with ``out/bench/report.md`` (one table per section: figure, ours, peers side by side, target, met)
and ``out/bench/report.json`` (the same, for machines), under the repository root.

Use it from any benchmark through the ``bench_report`` fixture::

    def test_bench_something(bench_report):
        ...
        bench_report.add("Search", "keystroke latency, median", 1.8, "ms", target="<= 5",
                         peers={"plain substring scan": 14.2}, note="2,000 procedures, best of 3")

``add(section, name, value, unit="", target=None, peers=None, note="")``:

- ``section``: the table the row goes to (rows keep the order they were added in, sections too);
- ``value``: a number (or a short text); ``unit``: printed after numbers ("ms", "%", "MB", ...);
- ``target``: a comparison such as ``">= 95"``, ``"<= 8"``, ``"== 0"`` (``≥``/``≤`` work too); the value
  is checked against it and the row says "yes"/"NO"; any other text is shown as is and marks nothing;
- ``peers``: ``{name: value}`` for the same figure from other implementations, one column each (the
  columns of a section are the union of its rows' peer names);
- ``note``: free text for the row (conditions, counts).

The files are written when the test session ends, only if something was added (a run of unrelated tests
does not clobber the last report). A row added twice (same section and name) replaces the first. Sections
of the last report that this run did not measure are carried over, their title marked *(time of the run
that measured them)*; `make bench` measures all of them in one run.

A missed target is a row marked NO, not a failing test: benchmarks report their figures and assert only
invariants (nothing wrong decoded, every dossier delivered). When a benchmark's assertion fails all the same,
the report gets a row for it in "Failed checks" and, once the report is written, `make bench` still exits 0:
the report is the result. A benchmark that crashes (any other exception, or a setup error) still fails the
run.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest

REPORT_DIR = Path(__file__).resolve().parents[2] / "out" / "bench"
FAILED_CHECKS = "Failed checks (assertions in benchmarks; the run still exits 0 once the report is written)"
_TARGET = re.compile(r"^\s*(>=|<=|==|=|>|<|≥|≤)\s*([-+]?\d+(?:\.\d+)?)")


def target_met(value, target: str | None) -> bool | None:
    """Whether `value` meets `target` (">= 95", "<= 8", "== 0", ...); None when either is not numeric."""
    if target is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    match = _TARGET.match(target)
    if not match or (isinstance(value, float) and math.isnan(value)):
        return None
    op, bound = match.group(1), float(match.group(2))
    return {">=": value >= bound, "≥": value >= bound, "<=": value <= bound, "≤": value <= bound,
            "==": value == bound, "=": value == bound, ">": value > bound, "<": value < bound}[op]


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip() if isinstance(value, (int, float)) and unit else text


class BenchReport:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict]] = {}

    def add(self, section: str, name: str, value, unit: str = "", target: str | None = None,
            peers: dict | None = None, note: str = "") -> None:
        self.rows.setdefault(section, {})[name] = {
            "name": name, "value": value, "unit": unit, "target": target, "peers": dict(peers or {}),
            "met": target_met(value, target), "note": note}

    # ------------------------------------------------------------------ output
    def to_json(self) -> dict:
        return {"written": dt.datetime.now().isoformat(timespec="seconds"),
                "sections": [{"section": s, "rows": list(rows.values())} for s, rows in self.rows.items()]}

    def to_markdown(self) -> str:
        lines = ["# Benchmark report", "", f"Written {dt.datetime.now():%Y-%m-%d %H:%M} by `make bench`.", ""]
        for section, rows in self.rows.items():
            peer_names = list(dict.fromkeys(p for row in rows.values() for p in row["peers"]))
            lines += [f"## {section}", ""]
            header = ["figure", "ours", *peer_names, "target", "met", "note"]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join(["---"] * len(header)) + "|")
            for row in rows.values():
                met = {True: "yes", False: "**NO**", None: ""}[row["met"]]
                cells = [row["name"], _fmt(row["value"], row["unit"]),
                         *(_fmt(row["peers"].get(p), row["unit"]) for p in peer_names),
                         row["target"] or "", met, row["note"]]
                lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
            lines.append("")
        return "\n".join(lines)

    def carry_over(self, directory: Path) -> None:
        """Sections of the last report that this run did not measure (a run of some benchmarks only) are kept,
        after this run's, each marked with the time of the run that measured it. `make bench` runs them all."""
        try:
            last = json.loads((directory / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for section in last.get("sections", []):
            name = section.get("section", "")
            base, stamp = name, last.get("written", "?")
            if name.endswith(")*") and " *(" in name:  # already carried over once: keep its own time
                base, stamp = name[:-2].rsplit(" *(", 1)
            if base not in self.rows:
                self.rows[f"{base} *({stamp})*"] = {row["name"]: row for row in section.get("rows", [])}

    def write(self, directory: Path = REPORT_DIR) -> None:
        if not self.rows:
            return
        self.carry_over(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        (directory / "report.json").write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2),
                                               encoding="utf-8")


_SESSION = BenchReport()  # one per pytest run: the fixture hands it out, the session's end writes it
_OUTCOMES: dict[str, list] = {"assertions": [], "errors": []}


@pytest.fixture(scope="session")
def bench_report():
    yield _SESSION
    _SESSION.write()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or item.get_closest_marker("bench") is None:
        return
    if rep.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        message = str(call.excinfo.value).strip().splitlines()
        _OUTCOMES["assertions"].append((item.nodeid, (message[0] if message else "assertion failed")[:300]))
    else:
        _OUTCOMES["errors"].append(item.nodeid)


@pytest.hookimpl(trylast=True)  # after the session fixtures are torn down (the report written once already)
def pytest_sessionfinish(session, exitstatus):
    for nodeid, message in _OUTCOMES["assertions"]:
        _SESSION.add(FAILED_CHECKS, nodeid.split("::", 1)[-1], "failed", note=message)
    if _OUTCOMES["assertions"]:
        _SESSION.write()
    if (_SESSION.rows and exitstatus == pytest.ExitCode.TESTS_FAILED and _OUTCOMES["assertions"]
            and not _OUTCOMES["errors"]):
        session.exitstatus = pytest.ExitCode.OK
