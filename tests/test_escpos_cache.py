"""The printer database python-escpos parses at import is kept as a pickle in the user's cache
(drivers/escpos_cache.py): what python-escpos then loads must be exactly its own database, and an upgraded
package (a newer capabilities.json) must replace a stale pickle."""
from __future__ import annotations

import os
import pickle

from drivers import escpos_cache


def test_the_cached_database_is_the_librarys_own(tmp_path, monkeypatch) -> None:
    from escpos.capabilities import CAPABILITIES  # parsed by python-escpos itself (or from a pickle it trusts)

    monkeypatch.delenv(escpos_cache.ENV, raising=False)
    monkeypatch.delenv("ESCPOS_CAPABILITIES_FILE", raising=False)
    path = escpos_cache.prepare(tmp_path)
    assert path == escpos_cache.pickle_path(tmp_path) and os.environ[escpos_cache.ENV] == str(tmp_path)
    assert pickle.loads(path.read_bytes()) == CAPABILITIES
    assert "TM-T20II" in CAPABILITIES["profiles"]


def test_a_stale_pickle_is_written_again(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(escpos_cache.ENV, raising=False)
    monkeypatch.delenv("ESCPOS_CAPABILITIES_FILE", raising=False)
    stale = escpos_cache.pickle_path(tmp_path)
    stale.write_bytes(pickle.dumps({"profiles": {}}, protocol=2))
    os.utime(stale, (0, 0))  # older than the package's capabilities.json
    escpos_cache.prepare(tmp_path)
    assert "TM-T20II" in pickle.loads(stale.read_bytes())["profiles"]


def test_a_folder_set_by_the_caller_is_left_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(escpos_cache.ENV, str(tmp_path / "theirs"))
    assert escpos_cache.prepare(tmp_path) is None
    assert not any(tmp_path.iterdir())
