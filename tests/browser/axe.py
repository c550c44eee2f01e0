"""axe-core (pinned in web/package.json, installed by `npm ci` in web/) run in a page under test.

`check(page, what)` injects node_modules/axe-core/axe.min.js into the page and runs `axe.run` on the
WCAG 2.0 and 2.1 A and AA rules; it fails on any serious or critical violation, naming each rule and the
CSS targets of the nodes that break it. The Jitsi iframe is left out: it is the video deployment's page, not ours.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
WEB = ROOT / "web"
SOURCE = WEB / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = ("serious", "critical")

# One correction to axe: it counts no contenteditable as focusable content, so a scroll region around an editable
# text (the notes editor while it is writable) fails `scrollable-region-focusable`, though Tab reaches the text
# and the caret scrolls it. axe-core #2091 fixed this only for a region that is contenteditable itself.
RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], iframes: false, elementRef: true,
  });
  const editable = (node) => node.element && [...node.element.querySelectorAll('[contenteditable="true"]')]
    .some((e) => !e.hasAttribute("tabindex") || e.tabIndex >= 0);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.filter((n) => v.id !== "scrollable-region-focusable" || !editable(n))
      .map((n) => ({target: n.target.map(String).join(" "), summary: n.failureSummary || ""})),
  })).filter((v) => v.nodes.length);
}"""


def ensure_axe() -> str | None:
    """None when axe-core is installed as web/package-lock.json pins it (running `npm ci` in web/ when it is
    missing or older than the lockfile); else why it cannot be."""
    lock, installed = WEB / "package-lock.json", WEB / "node_modules" / ".package-lock.json"
    if SOURCE.exists() and installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return None
    npm = shutil.which("npm")
    if not npm:
        return "the accessibility tests need npm to install axe-core (cd web && npm ci)"
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0 or not SOURCE.exists():
        return f"`npm ci` in web/ did not install axe-core ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return None


def violations(page) -> list[dict]:
    """axe's violations of the WCAG 2.0/2.1 A and AA rules on the page as it is now (every impact)."""
    # Through the DevTools protocol, which the page's Content-Security-Policy does not govern.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(SOURCE.read_text(encoding="utf-8") + "\n;void 0")
    return page.evaluate(RUN, TAGS)


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def check(page, what: str) -> list[dict]:
    """Fail on serious or critical violations; returns the lesser ones (moderate, minor) for whoever wants them."""
    found = violations(page)
    bad = [v for v in found if v["impact"] in FAILING]
    assert not bad, f"axe-core on {what} ({page.url}, {page.viewport_size['width']} px):\n{describe(bad)}"
    return [v for v in found if v["impact"] not in FAILING]
