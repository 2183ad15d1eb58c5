"""The one settings object: defaults, then a TOML config file, then KB_* environment variables, then CLI flags."""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from kb.errors import ConfigError


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every knob of kb. Each field's metadata carries the help line shown in the README's settings table."""

    articles_dir: Path = _setting(Path("articles"), "Folder of Markdown articles and categories.yml.")
    index_dir: Path = _setting(Path("var/index"), "Where `kb build` puts the index and `kb search`/`kb serve` read it.")
    default_lang: str = _setting("en", "Language of articles whose front matter has no `lang`.")
    max_article_kb: int = _setting(256, "Articles larger than this many KiB are rejected by `kb check`.")
    embedding_model: str = _setting("auto", "Embedding model: `auto` (all-MiniLM-L6-v2 for an English-only help center, multilingual-e5-small when any article is in another language), or one of all-MiniLM-L6-v2, multilingual-e5-small, use-multilingual-v3.")
    embedding_threads: int = _setting(1, "Compute threads the embedding model uses when serving queries.")
    build_threads: int = _setting(0, "Compute threads `kb build` uses for embedding (0: all cores).")
    embedding_precision: str = _setting("bf16", "Model weights in `bf16` (twice the speed, cosine >= 0.999) or `fp32`.")
    embedding_batch_size: int = _setting(32, "Passages embedded per batch during a build.")
    query_runtime: str = _setting("onnx", "Queries are embedded by `onnx` (an ONNX Runtime export of the same weights, "
                                  "about 3x faster) or `torch`.")
    model_cache_dir: Path = _setting(Path("var/models"), "Where the ONNX export of the embedding model is cached.")
    reload_interval: float = _setting(2.0, "How often (seconds) a serving process looks for a newly built index to swap in.")
    section_max_words: int = _setting(180, "Body sections longer than this are split into several passages.")
    exact_search_max: int = _setting(50000, "Up to this many passages the vector index is exact; above, an inverted file (IVF).")
    keep_builds: int = _setting(2, "How many earlier index builds are kept beside the current one.")
    search_k: int = _setting(10, "Results returned by a search unless asked otherwise.")
    candidates: int = _setting(50, "Candidates taken from each of the keyword and vector indexes per query.")
    max_query_chars: int = _setting(1000, "Longer queries are cut to this many characters before searching.")
    fusion: str = _setting("score", "How keyword and vector rankings are fused: `score` (weighted scores) or `rrf`.")
    keyword_weight: float = _setting(0.2, "Weight of the keyword side against the vector side (1.0) in the fusion.")
    foreign_keyword_factor: float = _setting(0.0, "Keyword weight is multiplied by this for a query in a language no article is written in (its words match only by chance).")
    centroid_weight: float = _setting(0.5, "Weight of a query's cosine to an article's question centroid in its vector score.")
    category_weight: float = _setting(0.1, "How much P(category | query) re-weights the fused ranking (0: not at all).")
    confidence_threshold: float = _setting(0.5, "Answers with confidence at or above this are `confident`.")
    host: str = _setting("127.0.0.1", "Address `kb serve` listens on.")
    port: int = _setting(8000, "Port `kb serve` listens on.")
    database_url: str = _setting("sqlite:///var/kb.sqlite3", "SQLAlchemy URL of the portal's database (accounts, tickets, votes); e.g. `postgresql+psycopg://user:pw@host/kb`.")
    secret_key: str = _setting("", "Key that signs session cookies; empty: a random key kept in `secret_key_file`.")
    secret_key_file: Path = _setting(Path("var/secret_key"), "Where the generated secret key is kept (mode 0600) when `secret_key` is empty.")
    cookie_secure: str = _setting("auto", "Send cookies over HTTPS only: `auto` (with `proxy_hops`, when the proxy's X-Forwarded-Proto says the request came over HTTPS; without, unless `host` is a loopback address), `always` or `never`.")
    session_idle_minutes: int = _setting(120, "A signed-in session ends after this many minutes without a request (a positive number).")
    session_max_hours: int = _setting(12, "A signed-in session ends this many hours after signing in, however active (a positive number).")
    proxy_hops: int = _setting(0, "Reverse proxies in front of `kb serve` whose X-Forwarded-For/-Proto/-Host headers are "
                               "trusted (0: none; the client address is the connection's).")
    rate_limit_storage: str = _setting("memory://", "Where rate-limit counters live (a Flask-Limiter storage URI, e.g. `redis://host:6379`).")
    rate_limit_sign_in: str = _setting("10/minute", "Failed sign-ins allowed per client address and account (from a browser that signed in to the account before: per browser).")
    rate_limit_sign_in_account: str = _setting("30/hour", "Failed sign-ins allowed per account, from all addresses together (a browser that signed in to the account before is not held back by it).")
    rate_limit_sign_in_address: str = _setting("100/hour", "Failed sign-ins allowed per client address, over all accounts together (a browser that signed in to the account before is not held back by it).")
    rate_limit_tickets: str = _setting("10/hour", "Tickets a signed-in customer may file.")
    rate_limit_suggest: str = _setting("120/minute", "Suggestion requests (`/api/suggest`, the contact page) per client address.")
    rate_limit_search: str = _setting("60/minute", "Searches (`/search`, `/?q=`, `/api/search`) per signed-in customer or client address.")
    rate_limit_views: str = _setting("300/minute", "Article pages (and their history) per signed-in customer or client address.")
    rate_limit_votes: str = _setting("30/minute", "'Was this helpful?' votes and 'This solved my problem' answers per signed-in customer or client address.")
    rate_limit_replies: str = _setting("60/hour", "Replies a signed-in customer may add to tickets.")
    rate_limit_new_visitors: str = _setting("30/hour", "Visitor ids (the signed cookie that tells anonymous visitors apart for views and votes) given to one client address; past it, the address counts as one visitor.")
    suggest_score_share: float = _setting(0.85, "Besides a confident first answer, suggestions include articles scoring at least this share of its score.")
    routing: str = _setting("*=general", "Agent group of new tickets by predicted category, e.g. `printers=hardware, accounts=identity, *=general` (`*`: every other category).")
    desk_page_size: int = _setting(25, "Tickets per page of the agent desk's queue.")

    def replace(self, **changes: Any) -> "Settings":
        """A copy with the given settings changed; None values are ignored (unset CLI flags)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **_coerce_all(given))


def setting_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(Settings))


def _coerce(name: str, value: Any) -> Any:
    types = {f.name: f.type for f in setting_fields()}
    if name not in types:
        raise ConfigError(f"unknown setting {name!r}")
    kind = types[name]
    try:
        if kind == "Path":
            return Path(value)
        if kind in ("int", "float"):
            if isinstance(value, bool):
                raise ValueError
            return int(value) if kind == "int" else float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r}: {value!r} is not a valid {kind}") from None


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _coerce(name, value) for name, value in values.items()}


def load_settings(config_file: Path | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings from defaults < config file < KB_* environment < keyword overrides (CLI flags)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or (Path(environ["KB_CONFIG"]) if environ.get("KB_CONFIG") else None)
    if path is None and Path("kb.toml").is_file():
        path = Path("kb.toml")
    if path is not None:
        values.update(_read_config_file(path))
    names = {f.name for f in setting_fields()}
    for name in names:
        env_name = "KB_" + name.upper()
        if env_name in environ:
            values[name] = environ[env_name]
    settings = Settings(**_coerce_all(values))
    return settings.replace(**overrides)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    # Sections are for readability only: [embedding] model = ... means embedding_model.
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{key}_{sub}"] = subvalue
        else:
            flat[key] = value
    names = {f.name for f in setting_fields()}
    unknown = sorted(set(flat) - names)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return flat
