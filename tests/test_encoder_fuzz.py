"""Every real encoder survives hostile text: compatibility characters that expand, ligatures, stacks of combining
marks, lone surrogates, 10,000-character inputs. Each encoder runs in a child process, so a native crash fails its
test instead of ending pytest; and the portal keeps answering a search that once ended the server."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SMALL_CENTER

pytestmark = pytest.mark.slow

SALLALLAHOU = "\ufdfa"  # 3 UTF-8 bytes, 18 code points after NFKC
ENCODERS = [("all-MiniLM-L6-v2", "onnx"), ("all-MiniLM-L6-v2", "torch"), ("multilingual-e5-small", "onnx"),
            ("multilingual-e5-small", "torch"), ("use-multilingual-v3", "onnx")]  # "torch": e5's own engine
DIMENSIONS = {"all-MiniLM-L6-v2": 384, "multilingual-e5-small": 384, "use-multilingual-v3": 512}


def hostile_texts() -> list[str]:
    """Characters that expand under NFKC (U+FDFA, U+FDFB, squared words, ligatures, parenthesised numbers), that
    decompose (U+0390, U+1F82, U+0F73, Hangul), stacks of combining marks, lone surrogates, controls; short, and
    10,000 code points long."""
    rng = random.Random(20240601)
    squared = "".join(map(chr, range(0x3300, 0x3400)))  # squared katakana words and units
    ligatures = "".join(map(chr, range(0xFB00, 0xFB50)))  # Latin, Armenian and Hebrew presentation forms
    parenthesised = "".join(map(chr, range(0x2474, 0x24B6)))  # (1) .. (20), 1. .. 20., (a) .. (z)
    compatibility = squared + ligatures + parenthesised
    anything = "".join(chr(rng.randrange(0x110000)) for _ in range(10_000))  # surrogates and unassigned included
    long = [SALLALLAHOU * 3000, "\ufdfb" * 10_000, (compatibility * 25)[:10_000], "a" + "\u0301\u0323" * 5000,
            "\u0390\u1f82\u0f73" * 3334, "\u1100\u1161\u11a8" * 3334, "\u4e2d\U0001f600" * 5000, anything,
            "x" * 10_000]
    short = [SALLALLAHOU * 8, SALLALLAHOU * 100, "\ufdfb" * 100, squared, ligatures, parenthesised,
             "printer " + "\u0301" * 300, "pass\ud800word \udfff reset", "\ud83d" * 100, "nul\x00byte \x1b[2J",
             "", " \n\t ", "my printer says offline"]
    return long + short


def fuzz_in_this_process(model: str, runtime: str, cache_dir: str, out: str) -> None:
    """Embed every hostile text as a query on its own and as passages in batches; save the vectors."""
    from kb.embedding.encoders import load_encoder

    encoder = load_encoder(model, 1, 8, "fp32", runtime, Path(cache_dir))
    texts = hostile_texts()
    np.savez(out, queries=np.vstack([encoder.encode_queries([text]) for text in texts]),
             passages=encoder.encode_passages(texts))


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")  # the ONNX export is made once for the module


def run_child(code: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process; fails the test if it exits with an error or is killed by a signal."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("KB_CONFIG", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                            env=env, cwd=ROOT)
    how = f"killed by signal {-result.returncode}" if result.returncode < 0 else f"exit code {result.returncode}"
    assert result.returncode == 0, f"{how}:\n{result.stderr[-3000:]}"
    return result


@pytest.mark.parametrize("model,runtime", ENCODERS, ids=[f"{m}-{r}" for m, r in ENCODERS])
def test_hostile_text_gives_finite_unit_vectors(model: str, runtime: str, model_cache: Path, tmp_path: Path):
    out = tmp_path / "vectors.npz"
    run_child("from tests.test_encoder_fuzz import fuzz_in_this_process; "
              f"fuzz_in_this_process({model!r}, {runtime!r}, {str(model_cache)!r}, {str(out)!r})")
    shape = (len(hostile_texts()), DIMENSIONS[model])
    with np.load(out) as vectors:
        for kind in ("queries", "passages"):
            matrix = vectors[kind]
            assert matrix.shape == shape and matrix.dtype == np.float32, kind
            assert np.isfinite(matrix).all(), kind
            assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3), kind


TINY_CENTER = {key: SMALL_CENTER[key] for key in ("categories.yml", "printers/printer-offline.md",
                                                   "accounts/reset-password.md", "ru/vpn-oshibka.md")}


def serve_hostile_text_in_this_process(root: str) -> None:
    """Build a multilingual-e5-small index of three articles, start the portal, send it the text that once ended the
    server through every way it reaches the encoder; print the status codes and the top hit of a plain search."""
    from kb.helpdesk.accounts import add_staff
    from kb.config import Settings
    from indexer.build import build_index
    from tests.conftest import write_tree
    from tests.portal import PASSWORD, add_people, file_ticket, sign_in
    from web import create_app

    base = Path(root)
    settings = Settings(articles_dir=write_tree(base / "articles", TINY_CENTER), index_dir=base / "index",
                        embedding_model="multilingual-e5-small", build_threads=1,
                        database_url=f"sqlite:///{base / 'kb.sqlite3'}", secret_key="k" * 32,
                        secret_key_file=base / "secret_key")
    build_index(settings, progress=False)
    app = create_app(settings)
    app.testing = True
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, "agent@desk.example", PASSWORD, "agent", "general", "Alex")
    hostile = SALLALLAHOU * 100
    anonymous, customer, agent = app.test_client(), app.test_client(), app.test_client()
    statuses = {"search": anonymous.get("/api/search", query_string={"q": hostile}).status_code,
                "suggest": anonymous.get("/api/suggest", query_string={"q": hostile}).status_code}
    sign_in(customer, "ann@acme.example")
    ref = file_ticket(customer, subject=hostile, description=hostile)  # files through the suggestions
    sign_in(agent, "agent@desk.example")
    statuses["desk ticket"] = agent.get(f"/desk/tickets/{ref}").status_code  # suggests articles for its text
    plain = anonymous.get("/api/search", query_string={"q": "my printer says offline"})
    statuses["plain search"] = plain.status_code
    print(json.dumps({"statuses": statuses, "top": plain.get_json()["results"][0]["id"]}))


def test_the_portal_answers_a_search_that_once_ended_the_server(tmp_path: Path):
    result = run_child("from tests.test_encoder_fuzz import serve_hostile_text_in_this_process; "
                       f"serve_hostile_text_in_this_process({str(tmp_path)!r})")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["statuses"] == {"search": 200, "suggest": 200, "desk ticket": 200, "plain search": 200}
    assert answer["top"] == "printer-offline"
