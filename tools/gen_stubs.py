"""Generate the typing information of the whole catalogue (PEP 561 stubs shipped in the package).

    python tools/gen_stubs.py            # write src/wechatpay_chain/_typing/*.pyi
    python tools/gen_stubs.py --check    # exit 1 when a generated file is missing or differs

Deterministic: the same specs give the same bytes. Only files whose
bytes change are written; stale ``_typing/*.pyi`` files are removed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from stubgen import generate  # noqa: E402  (needs the tools folder on the path)
from stubgen.layout import TYPING_DIR  # noqa: E402

PACKAGE = ROOT / "src" / "wechatpay_chain"


def write(files: dict[str, str], package: Path) -> list[str]:
    """Write what changed, delete stale generated stubs; return the relative paths touched."""
    touched = []
    for relative, text in sorted(files.items()):
        path = package / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            touched.append(relative)
    for stale in sorted((package / TYPING_DIR).glob("*.pyi")):
        relative = f"{TYPING_DIR}/{stale.name}"
        if relative not in files:
            stale.unlink()
            touched.append(relative + " (removed)")
    return touched


def differences(files: dict[str, str], package: Path) -> list[str]:
    """Relative paths that are missing, differ, or are stale."""
    wrong = [r for r, text in sorted(files.items()) if _read(package / r) != text]
    stale = [f"{TYPING_DIR}/{p.name}" for p in sorted((package / TYPING_DIR).glob("*.pyi"))]
    return wrong + [r for r in stale if r not in files]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", type=Path, default=ROOT / "specs", help="the catalogue (default: specs/)")
    parser.add_argument("--package", type=Path, default=PACKAGE, help="where to write (default: the package)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files, tree = generate(args.specs)
    if args.check:
        wrong = differences(files, args.package)
        for relative in wrong:
            print(f"out of date: {relative}")
        if wrong:
            print("run: python tools/gen_stubs.py")
        return 1 if wrong else 0
    touched = write(files, args.package)
    size = sum(len(text.encode()) for text in files.values())
    elapsed = time.perf_counter() - started
    print(f"{len(files)} files, {size / 1e6:.2f} MB, {len(touched)} written, {elapsed:.1f} s")
    for line in tree.unreachable:
        print(f"not reachable as attributes (use chain()): {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
