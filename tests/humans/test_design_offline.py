"""The offline design human: compares rendered pages and says what differs, in words, never in code."""

from __future__ import annotations

import asyncio
import re

import pytest

from colbench.humans.offline.design import (LOOKS_RIGHT, MAX_CHARS, OfflineDesignHuman, colour_name,
                                            describe_differences)
from colbench.render import PageSnapshot, Renderer
from colbench.tasks import load_tasks

ORDER = re.compile(r"\b(after|before|above|below|order|move)\b", re.IGNORECASE)


def drop_first_section(html: str) -> str:
    """Every bundled page starts with a header: remove it."""
    out, n = re.subn(r"<header\b.*?</header>", "", html, count=1, flags=re.S)
    assert n == 1
    return out


def top_level_block(html: str, tag: str, attrs: str = "") -> str:
    """A block at the top level of the body (the bundled pages indent those by two spaces)."""
    m = re.search(rf"\n  <{tag}\b{attrs}.*?\n  </{tag}>", html, flags=re.S)
    assert m, tag
    return m.group(0)


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {t.task_id: t.ground_truth for t in load_tasks("bundled", "frontend").tasks}


@pytest.fixture(scope="module")
def planted(pages) -> dict[str, str]:
    bakery, vet, audio = pages["fdev-001"], pages["fdev-011"], pages["fdev-009"]
    main, reviews = top_level_block(audio, "main"), top_level_block(audio, "section", ' class="bg-gray-100')
    swapped = audio.replace(main, "\0").replace(reviews, main).replace("\0", reviews)
    assert swapped != audio
    return {
        "recoloured": vet.replace('<header class="bg-green-500', '<header class="bg-red-600', 1),
        "no footer": bakery.replace(top_level_block(bakery, "footer"), ""),
        "swapped": swapped,
        "stacked": bakery.replace("md:grid-cols-3", "md:grid-cols-1", 1),
    }


@pytest.fixture(scope="module")
def snaps(pages, planted) -> dict[str, PageSnapshot]:
    """Every bundled page, each without its first section, and the planted variants: one browser."""
    jobs = {**pages, **{f"{k} cut": drop_first_section(v) for k, v in pages.items()},
            **planted}

    async def go() -> dict[str, PageSnapshot]:
        async with Renderer(pages=8) as r:
            shots = await asyncio.gather(*(r.render(html) for html in jobs.values()))
        return dict(zip(jobs, shots))

    result = asyncio.run(go())
    assert all(s.error is None for s in result.values())
    return result


def check(reply: str) -> str:
    assert reply and len(reply) <= MAX_CHARS
    low = reply.lower()
    for bad in ("<", "class=", "bg-", "{"):
        assert bad not in low, (bad, reply)
    return reply


def test_colour_names():
    assert colour_name((16, 185, 129)) == "green"
    assert colour_name((220, 38, 38)) == "red"
    assert colour_name((30, 58, 138)) == "dark blue"
    assert colour_name((37, 99, 235)) == "blue"
    assert colour_name((255, 255, 255)) == "white"
    assert colour_name((17, 24, 39)) == "black"
    assert colour_name((229, 231, 235)) == "light gray"
    assert colour_name((120, 53, 15)) == "brown"
    assert colour_name((255, 251, 235)) == "pale yellow"


def test_a_recoloured_header_is_named_with_both_colours(snaps):
    reply = check(describe_differences(snaps["recoloured"], snaps["fdev-011"]))
    assert "header" in reply.lower() and "red" in reply and "green" in reply
    assert "class" not in reply.lower()


def test_a_removed_section_is_reported_missing(snaps):
    reply = check(describe_differences(snaps["no footer"], snaps["fdev-001"]))
    assert re.search(r"footer is missing", reply, re.IGNORECASE), reply
    assert "brown" in reply  # what it should look like
    assert "class" not in reply.lower()


def test_swapped_sections_are_reported_out_of_order(snaps):
    reply = check(describe_differences(snaps["swapped"], snaps["fdev-009"]))
    assert ORDER.search(reply), reply
    assert "missing" not in reply and "remove" not in reply
    assert "class" not in reply.lower()


def test_stacked_cards_are_told_to_go_side_by_side(snaps):
    reply = check(describe_differences(snaps["stacked"], snaps["fdev-001"]))
    assert "three cards side by side" in reply, reply


def test_identical_pages_look_right(snaps):
    for key in ("fdev-001", "fdev-009", "fdev-011"):
        assert describe_differences(snaps[key], snaps[key]) == LOOKS_RIGHT


def test_no_page_yet_gets_the_structure(snaps):
    reply = check(describe_differences(None, snaps["fdev-011"]))
    assert re.search(r"green header", reply), reply
    assert "footer" in reply and "top to bottom" in reply
    assert "class" not in reply.lower()


def test_the_human_is_deterministic(snaps, pages):
    from colbench.tasks import Task

    human = OfflineDesignHuman()
    assert human.name == "offline-design"
    task = Task("fdev-011", "frontend", "A vet clinic page.", pages["fdev-011"], pages["fdev-011"])
    dialogue = [{"role": "agent", "content": "Here is my page."}]
    replies = {asyncio.run(human.respond(task, dialogue, snaps["recoloured"], snaps["fdev-011"])) for _ in range(3)}
    assert replies == {describe_differences(snaps["recoloured"], snaps["fdev-011"])}
    assert asyncio.run(human.respond(task, dialogue, None, snaps["fdev-011"])) == \
        describe_differences(None, snaps["fdev-011"])


def test_an_unrendered_or_empty_page_gets_the_structure(snaps):
    failed = PageSnapshot(png=b"", width=1280, height=720, page_height=0, error="rendering timed out")
    reply = check(describe_differences(failed, snaps["fdev-001"]))
    assert "header" in reply and "top to bottom" in reply
    empty = PageSnapshot(png=b"", width=1280, height=720, page_height=0)
    assert "top to bottom" in check(describe_differences(empty, snaps["fdev-001"]))


def test_every_bundled_page(snaps, pages):
    for key in pages:
        assert describe_differences(snaps[key], snaps[key]) == LOOKS_RIGHT, key
        reply = check(describe_differences(snaps[f"{key} cut"], snaps[key]))
        assert "header" in reply.lower(), (key, reply)
        check(describe_differences(snaps[key], snaps[f"{key} cut"]))  # an extra section
        check(describe_differences(None, snaps[key]))
        for sentences in (1, 2, 8):
            check(describe_differences(snaps[f"{key} cut"], snaps[key], max_sentences=sentences))
