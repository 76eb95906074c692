"""Answering the agent's latest message from the facts: score each fact by the names, topics and
words the message shares with it, and reply with the best one to three (or a generic or "I'm not
sure" reply)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from colbench.humans.offline.facts import Fact

MAX_REPLY = 400
MAX_FACTS_PER_REPLY = 3

DONT_KNOW = "I'm not sure about that, I don't have a preference."
NOTHING_LEFT = "I think I've told you everything I care about, so please go ahead and write it."
NO_FACTS = "I don't have more details than what I described; please do what seems most reasonable."


TOPIC_WORDS: dict[str, str] = {
    "round": "round rounds rounding rounded decimal decimals precision places place digits digit nearest "
             "ceil ceiling floor truncate truncated truncation whole integer integers int float floats cents",
    "sort": "sort sorts sorted sorting order ordering ordered rank ranking ranked ascending descending "
            "alphabetical alphabetically reverse reversed highest lowest top",
    "tie": "tie ties tied tiebreak tiebreaker tiebreaking",
    "return": "return returns returned returning output outputs result results back produce "
              "produces shape structure type types",
    "format": "format formatted formatting string strings text display displayed look looks print "
              "message messages label labels",
    "threshold": "threshold thresholds cutoff cutoffs boundary boundaries above below greater minimum "
                 "maximum range ranges condition conditions criteria criterion rule rules category "
                 "categories level levels tier tiers limit limits",
    "default": "default defaults defaulted optional omitted omit unspecified provided given pass passed leave",
    "negative": "negative negatives zero zeros invalid edge nonpositive",
    "empty": "empty blank none nothing missing",
    "clamp": "cap capped caps clamp clamped clamping bound bounds maximum minimum max min exceed exceeds",
    "error": "error errors raise raises raised exception exceptions invalid fail fails mismatch",
    "input": "input inputs parameter parameters argument arguments param params",
    "case": "uppercase lowercase capital capitals capitalization capitalized sensitive insensitive",
    "formula": "formula formulas calculate calculation calculated compute computed computation weight "
               "weights weighted rate rates factor factors multiplier",
}
WORD_TOPICS: dict[str, set[str]] = {}
for _topic, _words in TOPIC_WORDS.items():
    for _w in _words.split():
        WORD_TOPICS.setdefault(_w, set()).add(_topic)

# Topics precise enough that a question about them which matches no fact gets "I'm not sure".
SPECIFIC_TOPICS = {"round", "sort", "tie", "default", "clamp", "error", "empty", "negative", "case"}

GENERIC_MARKERS = (
    "tell me", "more", "detail", "need", "want", "requirement", "else", "hello", "hi", "hey", "help",
    "clarif", "explain", "describe", "specific", "information", "info", "expect", "function",
    "start", "understand", "elaborate", "example", "anything", "thanks", "thank", "okay", "great",
    "here", "code", "implement", "write", "draft", "works", "work",
)

STOPWORDS = set(
    "a an the and or of to in on for is it its it's be by as at with from that this these those i you "
    "me my we our your what which who how when where why should would could can will do does did "
    "are was were if then than so but not no yes any all each some there their them they he she "
    "about into out up down more less also just only very much many want need like tell please "
    "function value values number numbers use used using get gets got one two has have had thing "
    "things way ok okay hi hello thanks thank".split())


def answer(facts: Sequence[Fact], message: str, said: Sequence[str]) -> str:
    """Picks the facts that answer `message`, given what earlier human turns (`said`) already told."""
    told = {f.text for f in facts if any(f.text in s for s in said)}
    if not facts:
        return NO_FACTS
    words = tokenize(message)
    if looks_like_code(message):
        return generic_reply(facts, told)
    mentions = name_mentions(words, facts)
    topics = {t for w in words for t in WORD_TOPICS.get(w, ())}
    specific = topics & SPECIFIC_TOPICS
    if specific and not mentions and not any(f.topics & specific for f in facts):
        return DONT_KNOW  # e.g. asked about rounding, and the reference does not round
    scored = [(score_fact(f, mentions, topics, words), f) for f in facts]
    strong = [(s, f) for s, f in scored if s[0] > 0]
    if strong:
        return compose(pick(strong, told))
    weak = [(s, f) for s, f in scored if s[1] >= 2]
    if is_generic(words):
        return generic_reply(facts, told)
    if weak:
        return compose(pick(weak, told))
    if "?" not in message:
        return generic_reply(facts, told)
    return DONT_KNOW


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", text.lower())


def looks_like_code(message: str) -> bool:
    return "```" in message or "def " in message or "return " in message


def is_generic(words: Sequence[str]) -> bool:
    """A greeting, 'tell me more', 'anything else?': no specific question."""
    text = " " + " ".join(words) + " "
    return any((" " + m) in text for m in GENERIC_MARKERS) or not words


def name_mentions(words: Sequence[str], facts: Sequence[Fact]) -> dict[str, int]:
    """Names the message refers to: 2 when named in full, 1 when only a distinctive part is named."""
    wordset = set(words)
    names = {n for f in facts for n in f.names | f.related}
    found: dict[str, int] = {}
    for name in sorted(names):
        lname = name.lower()
        parts = [p for p in lname.split("_") if p]
        if lname in wordset or (len(parts) > 1 and all(p in wordset for p in parts)):
            found[name] = 2
        elif any(len(p) >= 4 and p not in STOPWORDS and p in wordset for p in parts):
            found[name] = 1
    return found


def fact_keywords(fact: Fact) -> set[str]:
    return {w for w in tokenize(fact.text) if len(w) >= 3 and w not in STOPWORDS}


def quoted_words(fact: Fact) -> set[str]:
    """Words inside the fact's quoted constants ('cactus', 'master'): they count double."""
    return {w for q in re.findall(r"'([^']*)'", fact.text) for w in tokenize(q)}


def score_fact(fact: Fact, mentions: dict[str, int], topics: set[str], words: Sequence[str]) -> tuple[int, int]:
    """(strong score from names and topics, weak score from shared words)."""
    strong = 0
    for name, level in mentions.items():
        if name in fact.names:
            strong += 4 if level == 2 else 2
        elif name in fact.related:
            strong += 2 if level == 2 else 1
    strong += 3 * len(topics & fact.topics)
    shared = fact_keywords(fact) & {w for w in words if w not in STOPWORDS}
    return strong, min(3, len(shared) + len(shared & quoted_words(fact)))


def pick(scored: list[tuple[tuple[int, int], Fact]], told: set[str]) -> list[Fact]:
    """The best-matching facts (at least half as relevant as the best), facts not told yet first."""
    values = [(strong * 2 + weak - (2 if fact.text in told else 0), fact) for (strong, weak), fact in scored]
    values.sort(key=lambda item: (-item[0], -item[1].priority, item[1].order))
    best = values[0][0]
    return [fact for value, fact in values if value * 2 >= best]


def generic_reply(facts: Sequence[Fact], told: set[str]) -> str:
    fresh = sorted((f for f in facts if f.text not in told), key=lambda f: (-f.priority, f.order))
    if not fresh:
        return NOTHING_LEFT
    return compose(fresh)


def compose(facts: Iterable[Fact]) -> str:
    """Joins up to three facts, staying within MAX_REPLY characters."""
    parts: list[str] = []
    for fact in facts:
        if len(parts) >= MAX_FACTS_PER_REPLY:
            break
        candidate = " ".join(parts + [fact.text])
        if len(candidate) <= MAX_REPLY:
            parts.append(fact.text)
    return " ".join(parts) if parts else NO_FACTS
