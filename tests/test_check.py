"""Article parsing and `kb check` findings: each bad input gives its message with the right file and line."""
from __future__ import annotations

from pathlib import Path

from kb.check import load_help_center
from kb.config import Settings
from tests.conftest import CATEGORIES, SMALL_CENTER, write_tree


def check(tmp_path: Path, files: dict[str, str], strict: bool = False, **settings):
    root = write_tree(tmp_path / "articles", {"categories.yml": CATEGORIES, **files})
    return load_help_center(root, Settings(**settings), strict=strict)


def messages(center) -> list[str]:
    return [str(p) for p in center.problems]


def relpath(tmp_path: Path, rel: str) -> str:
    return str(tmp_path / "articles" / rel)


def test_sample_center_is_clean(center: Path):
    result = load_help_center(center, Settings())
    assert result.problems == []
    assert {a.id for a in result.articles} == {"printer-offline", "reset-password", "vpn-oshibka", "agent-only",
                                               "new-printers"}
    vpn = next(a for a in result.articles if a.id == "vpn-oshibka")
    assert vpn.lang == "ru" and vpn.questions == ("не работает впн", "ошибка подключения vpn")
    assert {a.id for a in result.published()} == {"printer-offline", "reset-password", "vpn-oshibka", "agent-only"}


def test_defaults_applied(tmp_path: Path):
    result = check(tmp_path, {"a/x.md": "---\ntitle: X\ncategory: vpn\n---\nBody\n"}, default_lang="uk")
    (article,) = result.articles
    assert (article.id, article.lang, article.audience, article.status) == ("x", "uk", "public", "published")
    assert article.body_line == 5


def test_bad_yaml_reports_its_file_line(tmp_path: Path):
    text = "---\ntitle: X\ncategory: vpn\nquestions:\n  - one\n  - \"quoted\" then text\n---\nBody\n"
    result = check(tmp_path, {"bad.md": text})
    (problem,) = result.errors
    assert problem.path == relpath(tmp_path, "bad.md")
    assert problem.line == 6
    assert "invalid YAML" in problem.message


def test_missing_title_and_category(tmp_path: Path):
    result = check(tmp_path, {"x.md": "---\ntags: [a]\n---\nBody\n"})
    assert sorted(p.message for p in result.errors) == ["missing required field 'category'",
                                                        "missing required field 'title'"]


def test_undeclared_category_points_at_its_line(tmp_path: Path):
    result = check(tmp_path, {"x.md": "---\ntitle: X\n\ncategory: nope\n---\nBody\n"})
    (problem,) = result.errors
    assert problem.line == 4
    assert "category 'nope' is not declared in categories.yml" in problem.message
    assert "printers" in problem.message  # lists the declared ones


def test_duplicate_id_names_both_files(tmp_path: Path):
    result = check(tmp_path, {
        "a/same.md": "---\ntitle: A\ncategory: vpn\n---\nBody\n",
        "b/same.md": "---\ntitle: B\ncategory: vpn\n---\nBody\n",
        "c.md": "---\ntitle: C\ncategory: vpn\nid: same\n---\nBody\n",
    })
    dupes = [p for p in result.errors if "duplicate id 'same'" in p.message]
    assert len(dupes) == 2
    assert all(relpath(tmp_path, "a/same.md") in p.message for p in dupes)
    assert any(p.path == relpath(tmp_path, "c.md") and p.line == 4 for p in dupes)


def test_missing_related_and_broken_link(tmp_path: Path):
    result = check(tmp_path, {
        "x.md": "---\ntitle: X\ncategory: vpn\nrelated: [ghost]\n---\nIntro\n\nSee [y](y.md) and [z](sub/z.md#part).\n"
                "```\n[not a link](inside-code.md)\n```\n",
        "y.md": "---\ntitle: Y\ncategory: vpn\n---\nBody\n",
    })
    assert messages(result) == [
        f"{relpath(tmp_path, 'x.md')}:4: related article 'ghost' does not exist",
        f"{relpath(tmp_path, 'x.md')}:8: link to missing article 'sub/z.md'",
    ]


def test_empty_body(tmp_path: Path):
    result = check(tmp_path, {"x.md": "---\ntitle: X\ncategory: vpn\n---\n\n   \n"})
    (problem,) = result.errors
    assert "article body is empty" in problem.message


def test_non_utf8_file_reports_line_of_bad_byte(tmp_path: Path):
    root = write_tree(tmp_path / "articles", {"categories.yml": CATEGORIES})
    (root / "latin1.md").write_bytes("---\ntitle: X\ncategory: vpn\n---\nCaf\xe9\n".encode("latin-1"))
    result = load_help_center(root, Settings())
    (problem,) = result.errors
    assert problem.line == 5
    assert "not valid UTF-8 (byte 0xe9" in problem.message


def test_file_over_size_limit(tmp_path: Path):
    big = "---\ntitle: X\ncategory: vpn\n---\n" + ("word " * 600)
    result = check(tmp_path, {"big.md": big}, max_article_kb=2)
    (problem,) = result.errors
    assert "over the 2 KiB limit" in problem.message


def test_front_matter_missing_or_unclosed(tmp_path: Path):
    result = check(tmp_path, {"none.md": "Just text\n", "open.md": "---\ntitle: X\ncategory: vpn\nBody\n"})
    assert sorted(p.message.split(":")[0] for p in result.errors) == ["front matter is not closed",
                                                                      "missing YAML front matter"]


def test_bad_choice_and_type_fields(tmp_path: Path):
    result = check(tmp_path, {"x.md": "---\ntitle: X\ncategory: vpn\naudience: everyone\nstatus: live\n"
                                      "questions: {a: b}\nfeatured: maybe\nlang: English\n---\nBody\n"})
    by_line = {p.line: p.message for p in result.errors}
    assert "use one of: public, internal" in by_line[4]
    assert "use one of: published, draft" in by_line[5]
    assert "must be a list of texts" in by_line[6]
    assert "true or false" in by_line[7]
    assert "language code" in by_line[8]


def test_unknown_keys_kept_and_warned_only_in_strict(tmp_path: Path):
    files = {"x.md": "---\ntitle: X\ncategory: vpn\nowner: alice\n---\nBody\n"}
    lenient = check(tmp_path, files)
    assert lenient.problems == [] and lenient.articles[0].extra == {"owner": "alice"}
    strict = check(tmp_path, files, strict=True)
    (warning,) = strict.warnings
    assert (warning.line, warning.level) == (4, "warning") and "unknown field 'owner'" in warning.message


def test_all_problems_reported_at_once(tmp_path: Path):
    files = dict(SMALL_CENTER)
    files["broken1.md"] = "---\ntitle: [unclosed\n---\nBody\n"
    files["broken2.md"] = "---\ntitle: T\ncategory: ghost\n---\n"
    result = check(tmp_path, files)
    paths = {Path(p.path).name for p in result.errors}
    assert paths == {"broken1.md", "broken2.md"}
    assert len(result.errors) == 3  # bad YAML; undeclared category + empty body


def test_link_to_unparseable_article_is_not_reported_twice(tmp_path: Path):
    result = check(tmp_path, {
        "x.md": "---\ntitle: X\ncategory: vpn\nrelated: [y]\n---\nSee [y](y.md).\n",
        "y.md": "---\ntitle: : :\n---\nBody\n",
    })
    assert [Path(p.path).name for p in result.errors] == ["y.md"]


def test_categories_file_problems(tmp_path: Path):
    root = write_tree(tmp_path / "articles", {"categories.yml": "a: {description: no title}\nb: [1, 2\n",
                                              "x.md": "---\ntitle: X\ncategory: a\n---\nBody\n"})
    result = load_help_center(root, Settings())
    (problem,) = result.errors
    assert problem.path.endswith("categories.yml") and "invalid YAML" in problem.message
    (root / "categories.yml").unlink()
    assert "categories file is missing" in load_help_center(root, Settings()).errors[0].message
