"""Rendering HTML to screenshots with Playwright and Chromium, offline and deterministic.

One browser; a pool of page slots, each its own browser context with one reused page; a
fixed viewport; full-page screenshots capped in height. Page scripts are disabled: ColBench
pages are static HTML and Tailwind, and with no scripts an infinite loop, a dialog or
window.open cannot stall a render.

Offline (the default), nothing leaves the browser. Playwright's routing serves the Tailwind
2.2.19 stylesheet from a local copy installed by the set-up and `picsum.photos` images from
a local copy of the photo where one is given (the photo --protocol sweet_rl shows, which
`colbench tasks download` fetches), else from a deterministic placeholder of the requested
size, and refuses every other request.
Routing does not see everything a page can ask for (a `<link rel=prefetch>`, speculative
connections), so every context also goes through a loopback proxy of ours that forwards
nothing, loopback included, and host names are never resolved. Each slot has its own proxy,
so every refused attempt is listed in the snapshot of the page that made it.

Deterministic: animated images (GIF, APNG, WebP, SVG) show their first frame, SVG (SMIL)
and CSS animations, marquees and the document timeline are frozen at their start, and
autofocus is settled the same way every time, so the same page gives the same pixels at
any moment.

Each render has a time limit. A page that overruns it loses its context (its renderer
process), not the browser: the browser is restarted only when it no longer answers, or has
crashed, and renders that a restart or crash interrupted are rendered again.

Besides the screenshot, a render returns the page's visible elements (box, colours, text,
image source), read from the DOM, for the offline design human.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from colbench.errors import ColbenchError
from colbench.paths import assets_dir
from colbench.procs import kill_marked

log = logging.getLogger(__name__)

VIEWPORT = (1280, 720)
MAX_HEIGHT = 6000
TAILWIND_VERSION = "2.2.19"
TAILWIND_FILE = f"tailwind-{TAILWIND_VERSION}.min.css"
# The Tailwind 2 stylesheet as the usual CDNs serve it (jsDelivr, unpkg and the like:
# npm package paths; cdnjs: its own), for any version spec whose newest match online is
# 2.2.19 (`2`, `^2`, `2.x`, `2.2`, `2.2.19`, ...). An older pinned 2.x (2.0.4, 2.1.2) gets
# 2.2.19 too, nearly the same; versions 3 and later have no such stylesheet (a link to one
# styles nothing online either), so they are refused like any other request.
_TW2 = r"(?:\^|%5[Ee]|~|>=)?2(?:\.(?:\d+|x|\*)){0,2}"
_TAILWIND_URL = re.compile(rf"tailwindcss@{_TW2}/dist/tailwind(?:\.min)?\.css(?:$|[?#])"
                           rf"|//cdnjs\.cloudflare\.com/ajax/libs/tailwindcss/{_TW2}/tailwind(?:\.min)?\.css(?:$|[?#])")
_PICSUM = re.compile(r"^https?://(?:i\.)?picsum\.photos/(?:id/(\d+)/)?(\d+)(?:/(\d+))?")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--font-render-hinting=none",
                 "--disable-lcd-text", "--force-color-profile=srgb", "--hide-scrollbars",
                 # Blink's "no animation" image policy: GIF, APNG, WebP and SVG images show their
                 # first frame, and SVG (SMIL) animations do not run.
                 "--blink-settings=imageAnimationPolicy=2"]
# Offline only: no host name is ever resolved (the proxy is an IP literal, never looked up).
OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
# Every request goes through our proxy, loopback included (Chromium bypasses proxies for
# loopback addresses unless told not to).
_PROXY_BYPASS = "<-loopback>"
_CLOSE_S = 5.0  # a context or browser that takes longer than this to close does not answer
_ATTEMPTS = 3  # renders of one page, when a browser crash or restart interrupts them


@dataclass
class PageElement:
    """A visible element: box in CSS pixels, computed colours, own text, image source."""

    tag: str
    x: float
    y: float
    w: float
    h: float
    bg: str  # computed background-color, "rgba(0, 0, 0, 0)" when transparent
    color: str  # computed text colour
    font_size: float
    font_weight: str
    text: str  # the element's own text (not its children's), trimmed
    src: str | None = None  # images
    depth: int = 0


@dataclass
class PageSnapshot:
    png: bytes
    width: int
    height: int  # of the screenshot (capped at MAX_HEIGHT)
    page_height: int  # of the page
    elements: list[PageElement] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # requests refused (offline mode)
    error: str | None = None  # the page could not be rendered (timeout, crash)


def tailwind_css() -> bytes:
    path = assets_dir() / TAILWIND_FILE
    if not path.is_file():
        raise ColbenchError(f"the local Tailwind {TAILWIND_VERSION} stylesheet is missing at {path}; "
                            "run `make setup` (it fetches it with npm pack tailwindcss@2.2.19)")
    return path.read_bytes()


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ColbenchError("no Chromium found; install Debian's chromium (apt-get install chromium) or run `make setup`")


_CACHEABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_placeholders: dict[tuple[int, int], bytes] = {}


def placeholder_png(width: int, height: int) -> bytes:
    """A deterministic stand-in for a picsum photo: a soft diagonal gradient of the asked size."""
    width, height = max(1, min(width, 4000)), max(1, min(height, 4000))
    key = (width, height)
    if key not in _placeholders:
        from PIL import Image

        img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        r, g, b = img.split()
        img = Image.merge("RGB", (r.point(lambda v: 90 + v // 3), g.point(lambda v: 110 + v // 4),
                                  b.point(lambda v: 130 + v // 5)))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        _placeholders[key] = buf.getvalue()
    return _placeholders[key]


@functools.lru_cache(maxsize=64)
def photo_jpeg(path: str, width: int, height: int) -> bytes:
    """A photo served as picsum serves it at a size: scaled to cover width x height, then
    cropped at the centre, as a JPEG."""
    from PIL import Image, ImageOps

    width, height = max(1, min(width, 5000)), max(1, min(height, 5000))
    with Image.open(path) as img:
        img.draft("RGB", (width, height))  # JPEG: decode at the smallest scale that still covers
        fitted = ImageOps.fit(img.convert("RGB"), (width, height), method=Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    fitted.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


# "load" does not mean painted: wait until images are decoded and fonts ready, or the
# screenshot may catch them half-drawn. Returns the page's height (it lays the page out).
_SETTLE_JS = """
() => Promise.all([document.fonts.ready, ...Array.from(document.images).map(i => i.decode().catch(() => null))])
  .then(() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0))
"""

# Run once the page has loaded, before anything is measured or shot. Autofocus is applied at
# a rendering update whose time varies: the attribute is taken off every candidate, which
# cancels an autofocus still pending, and whatever holds focus is blurred. Chromium can still
# focus the element later, even during the screenshot (seen on fresh pages under load), so
# _FOCUS_MOVED_JS is asked after each shot. SMIL time is pinned at 0 (the image policy
# already stops it), media paused, and the page scrolled to its top.
_FREEZE_JS = """
() => {
  for (const el of document.querySelectorAll('[autofocus]')) el.removeAttribute('autofocus');
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  for (const svg of document.querySelectorAll('svg')) { try { svg.pauseAnimations(); svg.setCurrentTime(0); } catch (e) {} }
  for (const media of document.querySelectorAll('video, audio')) { try { media.pause(); } catch (e) {} }
  window.scrollTo(0, 0);
}
"""
# After a shot: whether anything took focus or scrolled the page since the freeze (then the
# freeze is applied again, and the page shot again).
_FOCUS_MOVED_JS = """
() => (document.activeElement !== null && document.activeElement !== document.body) || scrollX !== 0 || scrollY !== 0
"""
_FREEZE_AND_SETTLE_JS = f"() => {{ ({_FREEZE_JS.strip()})(); return ({_SETTLE_JS.strip()})(); }}"

_ELEMENTS_JS = """
(maxElements) => {
  const out = [];
  const walk = (el, depth) => {
    if (out.length >= maxElements) return;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) {
      let text = '';
      for (const n of el.childNodes) if (n.nodeType === 3) text += n.textContent;
      text = text.replace(/\\s+/g, ' ').trim().slice(0, 200);
      out.push({tag: el.tagName.toLowerCase(), x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height,
                bg: style.backgroundColor, color: style.color, font_size: parseFloat(style.fontSize) || 0,
                font_weight: style.fontWeight, text, src: el.tagName === 'IMG' ? el.getAttribute('src') : null,
                depth});
    }
    for (const c of el.children) walk(c, depth + 1);
  };
  if (document.body) walk(document.body, 0);
  return out;
}
"""


class _NullProxy:
    """A loopback HTTP proxy that forwards nothing. It reads each request's first line,
    reports its target (the URL, or `CONNECT host:port` for a tunnel), answers 403 and
    closes. A connection that sends no request (a speculative preconnect) reports nothing."""

    def __init__(self, report: Callable[[str], None]):
        self._report = report
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            line = await asyncio.wait_for(reader.readline(), 60)
            parts = line.decode("latin-1").split()
            if len(parts) == 3 and parts[2].startswith("HTTP/"):
                self._report(f"CONNECT {parts[1]}" if parts[0] == "CONNECT" else parts[1])
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except (asyncio.TimeoutError, OSError, ValueError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()


@dataclass
class _Slot:
    """A place for one render at a time: a browser context with one reused page (reused
    because a fresh page costs about as much as a small render, and its first page load
    parses the 2.9 MB stylesheet again) and, offline, its own proxy."""

    proxy: _NullProxy | None = None
    browser: Any = None  # the browser the context lives in
    context: Any = None
    page: Any = None
    blocked: list[str] | None = None  # the list of the render in progress


class Renderer:
    """Renders HTML pages concurrently in one Chromium. Use as an async context manager."""

    def __init__(self, *, pages: int = 4, allow_network: bool = False, timeout_s: float = 15.0,
                 viewport: tuple[int, int] = VIEWPORT, max_height: int = MAX_HEIGHT, max_elements: int = 2000,
                 photos: dict[int, Path] | None = None):
        self.pages = pages
        self.photos = dict(photos or {})  # picsum id -> a local copy of that photo
        self.allow_network = allow_network
        self.timeout_s = timeout_s
        self.viewport = viewport
        self.max_height = max_height
        self.max_elements = max_elements
        self._css = b"" if allow_network else tailwind_css()
        self._pw: Any = None
        self._browser: Any = None
        self._browser_proxy: _NullProxy | None = None
        self._slots = [_Slot() for _ in range(pages)]
        self._free: asyncio.Queue[_Slot] = asyncio.Queue()
        self._restart_lock = asyncio.Lock()
        self._generation = 0  # counts restarts begun: a render that saw it change was interrupted
        self._marker = ""  # a switch on the browser's command line, to find its process
        self.restarts = 0
        # Requests no page made (the browser's own), refused all the same.
        self.browser_blocked: list[str] = []

    async def __aenter__(self) -> "Renderer":
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        try:
            if not self.allow_network:
                self._browser_proxy = _NullProxy(self._browser_request)
                await self._browser_proxy.start()
                for slot in self._slots:
                    slot.proxy = _NullProxy(functools.partial(self._page_request, slot))
                    await slot.proxy.start()
            for slot in self._slots:
                self._free.put_nowait(slot)
            await self._launch()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _browser_request(self, target: str) -> None:
        self.browser_blocked.append(target)
        log.debug("refused a request of the browser itself: %s", target)

    def _page_request(self, slot: _Slot, target: str) -> None:
        if slot.blocked is not None:
            slot.blocked.append(target)
        else:  # arrived after its page's render ended
            self._browser_request(target)

    async def _launch(self) -> None:
        self._marker = f"--colbench-renderer={uuid.uuid4().hex}"
        args = [*CHROMIUM_ARGS, self._marker]
        proxy = None
        if not self.allow_network:
            args += OFFLINE_ARGS
            # The browser's own requests (updates, sign-in) go to a proxy of their own;
            # each page slot's context gets its own proxy on top of that.
            assert self._browser_proxy is not None  # started above when offline
            proxy = {"server": self._browser_proxy.url, "bypass": _PROXY_BYPASS}
        try:
            self._browser = await self._pw.chromium.launch(executable_path=chromium_path(), args=args,
                                                           headless=True, proxy=proxy)
        except ColbenchError:
            raise
        except Exception as exc:
            raise ColbenchError(f"Chromium failed to start: {str(exc).splitlines()[0][:200]}") from exc

    async def close(self) -> None:
        if self._browser is not None:
            await self._close_browser(self._browser)
            self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None
        for proxy in [self._browser_proxy, *(slot.proxy for slot in self._slots)]:
            if proxy is not None:
                await proxy.close()

    async def _close_browser(self, browser: Any) -> None:
        try:
            await asyncio.wait_for(browser.close(), _CLOSE_S)
        except Exception:
            _kill_process_with(self._marker)  # it does not answer: it must not outlive us

    async def _restart(self, broken: Any) -> None:
        async with self._restart_lock:
            if self._browser is not broken:
                return  # someone else restarted it already
            self.restarts += 1
            self._generation += 1
            log.warning("restarting the browser (restart %d)", self.restarts)
            await self._close_browser(broken)
            await self._launch()

    async def render(self, html: str, *, elements: bool = True) -> PageSnapshot:
        """Screenshot and (unless `elements` is False) visible elements of `html`; a page that
        cannot be rendered in time gives a snapshot with `error` set (and a blank
        screenshot), never an exception."""
        slot = await self._free.get()
        blocked: list[str] = []
        try:
            for _ in range(_ATTEMPTS):
                browser, generation = self._browser, self._generation
                blocked.clear()
                slot.blocked = blocked
                try:
                    return await asyncio.wait_for(self._render_in(slot, browser, html, elements, blocked),
                                                  self.timeout_s)
                except asyncio.TimeoutError:
                    # This page is stuck: it loses its context (and renderer process), not
                    # the browser. If the browser does not even answer that, it was the one
                    # stuck: it is restarted and the page rendered again.
                    if await self._discard(slot) or self._generation != generation:
                        continue
                    return self._failed("rendering timed out", blocked)
                except Exception as exc:
                    if self._generation != generation or not browser.is_connected():
                        # The browser went away under this render, for a crash or for another
                        # page: not this page's doing, so it is rendered again.
                        log.info("render interrupted by a browser crash or restart; rendering again")
                        await self._restart(browser)
                        continue
                    await self._discard(slot)
                    return self._failed(f"rendering failed: {type(exc).__name__}: {str(exc)[:200]}", blocked)
            return self._failed("rendering failed: the browser crashed or hung on every attempt", blocked)
        except asyncio.CancelledError:
            # Stopped midway (an episode's time limit): the page may still be loading, running
            # its scripts or being shot, so the slot starts the next render with a new context.
            await asyncio.shield(self._discard(slot))
            raise
        finally:
            slot.blocked = None
            self._free.put_nowait(slot)

    def _failed(self, reason: str, blocked: list[str]) -> PageSnapshot:
        w, h = self.viewport
        return PageSnapshot(png=_blank_png(w, h), width=w, height=h, page_height=0, blocked=list(blocked),
                            error=reason)

    async def _open(self, slot: _Slot, browser: Any) -> None:
        """A fresh context and page for `slot` in `browser`."""
        w, h = self.viewport
        options: dict[str, Any] = {"java_script_enabled": False, "viewport": {"width": w, "height": h},
                                   "device_scale_factor": 1, "reduced_motion": "reduce"}
        if slot.proxy is not None:
            options["proxy"] = {"server": slot.proxy.url, "bypass": _PROXY_BYPASS}
        slot.context, slot.browser = await browser.new_context(**options), browser
        if not self.allow_network:
            await slot.context.route("**/*", functools.partial(self._route, slot))
        page = await slot.context.new_page()
        # The document timeline stands still, so that animations Playwright's
        # animations="disabled" does not reach (a marquee's) stay at their start.
        cdp = await slot.context.new_cdp_session(page)
        await cdp.send("Animation.enable")
        await cdp.send("Animation.setPlaybackRate", {"playbackRate": 0})
        slot.page = page

    async def _discard(self, slot: _Slot) -> bool:
        """Closes the slot's context. A browser that does not answer that is restarted;
        returns whether the close failed (the browser was stuck, or gone)."""
        context, browser = slot.context, slot.browser
        slot.context = slot.page = slot.browser = None
        if context is None:
            return False
        try:
            await asyncio.wait_for(context.close(), _CLOSE_S)
            return False
        except Exception:
            if browser is self._browser:
                log.warning("the browser did not close a page's context within %.0f s", _CLOSE_S)
                await self._restart(browser)
            return True

    async def _render_in(self, slot: _Slot, browser: Any, html: str, with_elements: bool,
                         blocked: list[str]) -> PageSnapshot:
        w, h = self.viewport
        if slot.page is None or slot.browser is not browser:
            await self._discard(slot)
            await self._open(slot, browser)
        page = slot.page
        if page.viewport_size != {"width": w, "height": h}:
            await page.set_viewport_size({"width": w, "height": h})
        await page.set_content(html, wait_until="load")
        page_height = int(await page.evaluate(_FREEZE_AND_SETTLE_JS))
        shot_h = max(h, min(page_height, self.max_height))
        if shot_h != h:
            # Grow the viewport to the (capped) page and shoot it whole: Chromium's own
            # beyond-the-viewport capture is not deterministic with fixed elements.
            await page.set_viewport_size({"width": w, "height": shot_h})
            await page.evaluate(_SETTLE_JS)  # lays the page out again at the new size
        png = await self._shoot(page, until_stable=shot_h != h)
        for _ in range(2):
            if not await page.evaluate(_FOCUS_MOVED_JS):
                break
            await page.evaluate(_FREEZE_JS)
            png = await self._shoot(page, until_stable=shot_h != h)
        elements = [PageElement(**e) for e in await page.evaluate(_ELEMENTS_JS, self.max_elements)] \
            if with_elements else []
        return PageSnapshot(png=png, width=w, height=shot_h, page_height=page_height, elements=elements,
                            blocked=blocked)

    @staticmethod
    async def _shoot(page: Any, until_stable: bool) -> bytes:
        png = await page.screenshot(animations="disabled", caret="hide")
        if until_stable:
            # Shoot until two shots agree: the resized page may still be painting.
            for _ in range(3):
                again = await page.screenshot(animations="disabled", caret="hide")
                if again == png:
                    break
                png = again
        return png

    async def _route(self, slot: _Slot, route: Any) -> None:
        try:
            await self._serve(route, slot)
        except Exception as exc:  # a failed request must not take the render down
            log.debug("route handler: %s", exc)

    async def _serve(self, route: Any, slot: _Slot) -> None:
        request = route.request
        url = request.url
        if _TAILWIND_URL.search(url):
            # Cacheable, so pages after the first reuse the parsed stylesheet (it is 2.9 MB).
            await route.fulfill(status=200, content_type="text/css", body=self._css, headers=_CACHEABLE)
            return
        m = _PICSUM.match(url)
        if m:
            width = int(m.group(2))
            height = int(m.group(3) or m.group(2))
            photo = self.photos.get(int(m.group(1))) if m.group(1) else None
            if photo is not None:
                body = await asyncio.to_thread(photo_jpeg, str(photo), width, height)
                await route.fulfill(status=200, content_type="image/jpeg", body=body, headers=_CACHEABLE)
            else:
                await route.fulfill(status=200, content_type="image/png", body=placeholder_png(width, height),
                                    headers=_CACHEABLE)
            return
        if url.startswith("data:"):
            await route.continue_()
            return
        self._page_request(slot, url)
        if request.is_navigation_request():
            # A refused navigation (an iframe, a meta refresh) would show Chromium's error
            # page; "204 No Content" leaves the frame as it was.
            await route.fulfill(status=204)
        else:
            await route.abort("blockedbyclient")


def _kill_process_with(marker: str) -> None:
    """Kills the browser whose command line carries `marker`."""
    if marker:
        for pid in kill_marked(marker.encode(), "cmdline"):
            log.warning("killed a browser that did not answer (pid %s)", pid)


def _blank_png(w: int, h: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), "white").save(buf, format="PNG")
    return buf.getvalue()
