"""A damaged index file, of every kind the build writes (manifest, articles, passages, vectors, embeddings, the
keyword index's segments and stored scores, classifiers, spelling vocabularies…), truncated or with bytes
flipped: loading refuses it with a message naming the file, and a serving portal keeps the build it has."""
from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.build import build_index
from kb.errors import IndexFormatError
from kb.index.manifest import read_manifest
from search.service import SearchService
from tests.fakes import HashingEncoder

SEED = 7


def truncate(path: Path, _rng: random.Random) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def emptied(path: Path, _rng: random.Random) -> None:
    path.write_bytes(b"")


def flip(path: Path, rng: random.Random) -> None:
    """One byte anywhere in the file, changed (XOR with a random non-zero mask)."""
    data = bytearray(path.read_bytes())
    at = rng.randrange(len(data))
    data[at] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))


DAMAGE = {"truncated": truncate, "emptied": emptied, "a byte flipped": flip}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple:
    from kb.config import Settings
    from tests.conftest import SMALL_CENTER, write_tree

    root = tmp_path_factory.mktemp("damaged")
    settings = Settings(articles_dir=write_tree(root / "articles", SMALL_CENTER), index_dir=root / "index",
                        embedding_model="fake-hashing")
    build_index(settings, HashingEncoder(), progress=False)
    return settings, settings.index_dir.resolve()


def every_file(build: Path) -> list[str]:
    return sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())


def test_the_manifest_holds_a_checksum_of_every_other_file(built):
    _, build = built
    assert set(read_manifest(build).files) == set(every_file(build)) - {"manifest.json"}


def test_every_kind_of_damage_to_every_file_is_refused_by_name(built, tmp_path):
    settings, build = built
    # Every file with something to damage (Whoosh's lock files are empty).
    names = [name for name in every_file(build) if (build / name).stat().st_size]
    kinds = {name.rsplit(".", 1)[-1] for name in names}
    assert {"json", "npy", "npz", "faiss", "toc", "seg"} <= kinds  # every kind of file the build writes
    rng = random.Random(SEED)
    refused = 0
    for name in names:
        for how, damage in DAMAGE.items():
            for _ in range(3 if how == "a byte flipped" else 1):
                copy = tmp_path / "copy"
                shutil.copytree(build, copy)
                damage(copy / name, rng)
                with pytest.raises(IndexFormatError) as refusal:
                    SearchService.load(copy, settings, HashingEncoder(), warm=False)
                assert name in str(refusal.value), (name, how, str(refusal.value))
                refused += 1
                shutil.rmtree(copy)
    assert refused == len(names) * 5
    assert SearchService.load(build, settings, HashingEncoder(), warm=False).search("printer offline").hits


def test_a_serving_portal_keeps_its_build_when_a_damaged_one_is_published(built, tmp_path, migrated_sqlite):
    """The portal follows the index link (`reload_interval` 0: every request looks); a build damaged after it
    was published is not swapped in, the portal goes on answering from the build it has, and the next good
    build is served."""
    from web import create_app

    settings, _ = built
    articles = tmp_path / "articles"
    shutil.copytree(settings.articles_dir, articles)
    shutil.copyfile(migrated_sqlite, tmp_path / "kb.sqlite3")
    settings = replace(settings, articles_dir=articles, index_dir=tmp_path / "index", reload_interval=0.0,
                       database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                       secret_key_file=tmp_path / "key")
    build_index(settings, HashingEncoder(), progress=False)
    app = create_app(settings)
    live = app.extensions["kb.search"].live
    client = app.test_client()
    good = client.get("/_index").get_json()["build"]

    def publish(edit: str) -> Path:
        page = articles / "printers" / "printer-offline.md"
        page.write_text(page.read_text(encoding="utf-8") + f"\n{edit}\n", encoding="utf-8")
        return build_index(settings, HashingEncoder(), progress=False).build_dir

    damaged = publish("Check the cable.")
    truncate(damaged / "vectors-public.faiss", random.Random(SEED))
    assert client.get("/api/search?q=printer+offline").status_code == 200  # notices the new build
    live.check(wait=True)
    assert "vectors-public.faiss" in live.last_error and damaged.name in live.last_error
    assert client.get("/_index").get_json()["build"] == good
    answer = client.get("/api/search?q=printer+offline")
    assert answer.status_code == 200 and answer.get_json()["results"][0]["id"] == "printer-offline"
    fixed = publish("Check the power.")
    client.get("/api/search?q=printer")
    live.check(wait=True)
    assert client.get("/_index").get_json()["build"] == fixed.name and live.last_error is None
    app.extensions["kb.engine"].dispose()
