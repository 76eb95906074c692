"""A deterministic simulated human for frontend tasks that needs no model.

`OfflineDesignHuman` compares the agent's rendered page with the reference page (both
`PageSnapshot`s from `colbench.render`) and says, in a few plain sentences in the user's voice,
what differs most. It never quotes HTML or CSS, only colours, positions and visible text.

The approach:

1. Segment each page into top-level sections: the body's children, descending through wrappers
   with a single child and no background of their own; tiny boxes are dropped. Each section gets
   a role (header, footer, navigation bar, sidebar, big image), a title (its largest text), its
   words, its images, its columns (the most large boxes side by side in one row) and a colour:
   its own opaque computed background, else the dominant colour of the screenshot along its
   edges (so gradients, background images and translucent overlays count), else the page's.
2. Match sections between the pages greedily by a score mixing word overlap, role, tag,
   vertical position and colour.
3. List differences with priorities: missing sections, sections out of order (matched sections
   off the longest run in the right order), extra sections, the page background, section
   backgrounds, side by side versus stacked, images, title wording, title size and weight, and
   section height.
4. Say the top few, naming colours in words (hue with light/dark qualifiers) and sections by
   role, title or ordinal. With no agent page yet (or an empty one), describe the reference
   top to bottom instead; with no differences found, say it looks right.

No randomness: the same pages always give the same reply.
"""

from __future__ import annotations

import colorsys
import io
import math
import re
from collections import Counter
from dataclasses import dataclass

from colbench.humans.base import Turn
from colbench.render import PageElement, PageSnapshot
from colbench.tasks import Task

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
MAX_CHARS = 1000
LOOKS_RIGHT = "This looks right to me."
MATCH_THRESHOLD = 0.3
_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_ROLE_TAGS = {"header": "header", "footer": "footer", "nav": "navigation bar", "aside": "sidebar"}
_STRONG_ROLES = {"header", "footer"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_COLOUR = re.compile(r"rgba?\(([^)]*)\)")
_WORD = re.compile(r"[^\W_]{2,}")
_LETTERS = re.compile(r"[^\W\d_]{2,}")


# --- colours -----------------------------------------------------------------------------------

def parse_colour(css: str) -> tuple[RGB, float] | None:
    """`rgb(...)`/`rgba(...)` to ((r, g, b), alpha); None for anything else."""
    m = _COLOUR.match(css.strip())
    if not m:
        return None
    try:
        parts = [float(p) for p in re.split(r"[,\s/]+", m.group(1).strip()) if p]
    except ValueError:
        return None
    if len(parts) < 3:
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2])), (parts[3] if len(parts) > 3 else 1.0)


def colour_name(rgb: RGB) -> str:
    """A plain name: a hue (or white/gray/black) with a light/dark qualifier."""
    r, g, b = rgb
    hi, lo = max(rgb), min(rgb)
    chroma, light = (hi - lo) / 255, (hi + lo) / 510
    if chroma < 0.1 and not (light > 0.85 and chroma >= 0.04):
        if light >= 0.97:
            return "white"
        if light >= 0.78:
            return "light gray"
        if light >= 0.45:
            return "gray"
        return "dark gray" if light >= 0.12 else "black"
    hue = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)[0] * 360
    for limit, name in ((12, "red"), (40, "orange"), (65, "yellow"), (170, "green"), (195, "teal"),
                        (250, "blue"), (290, "purple"), (340, "pink"), (361, "red")):
        if hue < limit:
            break
    if light < 0.35:
        return "brown" if name in ("orange", "yellow") else f"dark {name}"
    if light > 0.9:
        return f"pale {name}"
    return f"light {name}" if light > 0.72 else name


def _distance(a: RGB, b: RGB) -> float:
    return math.dist(a, b)


def _lightness(rgb: RGB) -> float:
    return (max(rgb) + min(rgb)) / 510


class _Pixels:
    """The screenshot, downscaled, for dominant colours of boxes."""

    SCALE = 4

    def __init__(self, snap: PageSnapshot):
        self.img = None
        try:
            from PIL import Image

            img = Image.open(io.BytesIO(snap.png)).convert("RGB")
            self.img = img.resize((max(1, img.width // self.SCALE), max(1, img.height // self.SCALE)),
                                  Image.Resampling.NEAREST)
        except Exception:
            pass

    def dominant(self, x: float, y: float, w: float, h: float, frame: bool = True) -> RGB | None:
        """Most common colour of the box's edges (or whole box); the mean colour when none
        dominates; None when the box is mostly outside the screenshot."""
        if self.img is None:
            return None
        s, (iw, ih) = self.SCALE, self.img.size
        x0, y0 = max(0, int(x / s)), max(0, int(y / s))
        x1, y1 = min(iw, int((x + w) / s)), min(ih, int((y + h) / s))
        if x1 - x0 < 1 or y1 - y0 < 1 or (y1 - y0) * s < h / 2:
            return None
        boxes = [(x0, y0, x1, y1)]
        t = 3
        if frame and x1 - x0 > 2 * t and y1 - y0 > 2 * t:
            boxes = [(x0, y0, x1, y0 + t), (x0, y1 - t, x1, y1), (x0, y0 + t, x0 + t, y1 - t),
                     (x1 - t, y0 + t, x1, y1 - t)]
        counts: Counter[RGB] = Counter()
        for box in boxes:
            crop = self.img.crop(box)
            for n, c in crop.getcolors(crop.width * crop.height) or []:
                counts[c] += n  # type: ignore[index]
        total = sum(counts.values())
        top, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= 0.3 * total:
            return top
        return tuple(round(sum(c[i] * k for c, k in counts.items()) / total) for i in range(3))  # type: ignore


# --- sections ----------------------------------------------------------------------------------

@dataclass
class _Section:
    index: int
    tag: str
    role: str  # header, footer, navigation bar, sidebar, image or ""
    x: float
    y: float
    w: float
    h: float
    colour: RGB
    transparent: bool  # shows the page background
    title: PageElement | None  # its largest text
    heading: str  # the title's text when it looks like a heading, else ""
    words: frozenset[str]
    images: int
    columns: int  # large boxes side by side in one row (1: stacked)
    cards: bool  # those boxes have their own background
    rel: float = 0.0  # vertical centre / page height

    @property
    def name(self) -> str:
        if self.role:
            return "the big image" if self.role == "image" else f"the {self.role}"
        return f'the "{self.heading}" section' if self.heading else self.plain_name

    @property
    def plain_name(self) -> str:
        if self.role:
            return self.name
        return f"the {_ORDINALS[self.index]} section" if self.index < len(_ORDINALS) else "a section"


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def _quote(text: str, limit: int = 40) -> str:
    text = re.sub(r"[<>{}\"=]", "", text).replace("bg-", "bg ").strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "..."
    return text


def _opaque(el: PageElement) -> RGB | None:
    parsed = parse_colour(el.bg)
    return parsed[0] if parsed and parsed[1] >= 0.99 else None


def _tree(els: list[PageElement]) -> tuple[list[list[int]], list[int]]:
    """Children of each element and the end of its subtree (elements come in document order)."""
    children: list[list[int]] = [[] for _ in els]
    end = [len(els)] * len(els)
    stack: list[int] = []
    for i, e in enumerate(els):
        while stack and els[stack[-1]].depth >= e.depth:
            end[stack.pop()] = i
        if stack:
            children[stack[-1]].append(i)
        stack.append(i)
    return children, end


def _segment(snap: PageSnapshot) -> tuple[list[_Section], RGB]:
    """The page's top-level sections, top to bottom, and its background colour."""
    els, pix = snap.elements, _Pixels(snap)
    if not els:
        return [], WHITE
    children, end = _tree(els)
    page_bg = _opaque(els[0]) or pix.dominant(0, 0, snap.width, snap.height, frame=False) or WHITE

    def visible(ids: list[int]) -> list[int]:
        return [c for c in ids if els[c].w >= 20 and els[c].h >= 8]

    node, kids = 0, visible(children[0])
    while len(kids) == 1 and visible(children[kids[0]]) and _opaque(els[kids[0]]) is None:
        node, kids = kids[0], visible(children[kids[0]])
    kids = sorted(kids or [node], key=lambda c: (round(els[c].y), els[c].x, c))
    page_h = max([snap.page_height] + [els[c].y + els[c].h for c in kids]) or 1
    sections = [_section(k, c, len(kids), els, children, end, pix, page_bg) for k, c in enumerate(kids)]
    for s in sections:
        s.rel = (s.y + s.h / 2) / page_h
    return sections, page_bg


def _section(k: int, i: int, n: int, els: list[PageElement], children: list[list[int]], end: list[int],
             pix: _Pixels, page_bg: RGB) -> _Section:
    e, sub = els[i], range(i, end[i])
    texts = [els[j] for j in sub if els[j].text]
    words = _words(" ".join(t.text for t in texts))
    imgs = [els[j] for j in sub if els[j].tag == "img" and els[j].w * els[j].h >= 2500]
    area = max(1.0, e.w * e.h)
    named = [t for t in texts if t.tag in _HEADINGS and _LETTERS.search(t.text)] or texts
    title = min(named, key=lambda t: (-t.font_size, named.index(t))) if named else None
    heading = ""
    if title is not None and (title.font_size >= 18 or title.tag in _HEADINGS) and _LETTERS.search(title.text):
        heading = _quote(title.text)
    own = _opaque(e)
    colour = own or pix.dominant(e.x, e.y, e.w, e.h) or page_bg
    transparent = _distance(colour, page_bg) < (10 if own else 25)
    role = _ROLE_TAGS.get(e.tag, "")
    if not role and sum(min(m.w * m.h, area) for m in imgs) >= 0.5 * area and len(words) <= 40:
        role = "image"
    elif not role and k == 0 and n > 1 and e.h <= 220 and any(els[j].tag == "a" for j in sub):
        role = "header"
    elif not role and k == n - 1 and k > 0 and re.search(r"©|copyright|rights reserved", " ".join(
            t.text.lower() for t in texts)):
        role = "footer"
    columns, cards = 1, False
    for j in sub:
        rows: dict[int, list[PageElement]] = {}
        for c in children[j]:
            if els[c].w >= 100 and els[c].h >= 60:
                rows.setdefault(round(els[c].y / 10), []).append(els[c])
        for row in rows.values():
            row = _side_by_side(row)
            if len(row) > columns:
                columns, cards = len(row), all(_opaque(r) is not None for r in row)
    return _Section(k, e.tag, role, e.x, e.y, e.w, e.h, colour, transparent, title, heading, words,
                    len(imgs), columns, cards)


def _side_by_side(row: list[PageElement]) -> list[PageElement]:
    """The boxes of a row that do not overlap (an overlay on an image is not a second column)."""
    kept: list[PageElement] = []
    for el in sorted(row, key=lambda e: (e.x, -e.w)):
        if not kept or el.x >= kept[-1].x + kept[-1].w - 2:
            kept.append(el)
    return kept


# --- matching ----------------------------------------------------------------------------------

def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _score(a: _Section, r: _Section) -> float:
    s = 0.5 * _jaccard(a.words, r.words)
    if a.role and a.role == r.role:
        s += 0.3
    elif a.role in _STRONG_ROLES and r.role in _STRONG_ROLES:
        s -= 0.3
    s += 0.1 * (a.tag == r.tag) + 0.2 * max(0.0, 1 - 2 * abs(a.rel - r.rel))
    return s + 0.1 * (1 - _distance(a.colour, r.colour) / 442)


def _match(agent: list[_Section], ref: list[_Section]) -> dict[int, int]:
    """Reference section index -> agent section index, greedily by score."""
    pairs = sorted(((_score(a, r), r.index, a.index) for r in ref for a in agent), key=lambda p: (-p[0], p[1], p[2]))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for score, ri, ai in pairs:
        if score >= MATCH_THRESHOLD and ri not in matched and ai not in used:
            matched[ri] = ai
            used.add(ai)
    return matched


def _in_order(seq: list[int]) -> set[int]:
    """Positions of a longest increasing subsequence of seq (earliest on ties)."""
    if not seq:
        return set()
    best = [1] * len(seq)
    prev = [-1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    i = max(range(len(seq)), key=lambda k: (best[k], -k))
    keep: set[int] = set()
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


# --- wording -----------------------------------------------------------------------------------

def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(n: int, noun: str) -> str:
    if n == 1:
        return ("an " if noun[0] in "aeiou" else "a ") + noun
    return f"{_NUMBERS.get(n, str(n))} {noun}s"


def _describe(s: _Section, page_w: float, with_heading: bool = True) -> str:
    """'a dark blue header titled "Acme" with three cards side by side'."""
    kind = {"image": "full-width image" if s.w >= 0.9 * page_w else "large image"}.get(s.role, s.role or "section")
    colour = "" if s.transparent or s.role == "image" else colour_name(s.colour) + " "
    text = f"{colour}{kind}"
    text = ("an " if text[0] in "aeiou" else "a ") + text
    if with_heading and s.heading:
        text += f' with "{s.heading}" on it' if s.role == "image" else f' titled "{s.heading}"'
    feats = []
    if s.columns >= 2:
        feats.append(f"{_NUMBERS.get(s.columns, str(s.columns))} {'cards' if s.cards else 'columns'} side by side")
    if s.images and s.role != "image":
        feats.append(_count(s.images, "image"))
    return text + (" with " + " and ".join(feats) if feats else "")


def _structure(ref: list[_Section], page_bg: RGB, page_w: float, intro: str = "") -> str:
    if not ref:
        return intro + "I want a simple page; nothing specific stands out."
    head = intro + "Here is what I have in mind, from top to bottom: "
    tail = f". The page background is {colour_name(page_bg)}."
    parts: list[str] = []
    for s in ref:
        part = _describe(s, page_w)
        if len(head) + len("; ".join(parts + [part])) + len(tail) > MAX_CHARS - 40:
            parts.append("and a few more sections")
            break
        parts.append(part)
    return head + "; ".join(parts) + tail


def _where(ref: list[_Section], r: _Section) -> str:
    prev = ref[r.index - 1].name if r.index > 0 else ""
    nxt = ref[r.index + 1].name if r.index + 1 < len(ref) else ""
    first = f"right after {prev}" if prev else "at the very top"
    return f"{first}, above {nxt}" if nxt else f"{first}, at the bottom"


def _differences(agent: list[_Section], a_bg: RGB, ref: list[_Section], r_bg: RGB, page_w: float,
                 matched: dict[int, int]) -> list[tuple[float, int, str]]:
    """(priority, order, sentence) for each difference found."""
    out: list[tuple[float, int, str]] = []
    for r in ref:
        if r.index not in matched:
            where = "at the top" if r.index == 0 else "at the bottom" if r.index == len(ref) - 1 else \
                f"right after {ref[r.index - 1].name}"
            desc = _describe(r, page_w, with_heading=not r.name.startswith('the "'))
            out.append((100 - r.index / 100, r.index, f"{_cap(r.name)} is missing: I want {desc} {where}."))
    order = sorted(matched)
    keep = _in_order([matched[ri] for ri in order])
    for pos, ri in enumerate(order):
        if pos not in keep:
            out.append((90, ri, f"{_cap(ref[ri].name)} should come {_where(ref, ref[ri])}."))
    used = set(matched.values())
    for a in agent:
        if a.index not in used:
            desc = _describe(a, page_w, with_heading=False)
            desc = "" if desc == "a section" else f" ({desc})"
            out.append((70, 100 + a.index, f"I don't need {a.name}{desc}; please remove it."))
    if colour_name(a_bg) != colour_name(r_bg) and _distance(a_bg, r_bg) > 40:
        out.append((65, -1, f"The page background should be {colour_name(r_bg)}, not {colour_name(a_bg)}."))
    for ri, ai in sorted(matched.items()):
        out.extend(_section_differences(ref[ri], agent[ai]))
    return out


def _section_differences(r: _Section, a: _Section) -> list[tuple[float, int, str]]:
    out: list[tuple[float, int, str]] = []
    name, i = r.name, r.index
    rn, an = colour_name(r.colour), colour_name(a.colour)
    if not (r.transparent and a.transparent) and "image" not in (r.role, a.role):
        if rn != an and _distance(r.colour, a.colour) > 50:
            out.append((60 + r.h / 1000, i, f"{_cap(name)} background should be {rn}, not {an}."))
        elif abs(_lightness(r.colour) - _lightness(a.colour)) > 0.18:
            shade = "darker" if _lightness(r.colour) < _lightness(a.colour) else "lighter"
            out.append((58, i, f"{_cap(name)} background should be a {shade} {rn}."))
    items = "cards" if r.cards else "columns"
    if r.columns >= 2 and a.columns != r.columns:
        was = "stacked" if a.columns < 2 else _NUMBERS.get(a.columns, str(a.columns))
        out.append((55, i, f"{_cap(name)} should have {_NUMBERS.get(r.columns, str(r.columns))} {items} "
                           f"side by side, not {was}."))
    elif r.columns < 2 and a.columns >= 2 and r.role not in _STRONG_ROLES:
        out.append((54, i, f"The content of {name} should be stacked one above the other, not side by side."))
    if r.images != a.images and not (r.role == "image" and a.images):
        if r.images == 0:
            out.append((50, i, f"{_cap(name)} shouldn't have any images."))
        else:
            out.append((50, i, f"{_cap(name)} should have {_count(r.images, 'image')}"
                               f"{'' if a.images == 0 else ', not ' + _NUMBERS.get(a.images, str(a.images))}."))
    plain = r.plain_name
    if r.heading and r.heading != a.heading and _jaccard(_words(r.heading), _words(a.heading)) < 0.5:
        if a.heading:
            out.append((35, i, f'The title of {plain} should read "{r.heading}", not "{a.heading}".'))
        else:
            out.append((35, i, f'{_cap(plain)} should have the title "{r.heading}".'))
    if r.title is not None and a.title is not None and r.heading:
        changes = []
        ratio = r.title.font_size / max(1.0, a.title.font_size)
        if ratio >= 1.2 or ratio <= 1 / 1.2:
            changes.append("larger" if ratio > 1 else "smaller")
        r_bold, a_bold = _bold(r.title), _bold(a.title)
        if r_bold != a_bold:
            changes.append("bold" if r_bold else "not bold")
        if changes:
            out.append((30, i, f'The title "{r.heading}" should be {" and ".join(changes)}.'))
    ratio = r.h / max(1.0, a.h)
    if (ratio >= 1.6 or ratio <= 1 / 1.6) and abs(r.h - a.h) >= 80:
        out.append((25, i, f"{_cap(name)} should be {'taller' if ratio > 1 else 'shorter'}."))
    return out


def _bold(el: PageElement) -> bool:
    try:
        return int(el.font_weight) >= 600
    except ValueError:
        return el.font_weight in ("bold", "bolder")


def _clean(text: str) -> str:
    text = text.replace("<", "").replace(">", "").replace("class=", "class ").replace("bg-", "bg ")
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 3].rsplit(" ", 1)[0] + "..."


# --- the human ---------------------------------------------------------------------------------

def describe_differences(agent: PageSnapshot | None, reference: PageSnapshot, max_sentences: int = 4) -> str:
    """What the user would say on comparing the agent's page with the reference: the most
    outstanding differences in at most `max_sentences` plain sentences (under 1000 characters),
    a description of the reference when there is no agent page yet, or that it looks right."""
    ref, r_bg = _segment(reference)
    page_w = float(reference.width or 1280)
    if agent is None:
        return _clean(_structure(ref, r_bg, page_w))
    if agent.error:
        return _clean(_structure(ref, r_bg, page_w, "I couldn't see your page, it didn't display. "))
    got, a_bg = _segment(agent)
    if not any(s.words or s.images or not s.transparent for s in got) and ref:
        return _clean(_structure(ref, r_bg, page_w, "Your page looks empty to me. "))
    matched = _match(got, ref)
    if len(matched) < len(ref) / 2:
        return _clean(_structure(ref, r_bg, page_w, "This is quite different from what I want. "))
    diffs = sorted(_differences(got, a_bg, ref, r_bg, page_w, matched), key=lambda d: (-d[0], d[1], d[2]))
    if not diffs:
        return LOOKS_RIGHT
    chosen: list[str] = []
    for _, _, sentence in diffs[:max(1, max_sentences)]:
        if len(" ".join(chosen + [sentence])) > MAX_CHARS:
            break
        chosen.append(sentence)
    return _clean(" ".join(chosen) or diffs[0][2])


class OfflineDesignHuman:
    """A frontend human that needs no model: it says how the agent's page differs from the reference."""

    name = "offline-design"

    async def respond(self, task: Task, dialogue: list[Turn], agent_page: PageSnapshot | None,
                      reference_page: PageSnapshot, *, seed: int | None = None) -> str:
        # Deterministic: the same reply whatever the seed.
        return describe_differences(agent_page, reference_page)

    async def aclose(self) -> None:
        """Nothing to release: no model."""
