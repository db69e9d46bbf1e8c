"""Build the API reference: one page per operation, Markdown and a static HTML site.

    python tools/gen_docs.py OUT/               # OUT/md/index.md, OUT/html/index.html (open it from disk)
    python tools/gen_docs.py OUT/ --specs DIR   # another catalogue

Each page: title, method and path, tags, roles, the request tables (nesting indented,
one-of groups and conditions marked, a line per rule under the table),
the call in six forms (attribute / chain() / [] x sync / async) with a payload built
from the spec's examples, the response table, error codes where the spec has them and
the official doc link. The examples are executed against the mock platform by
tests/test_docs.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from docgen import build  # noqa: E402  (needs the tools folder on the path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder (md/ and html/ are replaced)")
    parser.add_argument("--specs", type=Path, default=ROOT / "specs", help="the catalogue (default: specs/)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = build(args.out, args.specs)
    elapsed = time.perf_counter() - started
    print(f"{report.pages} operations, {report.files} files, {report.bytes / 1e6:.1f} MB in {elapsed:.1f} s")
    print(f"open {(args.out / 'html' / 'index.html').resolve().as_uri()}")
    if report.with_problems:
        print(f"{len(report.with_problems)} pages say their example payload does not validate:")
        for slug in report.with_problems:
            print(f"  {slug}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
