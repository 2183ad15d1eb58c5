"""Old addresses (`aliases`) and images or files kept beside the articles: checked, rendered, served and redirected
only for what customers may see."""
from __future__ import annotations

from pathlib import Path

from indexer.render import render_markdown
from kb.articles import normalise_alias
from kb.check import load_help_center
from kb.config import Settings
from kb.helpdesk.accounts import add_staff
from kb.index.links import asset_href, asset_paths
from tests.conftest import CATEGORIES, write_tree
from tests.importing import portal_over
from tests.portal import PASSWORD, add_people, sign_in

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def article(title: str, category: str, body: str, **extra: str) -> str:
    front = "".join(f"{k}: {v}\n" for k, v in extra.items())
    return f"---\ntitle: {title}\ncategory: {category}\n{front}---\n{body}\n"


def test_normalised_aliases():
    assert {normalise_alias(p) for p in ("/a/b/", "/a/b", "/a/b/index.html", "a/b?x=1", "/a/b#top")} == {"/a/b"}


def test_check_reports_bad_and_shared_aliases(tmp_path: Path):
    root = write_tree(tmp_path / "articles", {
        "categories.yml": CATEGORIES,
        "one.md": article("One", "vpn", "Text.", aliases="[/old/one.html, 'https://x.example/a', /]"),
        "two.md": article("Two", "vpn", "Text.", aliases="/old/one.html/"),
    })
    found = [str(p).replace(f"{root}/", "") for p in load_help_center(root, Settings()).problems]
    assert found == ["one.md:4: alias '/' must be an address path on this site, such as /old/page.html",
                     "one.md:4: alias 'https://x.example/a' must be an address path on this site, such as "
                     "/old/page.html",
                     "two.md:4: alias '/old/one.html' is already an alias of one.md"]


def test_images_load_lazily_with_alt_text_and_relative_files_are_stored_by_path():
    html = render_markdown("![A cat](img/cat.png) ![](https://x.example/a.png) [manual](files/m.pdf) "
                           "[page](other.md)", lambda target: None,
                           lambda target: asset_href("assets/" + target))
    assert '<img loading="lazy" alt="A cat" src="kb-asset:assets/img/cat.png">' in html
    assert '<img loading="lazy" alt="" src="https://x.example/a.png">' in html
    assert 'href="kb-asset:assets/files/m.pdf"' in html and 'href="other.md"' in html
    assert asset_paths(html) == {"assets/img/cat.png", "assets/files/m.pdf"}


def test_files_and_aliases_of_internal_articles_stay_hidden_from_customers(tmp_path: Path, migrated_sqlite: Path):
    root = write_tree(tmp_path / "articles", {
        "categories.yml": CATEGORIES,
        "vpn/public.md": article("Connect to the VPN", "vpn", "Open the client.\n\n![Client](../assets/client.png)",
                                 aliases="[/old/vpn.html]"),
        "vpn/internal.md": article("VPN server keys", "vpn", "Rotate keys.\n\n![Keys](../assets/keys.png)",
                                   audience="internal", aliases="[/old/keys.html]"),
    })
    (root / "assets").mkdir()
    for name in ("client.png", "keys.png", "unused.png"):
        (root / "assets" / name).write_bytes(PNG)
    (root / "assets" / "page.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    app = portal_over(root, tmp_path, migrated_sqlite)
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, "alex@desk.example", PASSWORD, "agent", "general", "Alex")
    client = app.test_client()
    assert client.get("/files/assets/client.png").status_code == 200
    for hidden in ("/files/assets/keys.png", "/files/assets/unused.png", "/files/assets/page.html",
                   "/files/vpn/public.md"):
        assert client.get(hidden).status_code == 404, hidden
    moved = client.get("/old/vpn.html")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/public")
    assert client.get("/old/keys.html").status_code == 404
    assert client.post("/old/vpn.html").status_code in (404, 405)  # only reading is redirected
    sign_in(client, "ann@acme.example")
    assert client.get("/files/assets/keys.png").status_code == 404  # a customer, signed in
    agent = app.test_client()
    sign_in(agent, "alex@desk.example")
    assert agent.get("/files/assets/keys.png").status_code == 200  # the desk shows internal articles' images
    assert agent.get("/files/assets/unused.png").status_code == 404
