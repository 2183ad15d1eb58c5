"""Stage 3 of a search: the candidates ranked for the chosen mode (the hybrid fuses keyword and vector rankings,
then re-weights by the query's category without burying a clearly stronger passage match), then one result per
translated article."""
from __future__ import annotations

from typing import Mapping

from kb.index.records import IndexedArticle
from kb.fusion import reciprocal_rank_fusion, score_fusion
from kb.prior import apply_category_prior
from search.retrieve import Candidates, Ranking

MODES = ("hybrid", "keyword", "vector")


def is_foreign(language: str | None, article_languages: set[str]) -> bool:
    """The query's language is known and no article is written in it."""
    return language is not None and language not in article_languages


def keyword_weight(language: str | None, article_languages: set[str], weight: float, foreign_factor: float) -> float:
    """The keyword side's weight: lowered by `foreign_factor` when no article is written in the query's language
    (its words then match other languages only by chance)."""
    return weight * foreign_factor if is_foreign(language, article_languages) else weight


def fuse(keyword: Ranking, vector: Ranking, weight: float, fusion: str) -> Ranking:
    """Keyword and vector rankings fused: by reciprocal rank ('rrf') or by weighted scores ('score')."""
    if fusion == "rrf":
        return reciprocal_rank_fusion([[a for a, _ in keyword], [a for a, _ in vector]], weights=[weight, 1.0])
    return score_fusion(vector, keyword, weight)


def rank(mode: str, candidates: Candidates, weight: float, fusion: str, category_of: Mapping[str, str],
         category_p: Mapping[str, float], category_weight: float) -> tuple[Ranking, Ranking]:
    """The ranking `mode` asks for, and the fused ranking it came from (empty unless `mode` is 'hybrid')."""
    if mode == "keyword":
        return candidates.keyword, []
    if mode == "vector":
        return candidates.vector_ranked, []
    fused = fuse(candidates.keyword, candidates.vector_ranked, weight, fusion)
    return apply_category_prior(fused, candidates.vector, category_of, category_p, category_weight), fused


def preferred_languages(reader: str | None, written: str | None) -> list[str | None]:
    """Which language version to show first: a Cyrillic query's own language, else the reader's (a Latin-only query
    is often a product name typed by anyone: "Outlook", "VPN 809")."""
    return [reader, written] if written == "en" else [written, reader]


def one_version_each(ranked: Ranking, prefer: list[str | None], articles: Mapping[str, IndexedArticle],
                     allowed: tuple[str, ...]) -> Ranking:
    """One result per translated article, at its best version's place: the version in the first preferred
    language that has one (the query's language, then the reader's), else the version that ranked."""
    out, seen = [], set()
    for key, score in ranked:
        versions = articles[key].translations
        if not versions:
            out.append((key, score))
            continue
        group = articles[key].group
        if group in seen:
            continue
        seen.add(group)
        visible = {lang: k for lang, k in versions.items() if k in articles and articles[k].audience in allowed}
        choice = next((visible[lang] for lang in prefer if lang and lang in visible), key)
        out.append((choice, score))
    return out


def listed_languages(reader: str | None, written: str | None) -> set[str]:
    """The languages a result list keeps once it holds an article in one of them: the query's (English for a
    Latin-only query) and the reader's. Empty when the query's language cannot be told (Cyrillic without a letter
    only one language uses, or no letters): the list is then kept whole."""
    return {lang for lang in (written, reader) if lang} if written else set()


def without_foreign_tail(ranked: Ranking, languages: set[str], articles: Mapping[str, IndexedArticle]) -> Ranking:
    """`ranked` without the articles in other languages than `languages` that rank below the first article in
    one of them. Articles above it stay: when no article is written in the reader's or the query's language
    (a Ukrainian query, a help center in Russian and English), the best ones in other languages are the answer."""
    def base(key: str) -> str:
        return str(articles[key].lang).split("-")[0]

    first = next((i for i, (key, _) in enumerate(ranked) if base(key) in languages), None)
    if first is None:
        return ranked
    return ranked[:first + 1] + [(key, score) for key, score in ranked[first + 1:] if base(key) in languages]
