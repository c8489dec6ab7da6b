"""The model registry: built-in cards, name look-up rules, registration, cost arithmetic."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from m2m_session.errors import ConfigError, M2MError, ModelNotFoundError
from m2m_session.models import (
    BUILTIN_CARDS,
    Encoding,
    ModelCard,
    ModelRegistry,
    default_registry,
    estimate_cost,
)

EXPECTED_IDS = {
    "openai": {
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "o1",
        "o3-mini",
        "text-embedding-3-small",
        "text-embedding-3-large",
    },
    "anthropic": {
        "claude-3-5-sonnet",
        "claude-3-5-haiku",
        "claude-3-opus",
        "claude-sonnet-4",
        "claude-opus-4",
    },
    "google": {"gemini-1.5-pro", "gemini-1.5-flash", "gemini-2.0-flash"},
    "meta": {"llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-3.3-70b"},
    "mistral": {"mistral-large", "mistral-small", "mixtral-8x7b"},
}


def card(model_id: str = "acme-1", **changes: Any) -> ModelCard:
    base = ModelCard(model_id, "acme", Encoding.CL100K_BASE, 8192, 1.0, 2.0)
    return dataclasses.replace(base, **changes)


# --- built-in cards -----------------------------------------------------------------------------


def test_builtin_cards_cover_the_listed_models() -> None:
    by_provider: dict[str, set[str]] = {}
    for model in BUILTIN_CARDS:
        by_provider.setdefault(model.provider, set()).add(model.id)
    assert by_provider == EXPECTED_IDS
    assert len({model.id for model in BUILTIN_CARDS}) == len(BUILTIN_CARDS) == 25


def test_builtin_cards_are_sane() -> None:
    for model in BUILTIN_CARDS:
        assert model.context_window >= 8191
        assert 0 < model.input_price_per_mtok < 100
        assert 0 <= model.output_price_per_mtok < 100
        assert isinstance(model.encoding, Encoding)
        if model.id.startswith("text-embedding"):
            assert model.output_price_per_mtok == 0
        else:
            assert model.output_price_per_mtok >= model.input_price_per_mtok
    registry = default_registry()
    assert registry.get("gpt-4o").encoding is Encoding.O200K_BASE
    assert registry.get("gpt-4-turbo").encoding is Encoding.CL100K_BASE
    assert registry.get("llama-3.3-70b").encoding is Encoding.LLAMA_BPE
    assert registry.get("gpt-4o").input_price_per_mtok == 2.50
    assert registry.get("claude-3-opus").output_price_per_mtok == 75.00


def test_encoding_values_are_the_protocol_names() -> None:
    assert {e.value for e in Encoding} == {"CL100K_BASE", "O200K_BASE", "LLAMA_BPE"}


def test_default_registry_is_shared_and_iterable() -> None:
    registry = default_registry()
    assert default_registry() is registry
    assert [model.id for model in registry][: len(BUILTIN_CARDS)] == [
        model.id for model in BUILTIN_CARDS
    ]
    assert len(registry) >= 25
    assert "gpt-4o" in registry
    assert "nope" not in registry
    assert 42 not in registry
    assert "25" in repr(ModelRegistry.with_builtins())


# --- look-up rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", sorted(set().union(*EXPECTED_IDS.values())))
def test_every_builtin_id_resolves_exactly(model_id: str) -> None:
    assert default_registry().get(model_id).id == model_id


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("GPT-4o", "gpt-4o"),
        ("Claude-3-5-Sonnet", "claude-3-5-sonnet"),
        ("  gpt-4o  ", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-2024-05-13", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("gpt-4-turbo-preview", "gpt-4-turbo"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("o1-2024-12-17", "o1"),
        ("o1-preview", "o1"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("claude-3-opus-20240229", "claude-3-opus"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
        ("anthropic.claude-3-opus-20240229-v1:0", "claude-3-opus"),
        ("models/gemini-1.5-pro", "gemini-1.5-pro"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("gemini-1.5-flash-latest", "gemini-1.5-flash"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("gemini-2.0-flash-exp", "gemini-2.0-flash"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b"),
        ("meta-llama/Meta-Llama-3.1-405B-Instruct", "llama-3.1-405b"),
        ("llama3.1-8b", "llama-3.1-8b"),
        ("llama-3.1-8b-instant", "llama-3.1-8b"),
        ("llama-3.3-70b-versatile", "llama-3.3-70b"),
        ("mistral-large-latest", "mistral-large"),
        ("mistral-large-2411", "mistral-large"),
        ("mistral-small-2409", "mistral-small"),
        ("open-mixtral-8x7b", "mixtral-8x7b"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),
    ],
)
def test_variants_resolve(name: str, model_id: str) -> None:
    assert default_registry().get(name).id == model_id


@pytest.mark.parametrize(
    "name",
    [
        "gpt-4.1-nano",  # a different, cheaper model: not gpt-4.1
        "o1-mini",
        "gpt-4o-audio",
        "gemini-2.0-flash-lite",
        "gpt-4",
        "claude-2",
        "llama-3.1",
        "",
        "   ",
        "-2024-08-06",
        "totally-unknown-model",
    ],
)
def test_other_models_are_not_confused(name: str) -> None:
    registry = default_registry()
    assert registry.find(name) is None
    with pytest.raises(ModelNotFoundError) as excinfo:
        registry.get(name)
    assert repr(name) in str(excinfo.value)
    assert excinfo.value.details == {"model": name}
    assert excinfo.value.code == "MODEL_NOT_FOUND"
    assert excinfo.value.http_status == 404
    assert isinstance(excinfo.value, M2MError)


def test_longest_id_wins_for_dated_variants() -> None:
    registry = default_registry()
    assert registry.get("gpt-4o-mini-2024-07-18").id == "gpt-4o-mini"
    assert registry.get("gpt-4.1-mini").id == "gpt-4.1-mini"
    assert registry.get("text-embedding-3-large").id == "text-embedding-3-large"


# --- registration -------------------------------------------------------------------------------


def test_register_find_and_replace() -> None:
    registry = ModelRegistry()
    assert len(registry) == 0
    assert registry.find("acme-1") is None
    assert registry.find("acme-1-2025-01-01") is None  # a cached miss ...
    registry.register(card())
    assert registry.get("acme-1-2025-01-01").id == "acme-1"  # ... is forgotten on register
    assert registry.get("ACME-1").provider == "acme"
    cheaper = card(input_price_per_mtok=0.5)
    registry.register(cheaper)
    assert registry.get("acme-1") is cheaper
    assert len(registry) == 1
    assert list(registry) == [cheaper]


def test_aliases() -> None:
    registry = ModelRegistry([card()])
    registry.register(card("acme-2"), aliases=["Roadrunner"])
    assert registry.get("roadrunner").id == "acme-2"
    assert registry.get("ROADRUNNER-latest").id == "acme-2"
    registry.add_alias("coyote", "acme-1")
    assert registry.get("Coyote").id == "acme-1"
    with pytest.raises(ModelNotFoundError):
        registry.add_alias("beep", "acme-9")


def test_builtin_registries_are_independent() -> None:
    mine = ModelRegistry.with_builtins()
    mine.register(card("my-private-model"))
    assert mine.find("my-private-model") is not None
    assert default_registry().find("my-private-model") is None
    assert mine.get("claude-3.5-haiku").id == "claude-3-5-haiku"


def test_lookup_cache_is_bounded() -> None:
    registry = ModelRegistry.with_builtins()
    for index in range(10_000):
        assert registry.find(f"unknown-{index}") is None
    assert len(registry._cache) <= 4096
    assert registry.get("gpt-4o-2024-08-06").id == "gpt-4o"


# --- cards and cost -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"id": ""},
        {"id": " padded "},
        {"context_window": 0},
        {"input_price_per_mtok": -1.0},
        {"output_price_per_mtok": math.nan},
        {"output_price_per_mtok": math.inf},
    ],
)
def test_invalid_cards_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        card(**changes)


def test_cards_are_frozen() -> None:
    model = card()
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.input_price_per_mtok = 0.0  # type: ignore[misc]
    assert model == card()
    assert hash(model) == hash(card())


def test_estimate_cost_arithmetic() -> None:
    gpt4o = default_registry().get("gpt-4o")
    assert estimate_cost(gpt4o, 0, 0) == 0.0
    assert estimate_cost(gpt4o, 1_000_000, 0) == pytest.approx(2.50)
    assert estimate_cost(gpt4o, 0, 1_000_000) == pytest.approx(10.00)
    assert estimate_cost(gpt4o, 1000, 500) == pytest.approx(0.0025 + 0.005)
    opus = default_registry().get("claude-3-opus-20240229")
    assert estimate_cost(opus, 2000, 1000) == pytest.approx(0.03 + 0.075)
    embed = default_registry().get("text-embedding-3-small")
    assert estimate_cost(embed, 50_000, 0) == pytest.approx(0.001)
    assert estimate_cost(card(), 3, 7) == pytest.approx((3 * 1.0 + 7 * 2.0) / 1e6)
    assert isinstance(estimate_cost(card(), 1, 1), float)


def test_estimate_cost_refuses_negative_tokens() -> None:
    with pytest.raises(ValueError, match="token counts"):
        estimate_cost(card(), -1, 0)
    with pytest.raises(ValueError, match="token counts"):
        estimate_cost(card(), 0, -1)
