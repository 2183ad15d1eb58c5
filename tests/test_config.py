from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from kb import config as config_module
from kb.config import Settings, load_settings, setting_fields
from kb.errors import ConfigError
from tests.conftest import ROOT
from tests.fakes import HashingEncoder
from tests.portal import make_app


def test_precedence_defaults_file_env_flags(tmp_path: Path):
    config = tmp_path / "kb.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\n[embedding]\nthreads = 2\n', encoding="utf-8")
    settings = load_settings(config, environ={"KB_PORT": "9100", "KB_DEFAULT_LANG": "ru"}, host="127.0.0.2")
    assert settings.port == 9100  # environment beats the file
    assert settings.host == "127.0.0.2"  # flags beat everything
    assert settings.embedding_threads == 2  # [embedding] threads = embedding_threads
    assert settings.default_lang == "ru"
    assert settings.articles_dir == Path("articles")  # default


def test_unset_flags_do_not_override(tmp_path: Path):
    assert load_settings(environ={"KB_PORT": "1234"}, port=None).port == 1234


def test_kb_config_env_names_the_file(tmp_path: Path):
    config = tmp_path / "other.toml"
    config.write_text('index_dir = "/srv/kb/index"\n', encoding="utf-8")
    assert load_settings(environ={"KB_CONFIG": str(config)}).index_dir == Path("/srv/kb/index")


@pytest.mark.parametrize("text, message", [
    ("port = 'x'\n", "setting 'port': 'x' is not a valid int"),
    ("colour = 'red'\n", "unknown setting(s) colour"),
    ("port = \n", "kb.toml"),
])
def test_bad_config_files(tmp_path: Path, text: str, message: str):
    config = tmp_path / "kb.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config, environ={})


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "none.toml", environ={})


def test_every_setting_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for field in setting_fields():
        assert field.metadata.get("help"), field.name
        assert f"| `{field.name}` |" in readme, f"README settings table lacks {field.name}"
        assert f"`KB_{field.name.upper()}`" in readme
    assert Settings().port == 8000


# --- validation: every setting declares what it accepts; all problems are reported at once ---------------------

CHOICES = [("fusion", "rff", "score, rrf"), ("query_runtime", "onxx", "onnx, torch"),
           ("cookie_secure", "sometimes", "auto, always, never"), ("embedding_precision", "bf61", "bf16, fp32"),
           ("embedding_model", "all-minilm-l6-v2", "auto, all-MiniLM-L6-v2, ")]


@pytest.mark.parametrize("name, typo, allowed", CHOICES, ids=[c[0] for c in CHOICES])
def test_each_choice_setting_refuses_a_typo_naming_the_setting_and_the_allowed_values(name, typo, allowed):
    env = f"KB_{name.upper()}"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={env: typo})
    message = str(caught.value)
    assert message.startswith(f"setting '{name}' must be one of {allowed}")
    assert f"not '{typo}' (from environment variable {env})" in message


def test_every_bad_setting_is_reported_in_one_error_naming_where_each_came_from(tmp_path: Path):
    config = tmp_path / "kb.toml"
    config.write_text('fusion = "rff"\nport = "x"\ncolour = "red"\n[session]\nidle_minutes = 0\n', encoding="utf-8")
    environ = {"KB_PROXY_HOPS": "-1", "KB_RATE_LIMIT_SEARCH": "often", "KB_ROUTING": "printers",
               "KB_CONFIDENCE_THRESHOLD": "nan"}
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ=environ, cookie_secure="sometimes", articles_dir=None)
    problems = caught.value.problems
    assert str(caught.value).startswith("9 problems in the settings:\n")
    assert sorted(problems) == sorted([
        f"{config}: unknown setting(s) colour",
        f"setting 'fusion' must be one of score, rrf, not 'rff' (from config file {config})",
        f"setting 'port': 'x' is not a valid int (from config file {config})",
        f"setting 'session_idle_minutes' must be a positive whole number, not 0 (from config file {config})",
        "setting 'proxy_hops' must be 0 or more, not -1 (from environment variable KB_PROXY_HOPS)",
        "setting 'rate_limit_search' must be a limit like '10/minute', not 'often' "
        "(from environment variable KB_RATE_LIMIT_SEARCH)",
        "setting 'routing' has 'printers', which is not a rule like 'category=group' "
        "(from environment variable KB_ROUTING)",
        "setting 'confidence_threshold' must be a finite number, not nan "
        "(from environment variable KB_CONFIDENCE_THRESHOLD)",
        "setting 'cookie_secure' must be one of auto, always, never, not 'sometimes' (from the command line)",
    ])


@pytest.mark.parametrize("where", ["file", "env", "flag"])
def test_the_source_of_a_bad_value_is_named(tmp_path: Path, where: str):
    config = tmp_path / "site.toml"
    config.write_text('fusion = "rff"\n' if where == "file" else "", encoding="utf-8")
    environ = {"KB_FUSION": "rff"} if where == "env" else {}
    flags = {"fusion": "rff"} if where == "flag" else {}
    source = {"file": f"config file {config}", "env": "environment variable KB_FUSION", "flag": "the command line"}
    with pytest.raises(ConfigError, match=re.escape(f"not 'rff' (from {source[where]})")):
        load_settings(config, environ=environ, **flags)


def test_replace_validates_the_whole_copy():
    with pytest.raises(ConfigError) as caught:
        Settings().replace(fusion="rff", search_k=0, secret_key="short")
    assert [p.split(" must")[0].split(" is")[0] for p in caught.value.problems] == \
        ["setting 'search_k'", "setting 'fusion'", "setting 'secret_key'"]
    assert Settings().replace(fusion="rrf", port="0").port == 0


def test_the_defaults_are_valid_and_the_readme_shows_what_each_setting_accepts():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    allowed = config_module.allowed_values
    for field in setting_fields():
        assert config_module._problem(field, field.default) is None, field.name
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{field.name}` |"))
        assert f"| {allowed(field)} |" in row, f"README: {field.name} should show {allowed(field)!r}"
    assert allowed(next(f for f in setting_fields() if f.name == "fusion")) == "`score`, `rrf`"


def test_the_cli_prints_every_problem_and_exits_1_without_a_traceback(center: Path, monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli

    monkeypatch.delenv("KB_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["check", "--articles", str(center)], obj={}, catch_exceptions=False,
                                env={"KB_FUSION": "rff", "KB_COOKIE_SECURE": "sometimes"})
    assert result.exit_code == 1
    assert result.output.startswith("Error: 2 problems in the settings:\n")
    assert "setting 'fusion' must be one of score, rrf, not 'rff' (from environment variable KB_FUSION)" in \
        result.output
    assert "setting 'cookie_secure' must be one of auto, always, never" in result.output
    assert "Traceback" not in result.output and "article(s) checked" not in result.output


@pytest.mark.sqlite_only("checks that no database file is created")
def test_the_app_factory_refuses_bad_settings_before_opening_the_database(portal_index, portal_settings,
                                                                          tmp_path: Path):
    database = tmp_path / "never.sqlite3"
    settings = replace(portal_settings, database_url=f"sqlite:///{database}", fusion="rff",
                       cookie_secure="sometimes", session_max_hours=0)
    with pytest.raises(ConfigError) as caught:
        make_app(settings, portal_index[1])
    assert not database.exists()
    assert [p.split(" must")[0] for p in caught.value.problems] == \
        ["setting 'fusion'", "setting 'cookie_secure'", "setting 'session_max_hours'"]


def test_the_web_layer_reads_the_apps_settings_which_a_loaded_service_shares(portal_index, portal_settings):
    def hits(app) -> int:
        page = app.test_client().get("/search?q=printer offline password").get_data(as_text=True)
        return page.split('<ol class="hits">')[1].split("</ol>")[0].count("<li>")

    service = portal_index[1]
    assert service.settings.search_k == 10 and hits(make_app(portal_settings, service)) > 1
    assert hits(make_app(replace(portal_settings, search_k=1), service)) == 1  # the app's setting, not the service's
    loaded = make_app(replace(portal_settings, search_k=1), None)
    assert loaded.extensions["kb.search"].settings is loaded.config["KB_SETTINGS"]


# --- the encoder factory sets the model libraries' environment, and checks its options -------------------------

def test_the_encoder_factory_prepares_the_environment_before_a_model_loads(monkeypatch):
    from kb.embedding import encoders

    seen = {}
    monkeypatch.setitem(encoders.ENCODERS, "multilingual-e5-small",
                        lambda threads, batch, precision, **options: seen.update(os.environ) or HashingEncoder())
    for name in ("TOKENIZERS_PARALLELISM", "HF_HUB_OFFLINE", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    encoders.load_encoder("multilingual-e5-small", threads=3)
    assert seen["TOKENIZERS_PARALLELISM"] == "false" and seen["HF_HUB_OFFLINE"] == "1"
    assert seen["OMP_NUM_THREADS"] == "3"  # the engine reads its thread count only from there
    with pytest.raises(ConfigError, match="setting 'embedding_precision' must be one of bf16, fp32, not 'bf61'"):
        encoders.load_encoder("multilingual-e5-small", precision="bf61")
