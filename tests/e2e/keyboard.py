"""A person who uses alscare with the keyboard alone, as the browser tests drive it.

Focus moves only by Tab and Shift+Tab from where the page put it; fields are filled by typing, checkboxes
ticked with Space, links and buttons pressed with Enter. Nothing is clicked and no element is filled
directly, so a control that cannot be reached or seen with the keyboard fails the test. Every page is
checked with axe-core, and every step leaves a screenshot in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe import format_violations, run_axe
from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
MAX_TABS = 80

# What is focused: its tag, id, type, accessible name (as a screen reader would read it, simplified),
# and whether a focus indicator is visible and not hidden behind anything (WCAG 2.4.7 and 2.4.11).
_DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: 'body', name: '', id: '', type: '', visible_focus: false};
  const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
  const byIds = ids => ids.split(/\\s+/).map(i => document.getElementById(i)).filter(Boolean)
    .map(n => n.textContent).join(' ');
  let name = el.getAttribute('aria-label') || '';
  if (!name && el.getAttribute('aria-labelledby')) name = byIds(el.getAttribute('aria-labelledby'));
  if (!name && el.labels && el.labels.length) name = [...el.labels].map(l => l.textContent).join(' ');
  if (!name && el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type)) name = el.value;
  if (!name) name = el.textContent || el.getAttribute('title') || '';
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const ring = s.boxShadow && s.boxShadow !== 'none';
  const r = el.getBoundingClientRect();
  const box = el.getClientRects()[0] || r;  // a link wrapped over lines: the middle of its first line
  const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(box.top + box.height / 2, 0), innerHeight - 1);
  const top = document.elementFromPoint(x, y);
  const onTop = !!top && (top === el || el.contains(top) || [...(el.labels || [])].some(l => l.contains(top)));
  const inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0
    && r.left < innerWidth;
  return {
    tag: el.tagName.toLowerCase(), id: el.id, type: el.getAttribute('type') || '', name: norm(name),
    href: el.getAttribute('href') || '', checked: !!el.checked, value: el.value === undefined ? '' : el.value,
    focus_visible: el.matches(':focus-visible'), visible_focus: (outline || ring) && inView && onTop,
    style: `outline ${s.outlineStyle} ${s.outlineWidth}, box-shadow ${s.boxShadow}; in view ${inView}; `
      + `on top ${onTop} (${top ? top.tagName + '.' + top.className : 'nothing'} at ${x},${y})`,
  };
}"""


@dataclass
class KeyboardUser:
    """One person in one browser context, moving through pages with the keyboard."""

    page: Page
    flow: str
    steps: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)  # console reports; the page CSP stays enforced

    # --- getting around ----------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Go to a URL, as when typing it into the address bar or following a link from an email."""
        self.page.goto(url)

    def focused(self) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(_DESCRIBE_FOCUS)
        return result

    def tab_to(
        self,
        name: str | re.Pattern[str] | None = None,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        backwards: bool = False,
        max_tabs: int = MAX_TABS,
    ) -> dict[str, Any]:
        """Press Tab (or Shift+Tab) until the focused element has this accessible name or matches ``where``.

        Each stop on the way must show a visible focus indicator. Fails, listing every stop, if the element
        is not reached within ``max_tabs`` presses.
        """
        if name is None and where is None:
            raise ValueError("give a name or a predicate")

        def wanted(info: dict[str, Any]) -> bool:
            if where is not None and not where(info):
                return False
            if isinstance(name, re.Pattern):
                return bool(name.search(info["name"]))
            return name is None or info["name"] == name

        key = "Shift+Tab" if backwards else "Tab"
        stops: list[str] = []
        for _ in range(max_tabs):
            self.page.keyboard.press(key)
            info = self.focused()
            stops.append(f"{info['tag']}#{info['id']} {info['name'][:60]!r}")
            if info["tag"] != "body":
                assert info["visible_focus"], (
                    f"{self.flow}: no visible focus indicator on {stops[-1]} at {self.page.url} ({info['style']})"
                )
            if wanted(info):
                return info
        raise AssertionError(
            f"{self.flow}: {name or where!r} not reached by {key} within {max_tabs} presses at {self.page.url}; "
            f"stops: {stops}"
        )

    def type(self, text: str) -> None:
        """Type into the focused field, a key at a time."""
        assert self.focused()["tag"] in ("input", "textarea"), f"typing with focus on {self.focused()}"
        self.page.keyboard.type(text)

    def fill_field(self, label: str, text: str) -> None:
        """Tab to the field with this label and type the text."""
        self.tab_to(label, where=lambda f: f["tag"] in ("input", "textarea"))
        self.type(text)

    def tick(self, label: str) -> None:
        """Tab to the checkbox with this label and tick it with Space."""
        info = self.tab_to(label, where=lambda f: f["type"] == "checkbox")
        assert not info["checked"], f"{label!r} was already ticked"
        self.page.keyboard.press("Space")
        assert self.focused()["checked"], f"Space did not tick {label!r}"

    def press(self, key: str = "Enter") -> None:
        """Press a key that leads to another page (Enter on a link or button), and wait for that page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def activate(self, name: str | re.Pattern[str], **kwargs: Any) -> None:
        """Tab to a link or button and press Enter, waiting for the next page."""
        self.tab_to(name, where=lambda f: f["tag"] in ("a", "button"), **kwargs)
        self.press("Enter")

    # --- checking each page ------------------------------------------------------------------------------

    def check_page(self, step: str) -> None:
        """Screenshot the page (phone width, whole page); assert it does not scroll sideways, broke no CSP
        rule, and that axe-core finds no WCAG 2.x A/AA violation."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = f"{self.flow}-{len(self.steps) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
        self.steps.append(shot)
        width = self.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{self.flow}: {self.page.url} is {width[0]}px wide in a {width[1]}px window"
        assert not self.csp_violations, f"{self.flow}: Content Security Policy violations: {self.csp_violations}"
        violations = run_axe(self.page)
        assert not violations, format_violations(violations, f"{self.page.url} ({self.flow}: {step})")

    def heading(self) -> str:
        return self.page.inner_text("h1").strip()

    def text_of(self, selector: str) -> str:
        return self.page.inner_text(selector).strip()
