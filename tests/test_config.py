from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Settings, load_settings, setting_fields
from kb.errors import ConfigError
from tests.conftest import ROOT


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
