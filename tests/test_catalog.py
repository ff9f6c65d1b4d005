"""The procedure catalogue: the bundled data, finding a procedure as a citizen types, fees, and syncing."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.catalog import (
    MAX_FORM_FIELDS, Catalog, CatalogError, CatalogStore, Procedure, fee_for, format_vnd, load_catalog,
    parse_procedures,
)
from kiosk.cli import main as kiosk_main

BUNDLED = Path(__file__).resolve().parent.parent / "config" / "procedures.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(BUNDLED)


def _raw_procedures() -> list[dict]:
    return json.loads(BUNDLED.read_text(encoding="utf-8"))["procedures"]


def _minimal(code: str, name: str, popularity: int = 0, field: str = "Hộ tịch") -> dict:
    return {"code": code, "name": name, "plain": "Giải thích.", "field": field, "popularity": popularity,
            "source": "test"}


# ------------------------------------------------------------------------------------------ bundled data
def test_bundled_catalogue_offers_the_common_commune_procedures(catalog: Catalog) -> None:
    assert len(catalog) >= 15
    for code in ("1.001193", "1.000894", "1.000656", "1.004873", "2.000635", "2.000815", "2.000884",
                 "1.004222", "1.004194", "1.005461", "1.002755", "1.004884", "1.004746"):
        assert catalog.get(code) is not None, code


def test_every_procedure_fits_a_kiosk_screen_and_names_its_source(catalog: Catalog) -> None:
    for p in catalog.procedures:
        assert 1 <= len(p.form) <= MAX_FORM_FIELDS, p.code
        assert p.documents, p.code
        assert p.source.strip(), p.code
        assert p.plain.count(".") <= 3, p.code  # one or two short sentences
        for text in (p.name, p.plain, *(f.label for f in p.form)):
            assert unicodedata.is_normalized("NFC", text)


def test_birth_registration_asks_little_and_scans_two_papers(catalog: Catalog) -> None:
    birth = catalog.get("1.001193")
    assert birth is not None
    assert 5 <= len(birth.form) <= 7
    ids = {f.id for f in birth.form}
    assert {"child_full_name", "child_birth_date", "child_sex", "birth_place", "mother_full_name"} <= ids
    assert any(f.prefill == "citizen.full_name" for f in birth.form)  # the declarant is the logged-in citizen
    scanned = [d for d in birth.documents if d.scan_at_kiosk]
    assert len(scanned) == 2
    assert {d.kind for d in scanned} == {"form", "original"}
    assert birth.processing.same_day


def test_fields_are_ordered_by_use_and_list_their_procedures() -> None:
    cat = Catalog(Procedure.model_validate(p) for p in [
        _minimal("1.000001", "Thủ tục A", 5, "Chứng thực"),
        _minimal("1.000002", "Thủ tục B", 50, "Hộ tịch"),
        _minimal("1.000003", "Thủ tục C", 40, "Chứng thực"),
        _minimal("1.000004", "Thủ tục D", 1, "Cư trú"),
    ])
    assert cat.fields() == ["Hộ tịch", "Chứng thực", "Cư trú"]
    assert [p.code for p in cat.in_field("chung thuc")] == ["1.000003", "1.000001"]
    assert [p.code for p in cat.popular(2)] == ["1.000002", "1.000003"]


def test_get_finds_a_provincial_copy_by_its_national_code() -> None:
    cat = parse_procedures([_minimal("2.000815.000.00.00.H38", "Thủ tục chứng thực bản sao")])
    assert cat.get("2.000815.000.00.00.H38") is cat.get("2.000815") is not None
    assert cat.get("2.000816") is None


# ------------------------------------------------------------------------------------------ search
@pytest.mark.parametrize("query, expected", [
    ("dang ky khai sinh", "1.001193"),
    ("Đăng ký khai sinh", "1.001193"),
    ("khai sinh", "1.001193"),
    ("ket hon", "1.000894"),
    ("kets hoon", "1.000894"),
    ("chung thuc ban sao", "2.000815"),
    ("chungws thuwcj ban sao", "2.000815"),
    ("khia sinh", "1.001193"),  # swapped letters
    ("dang ky tam tru", "1.004194"),
    ("giay doc than", "1.004873"),  # the citizen's words, not the official name
    ("nhap ho khau", "1.004222"),
    ("1.001193", "1.001193"),
    ("001193", "1.001193"),
])
def test_search_puts_the_wanted_procedure_first(catalog: Catalog, query: str, expected: str) -> None:
    hits = catalog.search(query)
    assert hits and hits[0].procedure.code == expected


def test_telex_leftovers_find_both_certification_procedures(catalog: Catalog) -> None:
    codes = [h.procedure.code for h in catalog.search("chungws thuwcj", limit=2)]
    assert sorted(codes) == ["2.000815", "2.000884"]


def test_search_as_you_type_finds_the_procedure_before_the_word_is_finished(catalog: Catalog) -> None:
    for prefix in ("chung thuc b", "chung thuc ban s", "ket h", "dang ky khai s"):
        top = catalog.search(prefix, limit=3)
        assert top, prefix
    assert catalog.search("chung thuc ba")[0].procedure.code == "2.000815"
    assert catalog.search("dang ky khai s")[0].procedure.code == "1.001193"


def test_exact_words_outrank_a_more_popular_typo_match() -> None:
    cat = parse_procedures([
        _minimal("1.000001", "Thủ tục đăng ký kết hôn", popularity=0),
        _minimal("1.000002", "Thủ tục xác nhận kết hợp", popularity=1000),  # 'hợp' is one letter from 'hôn'
    ])
    hits = cat.search("ket hon")
    assert [h.procedure.code for h in hits][:2] == ["1.000001", "1.000002"]
    assert hits[0].score > hits[1].score


def test_search_results_are_ranked_limited_and_empty_for_nonsense(catalog: Catalog) -> None:
    hits = catalog.search("dang ky", limit=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 < h.score <= 1 for h in hits)
    assert catalog.search("") == []
    assert catalog.search("   ") == []
    assert catalog.search("qqqzzzxxx") == []


def test_nfd_query_gives_the_same_results_as_nfc(catalog: Catalog) -> None:
    query = "chứng thực bản sao"
    as_nfd = [h.procedure.code for h in catalog.search(unicodedata.normalize("NFD", query))]
    assert as_nfd == [h.procedure.code for h in catalog.search(query)]


# ------------------------------------------------------------------------------------------ fees
def test_money_uses_the_vietnamese_thousands_separator() -> None:
    assert format_vnd(8000) == "8.000 đ"
    assert format_vnd(1234567) == "1.234.567 đ"
    assert format_vnd(0) == "0 đ"


def test_certified_copy_fee_follows_the_page_tiers_and_cap(catalog: Catalog) -> None:
    copy = catalog.get("2.000815")
    assert copy is not None
    assert fee_for(copy, pages=1).amount_vnd == 2000
    assert fee_for(copy, pages=2).amount_vnd == 4000
    assert fee_for(copy, pages=3).amount_vnd == 5000  # from page 3: 1,000 đ
    assert fee_for(copy, pages=5, copies=2).amount_vnd == 14000
    assert fee_for(copy, pages=400).amount_vnd == 200000  # at most 200,000 đ per copy
    assert fee_for(copy, pages=400, copies=2).text_vi == "400.000 đ"
    before_scan = fee_for(copy)
    assert before_scan.amount_vnd == 0 and "2.000 đ/trang" in before_scan.text_vi


def test_free_fixed_and_per_copy_fees(catalog: Catalog) -> None:
    assert fee_for(catalog.get("1.001193")).text_vi == "Miễn phí"
    assert fee_for(catalog.get("1.001193")).condition  # says when it is free
    assert fee_for(catalog.get("2.000884")).text_vi == "10.000 đ"
    assert fee_for(catalog.get("2.000635"), copies=3).text_vi == "24.000 đ"


def test_kiosk_pays_the_online_rate_where_one_exists(catalog: Catalog) -> None:
    assert fee_for(catalog.get("1.004222")).amount_vnd == 10000  # 20,000 đ at the counter
    assert fee_for(catalog.get("1.004194")).amount_vnd == 7000  # 15,000 đ at the counter


# ------------------------------------------------------------------------------------------ loading
def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "procedures.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_bad_field_is_named_with_its_procedure(tmp_path: Path) -> None:
    items = _raw_procedures()
    items[0]["form"][0]["type"] = "colour"
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, {"procedures": items}))
    message = str(err.value)
    assert items[0]["code"] in message and "form.0.type" in message


@pytest.mark.parametrize("corrupt", [
    lambda items: items[1].update(code="1.001"),
    lambda items: items[1]["form"].extend(items[1]["form"][:1] * 8),
    lambda items: items[2].update(code=items[1]["code"]),
    lambda items: items[1]["fees"].append({"kind": "fixed"}),
    lambda items: items[1]["form"].append({"id": "x", "type": "choice", "label": "Chọn", "choices": ["một"]}),
])
def test_invalid_catalogues_are_refused(tmp_path: Path, corrupt) -> None:
    items = _raw_procedures()
    corrupt(items)
    with pytest.raises(CatalogError):
        load_catalog(_write(tmp_path, {"procedures": items}))


def test_unreadable_files_raise_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "broken.json")
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "missing.json")
    with pytest.raises(CatalogError):
        load_catalog(_write(tmp_path, {"procedures": []}))


# ------------------------------------------------------------------------------------------ store and sync
def test_store_serves_the_bundled_catalogue_until_a_sync_succeeds(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "data", BUNDLED)
    assert store.current().get("1.001193") is not None
    portal_list = [_minimal("1.001193", "Thủ tục đăng ký khai sinh", 9), _minimal("1.999999", "Thủ tục mới", 1)]
    assert store.sync(lambda: portal_list) is True
    assert store.current().get("1.999999") is not None
    # After a reboot, the kiosk starts from the synced copy, not the bundled file.
    assert CatalogStore(tmp_path / "data", BUNDLED).current().get("1.999999") is not None
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["procedures.json"]  # no temp files left


def test_failed_or_invalid_sync_keeps_the_previous_copy(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path, BUNDLED)
    assert store.sync(lambda: [_minimal("1.999999", "Thủ tục mới")])
    saved = (tmp_path / "procedures.json").read_bytes()

    def portal_down() -> list[dict]:
        raise ConnectionError("portal unreachable")

    assert store.sync(portal_down) is False
    assert store.sync(lambda: [{"code": "bad"}]) is False
    assert store.sync(lambda: []) is False
    assert store.current().get("1.999999") is not None
    assert (tmp_path / "procedures.json").read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["procedures.json"]


def test_a_corrupt_synced_copy_falls_back_to_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "procedures.json").write_text("garbage", encoding="utf-8")
    assert CatalogStore(tmp_path, BUNDLED).current().get("1.001193") is not None


# ------------------------------------------------------------------------------------------ command line
def test_cli_search_prints_json_lines(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path))
    assert kiosk_main(["catalog", "search", "kets hoon", "--limit", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    assert lines[0]["code"] == "1.000894" and lines[0]["name"] == "Thủ tục đăng ký kết hôn"
    assert set(lines[0]) == {"code", "name", "score"}


def test_cli_list_shows_every_procedure(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path))
    assert kiosk_main(["catalog", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["code"] for r in rows} == {p["code"] for p in _raw_procedures()}
    assert kiosk_main(["catalog", "list"]) == 0
    assert "Thủ tục đăng ký khai sinh" in capsys.readouterr().out


@settings(max_examples=100, deadline=None)
@given(query=st.text(max_size=60), limit=st.integers(min_value=-1, max_value=20))
def test_search_never_fails_whatever_is_typed(catalog: Catalog, query: str, limit: int) -> None:
    hits = catalog.search(query, limit=limit)
    assert len(hits) <= max(limit, 0)
    assert all(0 < h.score <= 1 for h in hits)


# ------------------------------------------------------------------------------------------ English (issue 12 §5)
def _text_bearing(p: Procedure) -> list[tuple[str, object, object]]:
    """(where, Vietnamese, English) for every text of a procedure a citizen sees or hears."""
    en = p.en
    rows: list[tuple[str, object, object]] = [
        (f"{p.code}.{key}", getattr(p, key), getattr(en, key, None))
        for key in ("name", "plain_name", "plain", "field", "result_name") if getattr(p, key)]
    if p.processing.note:
        rows.append((f"{p.code}.processing.note", p.processing.note, getattr(en, "processing_note", None)))
    rows += [(f"{p.code}.fees[{i}].condition", f.condition, getattr(f.en, "condition", None))
             for i, f in enumerate(p.fees) if f.condition]
    for d in p.documents:
        rows += [(f"{p.code}.{d.id}.{key}", getattr(d, key), getattr(d.en, key, None))
                 for key in ("name", "note") if getattr(d, key)]
    for f in p.form:
        rows += [(f"{p.code}.{f.id}.{key}", getattr(f, key), getattr(f.en, key, None))
                 for key in ("label", "help", "choices") if getattr(f, key)]
    return rows


def test_every_text_of_the_shipped_catalogue_has_plain_english(catalog: Catalog) -> None:
    from kiosk.messages.i18n import is_vietnamese

    rows = [row for p in catalog.procedures for row in _text_bearing(p)]
    assert len(rows) > 250
    missing = [where for where, _vi, en in rows if not en]
    assert not missing, missing
    for where, vi, en in rows:
        pairs = list(zip(vi, en, strict=True)) if isinstance(vi, list) else [(vi, en)]
        for v, e in pairs:
            assert isinstance(e, str) and e.strip() == e and e, where
            assert e != v and not is_vietnamese(e), (where, e)  # translated, not copied: no Vietnamese letters
    for p in catalog.procedures:
        assert p.en is not None and 0 < len(p.en.plain_name or "") <= 30, p.code  # a tile's title
        assert p.en.keywords, p.code  # English words to search with


def test_the_english_leaves_the_vietnamese_as_it_was(catalog: Catalog) -> None:
    """The Vietnamese stays the value (portal, receipt, declaration): the file's own text, NFC."""
    raw = {p["code"]: p for p in _raw_procedures()}
    for p in catalog.procedures:
        r = raw[p.code]
        assert (p.name, p.plain_name, p.plain, p.field) == (r["name"], r["plain_name"], r["plain"], r["field"])
        assert [(f.label, f.choices) for f in p.form] == [(f["label"], f.get("choices", [])) for f in r["form"]]
        assert [d.name for d in p.documents] == [d["name"] for d in r["documents"]]
        for _where, vi, _en in _text_bearing(p):
            for v in vi if isinstance(vi, list) else [vi]:
                assert unicodedata.is_normalized("NFC", v), v
    table = catalog.english()
    assert table["Thủ tục đăng ký khai sinh"] == "Birth registration"
    assert table["Chứng thực bản sao giấy tờ"] == "Certified copy of a paper"
    assert table["Nữ"] == "Female"


def _with_english(**en) -> dict:
    entry = _minimal("1.000001", "Thủ tục đăng ký khai sinh")
    entry["form"] = [{"id": "sex", "type": "choice", "label": "Giới tính", "choices": ["Nam", "Nữ"],
                      "en": en.pop("form_en", {"label": "Sex"})}]
    entry["en"] = en
    return entry


@pytest.mark.parametrize("entry, says", [
    (_with_english(plain_name="Birth"), "no Vietnamese plain_name"),  # nothing to translate
    (_with_english(name="x" * 1001), "at most 1000"),  # the Vietnamese limits
    (_with_english(name="   "), "at least 1"),
    (_with_english(form_en={"choices": ["Male"]}), "1 English texts for 2"),
    (_with_english(form_en={"label": "Sex", "colour": "red"}), "Extra inputs"),
    (_with_english(keywords=["k" * 101]), "at most 100"),
    (_with_english(processing_note="Same day"), "no Vietnamese processing.note"),
])
def test_english_that_does_not_fit_the_vietnamese_is_refused(entry: dict, says: str) -> None:
    with pytest.raises(CatalogError, match="1.000001") as err:
        parse_procedures([entry])
    assert says in str(err.value)


def test_one_vietnamese_text_has_one_english() -> None:
    a = _with_english(name="Birth registration")
    b = {**_with_english(name="Registering a birth"), "code": "1.000002"}
    with pytest.raises(CatalogError, match="two English texts"):
        parse_procedures([a, b])
    assert parse_procedures([a]).english()["Thủ tục đăng ký khai sinh"] == "Birth registration"
    assert parse_procedures([_minimal("1.000003", "Thủ tục mới")]).english() == {}  # no English: none invented


def test_a_synced_catalogue_keeps_its_english(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path, BUNDLED)
    assert store.sync(lambda: _raw_procedures())
    again = CatalogStore(tmp_path, BUNDLED).current()  # as the kiosk reads it after a reboot
    assert again.english() == load_catalog(BUNDLED).english()


@pytest.mark.parametrize("query, expected", [
    ("birth", "1.001193"),
    ("birth registration", "1.001193"),
    ("register a marriage", "1.000894"),
    ("death certificate", "1.000656"),
    ("certified copy", "2.000815"),
    ("signature", "2.000884"),
    ("temporary residence", "1.004194"),
    ("single status", "1.004873"),
    ("guardian", "1.004837"),
    ("mariage", "1.000894"),  # a typo
    ("khai sinh", "1.001193"),  # Vietnamese words still work in English mode
    ("1.001193", "1.001193"),
])
def test_english_mode_finds_procedures_by_english_words(catalog: Catalog, query: str, expected: str) -> None:
    hits = catalog.search(query, lang="en")
    assert hits and hits[0].procedure.code == expected, [h.procedure.code for h in hits]


def test_vietnamese_search_does_not_look_at_the_english(catalog: Catalog) -> None:
    assert catalog.search("birth registration") == []
    for query in ("khai sinh", "chung thuc ban sao", "kets hoon"):
        assert catalog.search(query) == catalog.search(query, lang="vi")
    # "a", "of", "the" do not decide: the English words that say something do
    assert catalog.search("a copy of the", lang="en")[0].procedure.code in ("2.000815", "2.000635")


def test_cli_search_in_english(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path))
    assert kiosk_main(["catalog", "search", "marriage", "--limit", "1", "--lang", "en"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["code"] == "1.000894" and line["name_en"] == "Marriage registration"
    assert line["name"] == "Thủ tục đăng ký kết hôn"
