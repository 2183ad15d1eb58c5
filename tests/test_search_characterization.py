"""Search answers, recorded in full: every mode, both audiences, both fusions, ~30 varied queries over the small help
center with the hashing encoder. A change to how search is organised must leave every answer as recorded.

Regenerate the record only for an intended change of behaviour:
    HF_HUB_OFFLINE=1 .venv/bin/python -m tests.test_search_characterization
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.config import Settings
from tests.conftest import RU_RESET_PASSWORD, SMALL_CENTER, write_tree
from tests.fakes import HashingEncoder

RECORD = Path(__file__).with_name("search_characterization.json")

# A Russian version of reset-password, so that one version per translated article is exercised.
TRANSLATION = RU_RESET_PASSWORD

QUERIES = [
    "printer offline", "my printer says offline", "Printer Shows OFFLINE!!", "printer not printing on macOS",
    "windows printers & scanners", "forgot password", "password expired", "reset password", "pasword expird",
    "printr ofline", "zfccdjhl", "ghbynth", "не работает впн", "ошибка подключения vpn", "впн", "пароль истёк",
    "забыл пароль", "сброс пароля", "VPN", "vpn 809", "callback number identity", "agent procedure",
    "asdkjh qwpoeiu", "!!!", "", "   ", "\x00printer\x07 offline", "a", "printer " * 40, "new printer fleet",
    "self-service password page",
]
MODES = ("hybrid", "keyword", "vector")
AUDIENCES = ("public", "internal")
FUSIONS = ("score", "rrf")


def _answer(service, query: str, audience: str, mode: str, lang: str | None) -> dict:
    response = service.search(query, audience=audience, mode=mode, lang=lang)
    return {"query": response.query, "corrected": response.corrected, "category": response.category,
            "category_p": round(response.category_p, 6), "confidence": round(response.confidence, 6),
            "confident": response.confident,
            "hits": [[h.id, round(h.score, 6), h.anchor, h.heading, h.category, h.lang, h.audience,
                      {name: round(value, 6) for name, value in h.parts.items()
                       if mode == "hybrid" or name != "fused"}]
                     for h in response.hits]}


def answers(root: Path) -> dict[str, dict]:
    """Every recorded answer, keyed 'fusion|audience|mode|lang|query'."""
    from indexer.build import build_index
    from search.service import SearchService

    center = write_tree(root / "articles", {**SMALL_CENTER, **TRANSLATION})
    encoder = HashingEncoder()
    out: dict[str, dict] = {}
    for fusion in FUSIONS:
        settings = Settings(articles_dir=center, index_dir=root / f"index-{fusion}", embedding_model="fake-hashing",
                            fusion=fusion)
        build_index(settings, encoder)
        service = SearchService.load(settings.index_dir, settings, encoder)
        try:
            for audience in AUDIENCES:
                for mode in MODES:
                    for lang in (None, "ru"):
                        for query in QUERIES:
                            out[f"{fusion}|{audience}|{mode}|{lang}|{query}"] = _answer(service, query, audience,
                                                                                       mode, lang)
        finally:
            service.close()
    return out


@pytest.fixture(scope="module")
def recorded_now(tmp_path_factory) -> dict[str, dict]:
    return answers(tmp_path_factory.mktemp("characterization"))


@pytest.fixture(scope="module")
def record() -> dict[str, dict]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def test_record_covers_every_query_mode_audience_and_fusion(record):
    assert len(record) == len(FUSIONS) * len(AUDIENCES) * len(MODES) * 2 * len(QUERIES)
    assert any(a["corrected"] for a in record.values()) and any(a["hits"] for a in record.values())
    assert any(not a["hits"] for a in record.values())


@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("mode", MODES)
def test_answers_are_as_recorded(recorded_now, record, fusion, audience, mode):
    prefix = f"{fusion}|{audience}|{mode}|"
    now = {key: value for key, value in recorded_now.items() if key.startswith(prefix)}
    assert now == {key: value for key, value in record.items() if key.startswith(prefix)}


if __name__ == "__main__":  # pragma: no cover - regenerates the record
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}"
                 for key, value in sorted(answers(Path(tmp)).items())]
        RECORD.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
