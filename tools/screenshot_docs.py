"""Check the built HTML reference in a real headless browser and take screenshots.

    python tools/gen_docs.py OUT/ && python tools/screenshot_docs.py OUT/html SHOTS/

Opens the site from disk (``file://``, as a reader would) in Debian's chromium
(``apt-get install chromium``) and checks, from the DOM after the scripts ran:

- the index loads and lists every operation;
- searching ``return-orders`` (``index.html#q=return-orders``) leaves only matching
  entries, ``POST v3/profitsharing/return-orders`` among them;
- an operation's page renders its field tables.

Screenshots of those three views go to ``SHOTS/``. Exit status 1 when a check fails,
2 when no chromium is found. The browser runs isolated: a fresh profile, no sync,
no background networking, no component updates.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SEED_PAGE", "Browser", "check_site", "find_chromium", "take_screenshots"]

SEED_PAGE = "ops/post-v3-profitsharing-return-orders.html"
TABLE_PAGE = "ops/post-v3-pay-transactions-jsapi.html"  # nested fields: the indentation shows
SEARCH = "return-orders"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
ISOLATION = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=3000",  # let the page's scripts finish before dumping or shooting
)


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class Browser:
    """One headless chromium invocation per view, each with a throwaway profile."""

    executable: str
    timeout: float = 60.0

    def _run(self, *arguments: str) -> str:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            command = [self.executable, *ISOLATION, f"--user-data-dir={profile}", *arguments]
            result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-500:]}")
        return result.stdout

    def dom(self, url: str) -> str:
        """The DOM after load and scripts, serialised."""
        return self._run("--dump-dom", url)

    def screenshot(self, url: str, target: Path, size: str = "1280,1000") -> Path:
        self._run(f"--window-size={size}", f"--screenshot={target}", url)
        return target


def _visible_slugs(dom: str) -> list[str]:
    """Slugs of the index entries the search did not hide."""
    entries = re.findall(r"<li ([^>]*)>", dom)
    return [
        match.group(1)
        for attributes in entries
        if "hidden" not in attributes and (match := re.search(r'data-slug="([^"]+)"', attributes))
    ]


def check_site(site: Path, browser: Browser) -> list[str]:
    """Problems found in the browser (an empty list when the site works)."""
    problems = []
    index = (site / "index.html").resolve().as_uri()
    total = len(list((site / "ops").glob("*.html")))
    shown = set(_visible_slugs(browser.dom(index)))
    if len(shown) != total:
        problems.append(f"index: {len(shown)} operations listed, {total} pages exist")
    found = _visible_slugs(browser.dom(f"{index}#q={SEARCH}"))
    if "post-v3-profitsharing-return-orders" not in found:
        problems.append(f"search {SEARCH!r} does not find post-v3-profitsharing-return-orders")
    if not found or any(SEARCH not in slug for slug in found):
        problems.append(f"search {SEARCH!r} shows entries that do not match: {found[:5]}")
    page = browser.dom((site / TABLE_PAGE).resolve().as_uri())
    tables = page.count('<table class="fields">')
    if tables < 2 or "padding-left:2.2em" not in page:  # request and response tables, a nested row
        problems.append(f"{TABLE_PAGE}: {tables} field tables, nested rows indented: {'padding-left:2.2em' in page}")
    return problems


def take_screenshots(site: Path, shots: Path, browser: Browser) -> list[Path]:
    shots.mkdir(parents=True, exist_ok=True)
    index = (site / "index.html").resolve().as_uri()
    return [
        browser.screenshot(index, shots / "index.png"),
        browser.screenshot(f"{index}#q={SEARCH}", shots / "search-return-orders.png"),
        browser.screenshot((site / TABLE_PAGE).resolve().as_uri(), shots / "page-with-tables.png", "1280,2400"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path, help="the built HTML folder (OUT/html of tools/gen_docs.py)")
    parser.add_argument("shots", type=Path, help="where the screenshots go")
    parser.add_argument("--chromium", help="the browser executable (default: chromium on PATH)")
    args = parser.parse_args(argv)
    executable = args.chromium or find_chromium()
    if executable is None:
        print("no chromium found: apt-get install chromium", file=sys.stderr)
        return 2
    browser = Browser(executable)
    problems = check_site(args.site, browser)
    for path in take_screenshots(args.site, args.shots, browser):
        print(f"screenshot: {path}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print("browser checks passed" if not problems else f"{len(problems)} browser checks failed")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
