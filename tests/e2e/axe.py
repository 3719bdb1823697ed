"""axe-core in the browser tests: find it (installing it with npm if missing), run it, report what it found.

axe-core is a test-only dependency pinned in ``package.json``/``package-lock.json`` at the repository root;
``npm ci --no-audit --no-fund`` there puts it in ``node_modules/axe-core/axe.min.js``. The app ships no
JavaScript; axe is evaluated in the page through the DevTools protocol, which the page's Content Security
Policy does not govern, so the browser keeps enforcing the real CSP while axe runs.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_COMMAND = ["npm", "ci", "--no-audit", "--no-fund"]

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe tags a 2.2 A rule "wcag22a" only if one exists; none does yet).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


class AxeUnavailable(RuntimeError):
    """axe-core is not installed and could not be installed."""


@cache
def axe_source() -> str:
    """The text of axe.min.js, running ``npm ci`` at the repository root first if it is not there."""
    if not AXE_JS.exists():
        if shutil.which("npm") is None:
            raise AxeUnavailable(f"{AXE_JS} is missing and npm is not installed to fetch it")
        done = subprocess.run(INSTALL_COMMAND, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not AXE_JS.exists():
            raise AxeUnavailable(f"`{' '.join(INSTALL_COMMAND)}` failed:\n{done.stdout}\n{done.stderr}")
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """The violations axe-core finds on the page as it is now, for the WCAG 2.x A and AA rules."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Wrapped in a function so the library's top-level `var`s do not leak into the page's globals.
        page.evaluate(f"() => {{ {axe_source()}\n; window.axe = axe; }}")
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        WCAG_TAGS,
    )
    return list(result["violations"])


def format_violations(violations: list[dict[str, Any]], where: str) -> str:
    """The violations as text a person can act on: rule, impact, help link, and each offending element."""
    lines = [f"axe-core found {len(violations)} accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"\n[{v.get('impact')}] {v['id']}: {v['help']}\n  {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"  - {' '.join(str(t) for t in node['target'])}")
            lines.append(f"    {node['html'][:300]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)
