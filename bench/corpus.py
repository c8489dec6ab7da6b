"""A deterministic corpus of agent traffic for the codec benchmark: no downloads, no files.

``corpus()`` returns ``{name: [message, ...]}``, each list in the order a sender would send it,
every message one payload (UTF-8 JSON or text). Everything comes from a seeded
``random.Random``, so two calls, two machines and two Python versions give the same bytes.

    .venv/bin/python bench/corpus.py                 # sizes of every entry
    .venv/bin/python bench/corpus.py --write /tmp/c  # dump it: DIR/<entry>/<nn>.json|.txt

The entries (see bench/CODECS.md):

* ``chat_request``   one OpenAI chat-completions request of about 1 KB.
* ``conv_requests``  a 10-turn conversation as clients send it: request k carries the system
  prompt and every earlier user and assistant turn (the history is resent every time).
* ``conv_responses`` the 10 ``chat.completion`` responses of that conversation.
* ``tools_requests`` / ``tools_responses``  a tool-using exchange: a ``tools`` array of function
  definitions with JSON schemas, assistant ``tool_calls``, ``tool`` result messages.
* ``long_context``   one request of about 32K tokens (about 128 KB of text in its messages).
* ``stream_chunks``  one streamed response: the ``chat.completion.chunk`` objects its SSE
  ``data:`` lines carry, one message per chunk.
* ``config_json``    a service configuration document (not LLM traffic).
* ``json_events``    structured log records, one JSON object per message.
* ``text_logs``      plain-text application logs in batches of lines.

JSON is serialized compactly (``separators=(",", ":")``, ``ensure_ascii=False``) as current
HTTP clients send it; ``config_json`` is indented, as configuration files are.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SEED", "corpus", "describe", "is_json"]

DEFAULT_SEED = 20240611
#: 2024-06-11T08:00:00Z: every timestamp in the corpus counts from here.
_EPOCH = 1_718_092_800

# --- vocabulary ---------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_NOUNS = _words(
    "request response session buffer cache queue worker thread token model prompt context "
    "window budget schema field record table index query cluster node replica shard partition "
    "latency deadline timeout retry policy config setting parameter module package library "
    "function method class object interface protocol handshake frame message payload header "
    "stream socket connection client server agent tool result error exception warning metric "
    "dashboard alert incident report summary draft outline chapter paragraph argument example "
    "test fixture benchmark baseline regression release branch commit migration database "
    "transaction lock snapshot backup volume container image deployment pipeline job task "
    "schedule customer invoice order account user team project meeting forecast estimate "
    "contract vendor document spreadsheet figure chart spec proposal review ticket backlog "
    "sprint roadmap feature bug patch hotfix endpoint route gateway proxy certificate key "
    "secret permission role quota limit threshold sample dataset label embedding vector "
    "checkpoint layer batch epoch gradient evaluation score rubric answer question decision"
)

_ADJECTIVES = _words(
    "new old large small fast slow stale fresh empty full partial complete robust fragile "
    "simple complex internal external public private primary secondary local remote shared "
    "dedicated default custom optional required temporary permanent critical minor major "
    "expensive cheap noisy quiet stable flaky concurrent sequential nested flat sparse dense "
    "detailed rough final initial previous next current upstream downstream legacy modern "
    "consistent redundant compressed encrypted signed cached idle busy healthy degraded"
)

# base, third person, -ing
_VERBS = [
    tuple(group.split("/"))
    for group in _words(
        "check/checks/checking handle/handles/handling send/sends/sending read/reads/reading "
        "write/writes/writing update/updates/updating merge/merges/merging split/splits/splitting "
        "compress/compresses/compressing validate/validates/validating parse/parses/parsing "
        "store/stores/storing load/loads/loading retry/retries/retrying cancel/cancels/cancelling "
        "schedule/schedules/scheduling measure/measures/measuring compare/compares/comparing "
        "review/reviews/reviewing approve/approves/approving reject/rejects/rejecting "
        "summarize/summarizes/summarizing explain/explains/explaining refactor/refactors/"
        "refactoring deploy/deploys/deploying roll/rolls/rolling migrate/migrates/migrating "
        "index/indexes/indexing cache/caches/caching drop/drops/dropping keep/keeps/keeping "
        "track/tracks/tracking report/reports/reporting estimate/estimates/estimating "
        "reduce/reduces/reducing increase/increases/increasing limit/limits/limiting "
        "expose/exposes/exposing hide/hides/hiding configure/configures/configuring "
        "replace/replaces/replacing remove/removes/removing add/adds/adding test/tests/testing "
        "debug/debugs/debugging profile/profiles/profiling rank/ranks/ranking "
        "classify/classifies/classifying extract/extracts/extracting translate/translates/"
        "translating rewrite/rewrites/rewriting document/documents/documenting"
    )
]

_ADVERBS = _words(
    "quickly slowly carefully rarely often usually always never eventually immediately "
    "silently explicitly implicitly safely reliably partially fully gradually manually "
    "automatically periodically lazily eagerly twice again later first"
)

_PREPOSITIONS = _words(
    "in on for with from into after before during without across behind under over"
)

_DETERMINERS = ("the", "the", "the", "a", "each", "every", "this", "that", "our", "their", "any")
_PLURAL_DETERMINERS = ("the", "all", "our", "their", "these", "some", "most")

_NAMES = _words(
    "Alice Bob Carol Dmitri Erin Farah Gustavo Hana Ivan Jia Kofi Lena Mateo Nadia Omar Priya "
    "Quentin Rosa Sven Tomas Uma Viktor Wen Yusuf Zoe"
)

_COMPANIES = _words("Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Tyrell Soylent")

_TEMPLATES = (
    "{D} {A} {N} {Vs} {D2} {N2} {P} {D3} {A2} {N3}.",
    "To {V} {D} {N}, we {M} {V2} {D2} {A} {N2} {Adv}.",
    "If {D} {N} is {A}, {V} {D2} {N2} before {Ving} {D3} {N3}.",
    "{Cap_Adv}, {D} {N} of {D2} {N2} {Vs} {Adv}.",
    "{Name} says {D} {N} {Vs} {D2} {N2} {P} {NUM} {Ns}.",
    "We saw {NUM} {Ns} {P} {D} {A} {N} last {Period}, up from {NUM2}.",
    "The {N} in `{IDENT}` {Vs} {D} {N2}, so {D2} {N3} {M} {V} {Adv}.",
    "{Cap_Ving} {D} {N} {P} {D2} {N2} takes about {NUM} ms on {D3} {A} {N3}.",
    "It is {A} to {V} {D} {N} without {Ving} {D2} {N2}.",
    "Version {VER} {Vs} {D} {A} {N} and {Vs2} {D2} {N2}.",
    "{Name} and {Name2} {V} {Dp} {Ns} {Adv} when {D2} {N} is {A}.",
    "Most {Ns} {P} {D} {N} are {A}, but some {V} {D2} {N2} {Adv}.",
)

_QUESTIONS = (
    "Can you {V} how {D} {N} {Vs} {P} {D2} {A} {N2}?",
    "What is the best way to {V} {D} {N} when {D2} {N2} is {A}?",
    "Why does {D} {N} {V} {D2} {N2} {Adv}?",
    "Should we {V} {D} {A} {N} or {V2} {D2} {N2} first?",
    "How many {Ns} can {D} {N} {V} before {D2} {N2} becomes {A}?",
    "Could you {V} {D} {N} for `{IDENT}` and {V2} {D2} {Ns}?",
    "Is it safe to {V} {D} {N} {P} {D2} {A} {N2}?",
)

_MODALS = ("should", "can", "must", "could", "might", "will")
_PERIODS = ("week", "month", "quarter", "sprint", "release", "night")
_TYPES = ("int", "str", "bytes", "float", "bool", "dict[str, Any]", "list[str]")


_ARTICLE = re.compile(r"(^|\s)a ([aeio])", re.IGNORECASE)


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


class _Text:
    """Sentences, paragraphs, code and identifiers from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def ident(self) -> str:
        r = self.rng
        return f"{r.choice(_VERBS)[0]}_{r.choice(_NOUNS)}" + (
            f"_{r.choice(_NOUNS)}" if r.random() < 0.3 else ""
        )

    def _fill(self, template: str) -> str:
        r = self.rng
        verb, verb2 = r.choice(_VERBS), r.choice(_VERBS)
        values = {
            "N": r.choice(_NOUNS),
            "N2": r.choice(_NOUNS),
            "N3": r.choice(_NOUNS),
            "Ns": _plural(r.choice(_NOUNS)),
            "A": r.choice(_ADJECTIVES),
            "A2": r.choice(_ADJECTIVES),
            "V": verb[0],
            "V2": verb2[0],
            "Vs": verb[1],
            "Vs2": verb2[1],
            "Ving": verb[2],
            "Cap_Ving": verb[2].capitalize(),
            "Adv": r.choice(_ADVERBS),
            "Cap_Adv": r.choice(_ADVERBS).capitalize(),
            "P": r.choice(_PREPOSITIONS),
            "D": r.choice(_DETERMINERS),
            "D2": r.choice(_DETERMINERS),
            "D3": r.choice(_DETERMINERS),
            "Dp": r.choice(_PLURAL_DETERMINERS),
            "M": r.choice(_MODALS),
            "Name": r.choice(_NAMES),
            "Name2": r.choice(_NAMES),
            "NUM": str(
                r.choice((2, 3, 4, 5, 8, 10, 12, 16, 20, 32, 50, 64, 100, r.randint(6, 999)))
            ),
            "NUM2": str(r.randint(1, 400)),
            "Period": r.choice(_PERIODS),
            "IDENT": self.ident(),
            "VER": f"{r.randint(0, 4)}.{r.randint(0, 19)}.{r.randint(0, 9)}",
        }
        text = _ARTICLE.sub(r"\1an \2", template.format(**values))
        return text[0].upper() + text[1:]

    def sentence(self) -> str:
        return self._fill(self.rng.choice(_TEMPLATES))

    def question(self) -> str:
        return self._fill(self.rng.choice(_QUESTIONS))

    def paragraph(self, low: int = 3, high: int = 6) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def title(self) -> str:
        r = self.rng
        return f"{r.choice(_ADJECTIVES).capitalize()} {r.choice(_NOUNS)} {r.choice(_NOUNS)}"

    def code(self) -> str:
        r = self.rng
        name, helper, var = self.ident(), self.ident(), r.choice(_NOUNS)
        arg, kind = r.choice(_NOUNS), r.choice(_TYPES)
        lines = [
            f"def {name}({arg}: {kind}, *, limit: int = {r.choice((8, 16, 64, 100, 1000))}) -> "
            f"{r.choice(_TYPES)}:",
            f'    """{self.sentence()}"""',
            f"    {var} = {helper}({arg})",
            f"    if {var} is None:",
            f'        raise ValueError("{r.choice(_ADJECTIVES)} {r.choice(_NOUNS)}: {{{arg}!r}}")',
        ]
        if r.random() < 0.6:
            lines += [
                f"    for {r.choice(_NOUNS)}_id in range(limit):",
                f"        {var} = {self.ident()}({var}, {r.randint(1, 9)})",
            ]
        lines.append(f"    return {var}")
        language = "python"
        return f"```{language}\n" + "\n".join(lines) + "\n```"

    def answer(self, low: int, high: int) -> str:
        """An assistant turn: paragraphs, sometimes a list and a code block, ``low``-``high``
        characters."""
        r = self.rng
        target = r.randint(low, high)
        parts = [self.paragraph(2, 4)]
        while sum(len(p) for p in parts) < target:
            roll = r.random()
            if roll < 0.25:
                parts.append(
                    "\n".join(
                        f"{i}. **{self.title()}**: {self.sentence()}"
                        for i in range(1, r.randint(3, 5) + 1)
                    )
                )
            elif roll < 0.4:
                parts.append(self.code())
            else:
                parts.append(self.paragraph())
        return "\n\n".join(parts)

    def user_turn(self) -> str:
        r = self.rng
        parts = [self.sentence() for _ in range(r.randint(0, 3))]
        if r.random() < 0.2:
            parts.append(f"I get this error:\n\n```\n{self.log_line()}\n```\n")
        parts.append(self.question())
        return " ".join(parts)

    def log_line(self) -> str:
        r = self.rng
        seconds = r.randint(0, 86_399)
        level = r.choices(("INFO", "DEBUG", "WARNING", "ERROR"), (60, 25, 10, 5))[0]
        return (
            f"2024-06-11 {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d},"
            f"{r.randint(0, 999):03d} {level:<7} [worker-{r.randint(1, 8)}] "
            f"{r.choice(_NOUNS)}.{r.choice(_NOUNS)}: {self.sentence()} "
            f"{r.choice(_NOUNS)}_id={r.randint(1000, 99999)} elapsed_ms={r.randint(1, 4000)}"
        )

    def token(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))


# --- JSON helpers -------------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _tokens(text: str) -> int:
    """A rough token count (4 characters a token) for the ``usage`` blocks."""
    return max(1, len(text) // 4)


def _completion(
    t: _Text, content: str | None, prompt: int, created: int, model: str, **message: Any
) -> dict[str, Any]:
    completion_tokens = _tokens(content or "") + 20 * len(message.get("tool_calls", ()))
    return {
        "id": "chatcmpl-" + t.token(29),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message, "refusal": None},
                "logprobs": None,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "system_fingerprint": "fp_" + t.token(10, "0123456789abcdef"),
    }


def _system_prompt(t: _Text, company: str, sentences: int) -> str:
    return (
        f"You are a helpful assistant for the engineering team at {company}. "
        + " ".join(t.sentence() for _ in range(sentences))
        + " Answer concisely, use Markdown, and say so when you are not sure."
    )


# --- the entries --------------------------------------------------------------------------------


def _chat_request(t: _Text) -> list[bytes]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": _system_prompt(t, "Acme", 2)},
        {"role": "user", "content": t.question()},
    ]
    # Grow the user message until the request is about 1 KB.
    while len(_dumps(messages)) < 940:
        messages[1]["content"] = t.sentence() + " " + messages[1]["content"]
    body = {"messages": messages, "model": "gpt-4o-mini", "max_tokens": 512, "temperature": 0.2}
    return [_dumps(body)]


def _conversation(t: _Text, turns: int = 10) -> tuple[list[bytes], list[bytes]]:
    history: list[dict[str, Any]] = [
        {"role": "system", "content": _system_prompt(t, t.rng.choice(_COMPANIES), 5)}
    ]
    requests: list[bytes] = []
    responses: list[bytes] = []
    for turn in range(turns):
        history.append({"role": "user", "content": t.user_turn()})
        body = {
            "messages": history,
            "model": "gpt-4o",
            "max_tokens": 1024,
            "temperature": 0.7,
            "user": "agent-planner-7",
        }
        request = _dumps(body)
        requests.append(request)
        answer = t.answer(500, 1500)
        created = _EPOCH + 40 * turn + t.rng.randint(0, 30)
        responses.append(
            _dumps(_completion(t, answer, len(request) // 4, created, "gpt-4o-2024-08-06"))
        )
        history.append({"role": "assistant", "content": answer})
    return requests, responses


_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "search_documents",
            "description": "Full-text and semantic search over the internal knowledge base. "
            "Returns the best matching passages with their source and score.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "top_k": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 50,
                        "default": 5,
                        "description": "How many passages to return.",
                    },
                    "filters": {
                        "type": "object",
                        "properties": {
                            "source": {
                                "type": "string",
                                "enum": ["wiki", "tickets", "runbooks", "code", "chat"],
                            },
                            "updated_after": {"type": "string", "format": "date"},
                            "team": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
                "required": ["query"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_ticket",
            "description": "Fetch one ticket with its status, assignee and latest comments.",
            "parameters": {
                "type": "object",
                "properties": {
                    "ticket_id": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$"},
                    "include_comments": {"type": "boolean", "default": True},
                },
                "required": ["ticket_id"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "create_ticket",
            "description": "Open a new ticket in the tracker and return its id.",
            "parameters": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": 120},
                    "description": {"type": "string"},
                    "priority": {"type": "string", "enum": ["P0", "P1", "P2", "P3"]},
                    "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
                    "assignee": {"type": ["string", "null"], "description": "A username."},
                },
                "required": ["title", "description", "priority"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "run_sql",
            "description": "Run a read-only SQL query against an analytics replica.",
            "parameters": {
                "type": "object",
                "properties": {
                    "database": {"type": "string", "enum": ["billing", "usage", "crm"]},
                    "query": {"type": "string", "description": "A single SELECT statement."},
                    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 60000},
                },
                "required": ["database", "query"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_metrics",
            "description": "Time series of a service metric, aggregated per interval.",
            "parameters": {
                "type": "object",
                "properties": {
                    "service": {"type": "string"},
                    "metric": {
                        "type": "string",
                        "enum": ["latency_p50", "latency_p99", "error_rate", "rps", "cpu"],
                    },
                    "window": {"type": "string", "enum": ["1h", "6h", "24h", "7d"]},
                    "interval": {"type": "string", "enum": ["1m", "5m", "1h"]},
                },
                "required": ["service", "metric"],
                "additionalProperties": False,
            },
        },
    },
]


def _tool_exchange(t: _Text) -> tuple[list[bytes], list[bytes]]:
    r = t.rng
    history: list[dict[str, Any]] = [
        {"role": "system", "content": _system_prompt(t, "Globex", 3)},
        {"role": "user", "content": t.user_turn()},
    ]
    requests: list[bytes] = []
    responses: list[bytes] = []
    rounds: list[list[tuple[str, dict[str, Any]]]] = [
        [
            ("search_documents", {"query": t.question(), "top_k": 5}),
            ("get_metrics", {"service": t.ident(), "metric": "latency_p99", "window": "24h"}),
        ],
        [
            ("get_ticket", {"ticket_id": f"OPS-{r.randint(100, 9999)}"}),
            ("run_sql", {"database": "usage", "query": _sql(t), "timeout_ms": 5000}),
        ],
    ]
    for index in range(len(rounds) + 1):
        body = {
            "messages": history,
            "model": "gpt-4o",
            "tools": _TOOLS,
            "tool_choice": "auto",
            "parallel_tool_calls": True,
            "temperature": 0,
        }
        request = _dumps(body)
        requests.append(request)
        created = _EPOCH + 3600 + 20 * index
        if index == len(rounds):
            answer = t.answer(600, 1200)
            responses.append(_dumps(_completion(t, answer, len(request) // 4, created, "gpt-4o")))
            break
        calls: list[dict[str, Any]] = [
            {
                "id": "call_" + t.token(24),
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)},
            }
            for name, args in rounds[index]
        ]
        responses.append(
            _dumps(_completion(t, None, len(request) // 4, created, "gpt-4o", tool_calls=calls))
        )
        history.append({"role": "assistant", "content": None, "tool_calls": calls})
        for call in calls:
            result = _tool_result(t, call["function"]["name"])
            history.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    return requests, responses


def _sql(t: _Text) -> str:
    r = t.rng
    return (
        f"SELECT {r.choice(_NOUNS)}_id, count(*) AS n, avg(duration_ms) AS avg_ms "
        f"FROM {r.choice(_NOUNS)}_events WHERE created_at > now() - interval '7 days' "
        f"GROUP BY 1 ORDER BY n DESC LIMIT {r.choice((10, 20, 50))}"
    )


def _tool_result(t: _Text, name: str) -> str:
    r = t.rng
    result: Any
    if name == "search_documents":
        result = {
            "results": [
                {
                    "source": r.choice(("wiki", "tickets", "runbooks", "code")),
                    "title": t.title(),
                    "url": f"https://wiki.globex.example/{t.ident().replace('_', '-')}",
                    "score": round(r.uniform(0.5, 0.99), 4),
                    "passage": t.paragraph(2, 4),
                }
                for _ in range(5)
            ]
        }
    elif name == "get_metrics":
        result = {
            "unit": "ms",
            "interval": "1h",
            "points": [
                {"t": _EPOCH - 3600 * (24 - i), "v": round(r.uniform(80, 900), 1)}
                for i in range(24)
            ],
        }
    elif name == "get_ticket":
        result = {
            "status": r.choice(("open", "in_progress", "blocked")),
            "title": t.title(),
            "assignee": r.choice(_NAMES).lower(),
            "priority": r.choice(("P1", "P2")),
            "comments": [
                {"author": r.choice(_NAMES).lower(), "body": t.paragraph(1, 3)} for _ in range(3)
            ],
        }
    else:
        result = {
            "columns": ["id", "n", "avg_ms"],
            "rows": [
                [r.randint(1000, 99999), r.randint(1, 5000), round(r.uniform(1, 900), 2)]
                for _ in range(20)
            ],
            "elapsed_ms": r.randint(20, 900),
        }
    return json.dumps(result, ensure_ascii=False)


def _long_context(t: _Text, size: int = 128_000) -> list[bytes]:
    sections: list[str] = []
    length = 0
    number = 1
    while length < size - 2_000:
        section = f"## {number}. {t.title()}\n\n" + "\n\n".join(
            t.paragraph(4, 8) for _ in range(t.rng.randint(2, 5))
        )
        if t.rng.random() < 0.25:
            section += "\n\n" + t.code()
        sections.append(section)
        length += len(section) + 2
        number += 1
    document = "\n\n".join(sections)
    body = {
        "messages": [
            {"role": "system", "content": _system_prompt(t, "Initech", 3)},
            {
                "role": "user",
                "content": "Here is the design document we discussed:\n\n"
                + document
                + "\n\nSummarize the open questions in it and propose an order to resolve them.",
            },
        ],
        "model": "gpt-4o",
        "max_tokens": 2048,
        "temperature": 0.3,
    }
    return [_dumps(body)]


def _stream_chunks(t: _Text) -> list[bytes]:
    answer = t.answer(900, 1300)
    pieces = answer.replace("\n", " \n").split(" ")
    stream_id = "chatcmpl-" + t.token(29)
    fingerprint = "fp_" + t.token(10, "0123456789abcdef")
    created = _EPOCH + 7200

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        return _dumps(
            {
                "id": stream_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": "gpt-4o-mini-2024-07-18",
                "system_fingerprint": fingerprint,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
        )

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
    for index, piece in enumerate(pieces):
        chunks.append(chunk({"content": piece if index == 0 else " " + piece}, None))
    chunks.append(chunk({}, "stop"))
    return chunks


def _config_json(t: _Text) -> list[bytes]:
    r = t.rng
    config = {
        "service": {"name": "billing-gateway", "version": "3.14.2", "environment": "production"},
        "server": {
            "listen": "0.0.0.0:8443",
            "tls": {"cert": "/etc/tls/tls.crt", "key": "/etc/tls/tls.key", "min_version": "1.2"},
            "read_timeout_ms": 15000,
            "write_timeout_ms": 15000,
            "max_body_bytes": 10485760,
        },
        "database": {
            "primary": "postgres://billing@db-primary.internal:5432/billing",
            "replicas": [
                f"postgres://billing@db-replica-{i}.internal:5432/billing" for i in (1, 2)
            ],
            "pool": {"min": 4, "max": 64, "idle_timeout_s": 300},
        },
        "cache": {"backend": "redis", "url": "redis://cache.internal:6379/2", "ttl_s": 600},
        "features": {t.ident(): r.random() < 0.5 for _ in range(16)},
        "routes": [
            {
                "path": f"/v{r.randint(1, 2)}/{r.choice(_NOUNS)}/{{{r.choice(_NOUNS)}_id}}",
                "method": r.choice(("GET", "POST", "PUT", "DELETE")),
                "upstream": f"http://{r.choice(_NOUNS)}-service.internal:{r.randint(8000, 8999)}",
                "timeout_ms": r.choice((500, 1000, 2000, 5000)),
                "retries": r.randint(0, 3),
                "rate_limit": {"rps": r.choice((10, 50, 100, 500)), "burst": r.choice((20, 100))},
                "auth": r.choice(("jwt", "mtls", "api_key", "none")),
            }
            for _ in range(28)
        ],
        "logging": {"level": "info", "format": "json", "sample_rate": 0.1},
    }
    return [json.dumps(config, indent=2).encode("utf-8")]


def _json_events(t: _Text, count: int = 30) -> list[bytes]:
    r = t.rng
    events: list[bytes] = []
    timestamp = _EPOCH * 1000
    for _ in range(count):
        timestamp += r.randint(5, 4000)
        level = r.choices(("info", "debug", "warning", "error"), (60, 25, 10, 5))[0]
        record: dict[str, Any] = {
            "ts": f"2024-06-11T08:{timestamp // 60_000 % 60:02d}:{timestamp // 1000 % 60:02d}."
            f"{timestamp % 1000:03d}Z",
            "level": level,
            "logger": f"{r.choice(_NOUNS)}.{r.choice(_NOUNS)}",
            "msg": t.sentence(),
            "trace_id": t.token(32, "0123456789abcdef"),
            "span_id": t.token(16, "0123456789abcdef"),
            "host": f"ip-10-0-{r.randint(0, 255)}-{r.randint(0, 255)}",
            "http": {
                "method": r.choice(("GET", "POST")),
                "path": f"/v1/{r.choice(_NOUNS)}/{r.randint(1, 99999)}",
                "status": r.choice((200, 200, 200, 201, 204, 400, 404, 429, 500)),
                "duration_ms": round(r.uniform(0.4, 900), 2),
            },
            "user_id": r.randint(10_000, 999_999),
        }
        if level == "error":
            record["error"] = {"type": "TimeoutError", "detail": t.sentence()}
        events.append(_dumps(record))
    return events


def _text_logs(t: _Text, batches: int = 5, lines: int = 50) -> list[bytes]:
    return [
        ("\n".join(t.log_line() for _ in range(lines)) + "\n").encode("utf-8")
        for _ in range(batches)
    ]


# --- public -------------------------------------------------------------------------------------


def corpus(seed: int = DEFAULT_SEED) -> dict[str, list[bytes]]:
    """Every entry: name -> its messages in send order. Deterministic for a given ``seed``."""

    def text(offset: int) -> _Text:
        return _Text(random.Random(seed * 100 + offset))

    conv_requests, conv_responses = _conversation(text(2))
    tools_requests, tools_responses = _tool_exchange(text(3))
    builders: dict[str, Callable[[], list[bytes]]] = {
        "chat_request": lambda: _chat_request(text(1)),
        "conv_requests": lambda: conv_requests,
        "conv_responses": lambda: conv_responses,
        "tools_requests": lambda: tools_requests,
        "tools_responses": lambda: tools_responses,
        "long_context": lambda: _long_context(text(4)),
        "stream_chunks": lambda: _stream_chunks(text(5)),
        "config_json": lambda: _config_json(text(6)),
        "json_events": lambda: _json_events(text(7)),
        "text_logs": lambda: _text_logs(text(8)),
    }
    return {name: build() for name, build in builders.items()}


def is_json(message: bytes) -> bool:
    """Whether ``message`` is a JSON document (the text logs are not)."""
    try:
        json.loads(message)
    except ValueError:
        return False
    return True


def describe(entries: dict[str, list[bytes]]) -> str:
    """A table of the entries: messages, total bytes, smallest and largest message."""
    lines = [
        f"| {'entry':<16} | msgs | {'total bytes':>11} | {'min':>7} | {'max':>7} |",
        f"|{'-' * 18}|------|{'-' * 13}|{'-' * 9}|{'-' * 9}|",
    ]
    for name, messages in entries.items():
        sizes = [len(m) for m in messages]
        lines.append(
            f"| {name:<16} | {len(sizes):>4} | {sum(sizes):>11,} | {min(sizes):>7,} |"
            f" {max(sizes):>7,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The codec benchmark's corpus.")
    parser.add_argument("--write", metavar="DIR", help="dump every message to DIR/<entry>/")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    entries = corpus(args.seed)
    print(describe(entries))
    if args.write:
        root = Path(args.write)
        for name, messages in entries.items():
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            for index, message in enumerate(messages):
                suffix = "json" if is_json(message) else "txt"
                (folder / f"{index:03d}.{suffix}").write_bytes(message)
        print(f"written to {root}/<entry>/<nnn>.json|.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
