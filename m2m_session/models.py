"""Model registry: what m2m-session knows about common LLMs (context window, tokenizer, price).

The M2M codec uses it to put a cost estimate in its routing header; proxies and agents use it
to budget. A :class:`ModelCard` is immutable; a :class:`ModelRegistry` maps names to cards and
understands the spellings APIs actually send:

1. the exact id (``"gpt-4o"``);
2. the id in any case (``"GPT-4o"``), or a registered alias (``"claude-3.5-sonnet"``);
3. a normalised form: lower case; a namespace path dropped (``"meta-llama/Llama-3.3-70B"``,
   ``"models/gemini-1.5-pro"``, ``"anthropic/claude-3.5-sonnet"``); a Bedrock-style vendor
   prefix and ``:N`` version dropped (``"us.anthropic.claude-3-5-sonnet-20241022-v2:0"``);
   ``@`` read as ``-`` (Vertex ``"claude-3-5-sonnet-v2@20241022"``); the prefixes ``meta-`` and
   ``open-`` dropped (``"Meta-Llama-3.1-8B"``, ``"open-mixtral-8x7b"``); ``llama3`` read as
   ``llama-3``;
4. then, one at a time from the right, variant suffixes are stripped and the name looked up
   again: dates (``-2024-08-06``, ``-20241022``), 3-4 digit snapshots (``-0125``, ``-2411``,
   ``-002``), ``-vN[.N]``, ``-latest``, ``-preview``, ``-exp``, ``-instruct``, ``-chat``,
   ``-instant``, ``-versatile``. So ``"gpt-4o-2024-08-06"`` is ``gpt-4o`` and
   ``"gpt-4o-mini-2024-07-18"`` is ``gpt-4o-mini``, but ``"gpt-4.1-nano"`` or ``"o1-mini"`` (a
   different model with a different price) is *not* taken for ``gpt-4.1`` or ``o1``.

Prices are public list prices in USD per million tokens as best known in 2025 (standard tier,
short prompts, no batch or prompt-caching discounts; hosted open-weight models at a typical
provider's price). They are **estimates** for routing and budgeting, not for billing. The
``encoding`` is the protocol's tokenizer encoding (``CL100K_BASE``, ``O200K_BASE``,
``LLAMA_BPE``) used to count or carry the model's tokens; models whose own tokenizer is not one
of these (Claude, Gemini, Mistral) get ``CL100K_BASE`` as an approximation.
"""

from __future__ import annotations

import enum
import functools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from m2m_session.errors import ConfigError, ModelNotFoundError

__all__ = [
    "BUILTIN_CARDS",
    "Encoding",
    "ModelCard",
    "ModelRegistry",
    "default_registry",
    "estimate_cost",
]


class Encoding(enum.StrEnum):
    """The tokenizer encodings of the protocol (HELLO ``encodings``)."""

    CL100K_BASE = "CL100K_BASE"
    O200K_BASE = "O200K_BASE"
    LLAMA_BPE = "LLAMA_BPE"


@dataclass(frozen=True, slots=True)
class ModelCard:
    """One model: its id, provider, tokenizer encoding, context window and list prices."""

    id: str
    provider: str
    encoding: Encoding
    context_window: int
    #: USD per million input (prompt) tokens.
    input_price_per_mtok: float
    #: USD per million output (completion) tokens.
    output_price_per_mtok: float

    def __post_init__(self) -> None:
        if not self.id or self.id != self.id.strip():
            raise ConfigError(f"model id {self.id!r} must be non-empty, without outer spaces")
        if self.context_window <= 0:
            raise ConfigError(f"{self.id}: context_window must be positive")
        for name in ("input_price_per_mtok", "output_price_per_mtok"):
            price = getattr(self, name)
            if not math.isfinite(price) or price < 0:
                raise ConfigError(f"{self.id}: {name} must be a finite price >= 0")


def estimate_cost(card: ModelCard, input_tokens: int, output_tokens: int) -> float:
    """The list-price cost in USD of ``input_tokens`` in and ``output_tokens`` out."""
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("token counts must be >= 0")
    return (
        input_tokens * card.input_price_per_mtok + output_tokens * card.output_price_per_mtok
    ) / 1_000_000


def _card(
    id: str,
    provider: str,
    encoding: Encoding,
    context_window: int,
    input_price: float,
    output_price: float,
) -> ModelCard:
    return ModelCard(id, provider, encoding, context_window, input_price, output_price)


_CL, _O200, _LLAMA = Encoding.CL100K_BASE, Encoding.O200K_BASE, Encoding.LLAMA_BPE

#: The built-in cards (estimates; see the module doc).
BUILTIN_CARDS: tuple[ModelCard, ...] = (
    # OpenAI
    _card("gpt-4o", "openai", _O200, 128_000, 2.50, 10.00),
    _card("gpt-4o-mini", "openai", _O200, 128_000, 0.15, 0.60),
    _card("gpt-4.1", "openai", _O200, 1_047_576, 2.00, 8.00),
    _card("gpt-4.1-mini", "openai", _O200, 1_047_576, 0.40, 1.60),
    _card("gpt-4-turbo", "openai", _CL, 128_000, 10.00, 30.00),
    _card("gpt-3.5-turbo", "openai", _CL, 16_385, 0.50, 1.50),
    _card("o1", "openai", _O200, 200_000, 15.00, 60.00),
    _card("o3-mini", "openai", _O200, 200_000, 1.10, 4.40),
    _card("text-embedding-3-small", "openai", _CL, 8_191, 0.02, 0.0),
    _card("text-embedding-3-large", "openai", _CL, 8_191, 0.13, 0.0),
    # Anthropic
    _card("claude-3-5-sonnet", "anthropic", _CL, 200_000, 3.00, 15.00),
    _card("claude-3-5-haiku", "anthropic", _CL, 200_000, 0.80, 4.00),
    _card("claude-3-opus", "anthropic", _CL, 200_000, 15.00, 75.00),
    _card("claude-sonnet-4", "anthropic", _CL, 200_000, 3.00, 15.00),
    _card("claude-opus-4", "anthropic", _CL, 200_000, 15.00, 75.00),
    # Google
    _card("gemini-1.5-pro", "google", _CL, 2_097_152, 1.25, 5.00),
    _card("gemini-1.5-flash", "google", _CL, 1_048_576, 0.075, 0.30),
    _card("gemini-2.0-flash", "google", _CL, 1_048_576, 0.10, 0.40),
    # Meta (open weights; hosted prices)
    _card("llama-3.1-8b", "meta", _LLAMA, 131_072, 0.18, 0.18),
    _card("llama-3.1-70b", "meta", _LLAMA, 131_072, 0.88, 0.88),
    _card("llama-3.1-405b", "meta", _LLAMA, 131_072, 3.50, 3.50),
    _card("llama-3.3-70b", "meta", _LLAMA, 131_072, 0.88, 0.88),
    # Mistral
    _card("mistral-large", "mistral", _CL, 131_072, 2.00, 6.00),
    _card("mistral-small", "mistral", _CL, 32_768, 0.20, 0.60),
    _card("mixtral-8x7b", "mistral", _CL, 32_768, 0.70, 0.70),
)

_BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "claude-3-5-sonnet": ("claude-3.5-sonnet",),
    "claude-3-5-haiku": ("claude-3.5-haiku",),
    "claude-sonnet-4": ("claude-4-sonnet", "claude-sonnet-4-0"),
    "claude-opus-4": ("claude-4-opus", "claude-opus-4-0"),
}

# Step 3 of the module doc.
_BEDROCK_VERSION = re.compile(r":\d+$")
_VENDOR_PREFIX = re.compile(r"^(?:[a-z]+\.)+(?=[a-z])")
_LLAMA_SPACE = re.compile(r"^llama(?=\d)")
_DROPPED_PREFIXES = ("meta-", "open-")
# Step 4: one variant suffix at the end of the name.
_VARIANT_SUFFIX = re.compile(
    r"[-_](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|v\d+(?:\.\d+)*"
    r"|latest|preview|exp|instruct|chat|instant|versatile)$"
)
_CACHE_SIZE = 4096


class ModelRegistry:
    """Model cards by name, with the look-up rules of the module doc.

    Iterating yields the cards in registration order; ``name in registry`` is ``find``.
    """

    def __init__(self, cards: Iterable[ModelCard] = ()) -> None:
        self._cards: dict[str, ModelCard] = {}
        self._folded: dict[str, str] = {}  # lower-case id or alias -> id
        self._cache: dict[str, ModelCard | None] = {}
        for card in cards:
            self.register(card)

    @classmethod
    def with_builtins(cls) -> ModelRegistry:
        """A new registry holding :data:`BUILTIN_CARDS` and their aliases."""
        registry = cls(BUILTIN_CARDS)
        for model_id, aliases in _BUILTIN_ALIASES.items():
            for alias in aliases:
                registry.add_alias(alias, model_id)
        return registry

    def register(self, card: ModelCard, *, aliases: Iterable[str] = ()) -> None:
        """Add ``card`` (replacing a card with the same id), reachable also by ``aliases``."""
        self._cards[card.id] = card
        self._folded[card.id.lower()] = card.id
        self._cache.clear()
        for alias in aliases:
            self.add_alias(alias, card.id)

    def add_alias(self, alias: str, model_id: str) -> None:
        """Make ``alias`` (any case) name the registered ``model_id``."""
        if model_id not in self._cards:
            raise ModelNotFoundError(f"cannot alias {alias!r}: no model {model_id!r}")
        self._folded[alias.strip().lower()] = model_id
        self._cache.clear()

    def find(self, name: str) -> ModelCard | None:
        """The card for ``name`` (see the module doc), or ``None``."""
        card = self._cards.get(name)
        if card is not None:
            return card
        try:
            return self._cache[name]
        except KeyError:
            pass
        card = self._resolve(name)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[name] = card
        return card

    def get(self, name: str) -> ModelCard:
        """The card for ``name``; :class:`ModelNotFoundError` naming the model if unknown."""
        card = self.find(name)
        if card is None:
            raise ModelNotFoundError(
                f"model {name!r} is not in the registry", details={"model": name}
            )
        return card

    def _lookup(self, folded: str) -> ModelCard | None:
        model_id = self._folded.get(folded)
        return None if model_id is None else self._cards[model_id]

    def _resolve(self, name: str) -> ModelCard | None:
        folded = name.strip().lower()
        card = self._lookup(folded)
        if card is not None:
            return card
        folded = _BEDROCK_VERSION.sub("", folded.rsplit("/", 1)[-1]).replace("@", "-")
        folded = _VENDOR_PREFIX.sub("", folded)
        for prefix in _DROPPED_PREFIXES:
            if folded.startswith(prefix):
                folded = folded[len(prefix) :]
        folded = _LLAMA_SPACE.sub("llama-", folded)
        while folded:
            card = self._lookup(folded)
            if card is not None:
                return card
            stripped = _VARIANT_SUFFIX.sub("", folded)
            if stripped == folded:
                return None
            folded = stripped
        return None

    def __iter__(self) -> Iterator[ModelCard]:
        return iter(list(self._cards.values()))

    def __len__(self) -> int:
        return len(self._cards)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __repr__(self) -> str:
        return f"<ModelRegistry: {len(self._cards)} models>"


@functools.cache
def default_registry() -> ModelRegistry:
    """The process-wide registry, holding the built-in cards (``register`` adds to it)."""
    return ModelRegistry.with_builtins()
