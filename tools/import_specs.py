#!/usr/bin/env python3
"""Import the wechatpay-openapi Swagger catalogue into `specs/` (one YAML spec per API path).

Usage, from the repository root::

    python tools/import_specs.py [SOURCE] [OUT]      # defaults: ../shared/wechatpay-openapi specs/

Two runs give identical bytes. Files under OUT that the run did not write are removed
(README.md is kept). The report at the end counts paths and operations and lists every
operation that could not be imported, with the reason. The format is in specs/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specimport.field_rules import FieldRules
from specimport.operation import OperationBuilder, operations_of
from specimport.output import INDEX_NAME, LICENSE_NAME, dump_yaml, header_line, index_text, sweep_stale, write_text
from specimport.policy import UNSIGNED_V2, UNSIGNED_V3, load_overrides
from specimport.repairs import Repairs
from specimport.schema import SchemaConverter
from specimport.source import EMPTY_SEGMENT_FILE, Catalogue, SourcePath

DEFAULT_SOURCE = Path("../shared/wechatpay-openapi")
DEFAULT_OUT = Path("specs/")
DEFAULT_OVERRIDES = Path(__file__).resolve().parent / "spec_overrides.yaml"
DEFAULT_RULES = Path(__file__).resolve().parent / "spec_rules.yaml"


@dataclass
class ImportReport:
    """What a run did: the counts the issue asks for, and everything it could not do."""

    paths: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repairs: Repairs = field(default_factory=Repairs)
    undecided: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printed: counts, dropped operations, then notes and warnings."""
        by_method = ", ".join(f"{method} {count}" for method, count in self.operations.most_common())
        out = [f"wrote {self.paths} paths, {sum(self.operations.values())} operations ({by_method})"]
        out.append(f"dropped {len(self.dropped)} operations" + (":" if self.dropped else ""))
        out += [f"  - {line}" for line in self.dropped]
        out += self.repairs.lines()
        out += [f"note: {line}" for line in self.notes]
        out += [f"warning: {line}" for line in self.warnings]
        return out


def import_catalogue(
    source: Path, out_dir: Path, overrides_file: Path = DEFAULT_OVERRIDES, rules_file: Path = DEFAULT_RULES
) -> ImportReport:
    """Convert every operation of the catalogue at `source` into spec files under `out_dir`."""
    catalogue = Catalogue(source)
    overrides = load_overrides(overrides_file)
    report = ImportReport()
    converter = SchemaConverter(catalogue, overrides, report.repairs)
    field_rules = FieldRules.load(rules_file)
    builder = OperationBuilder(catalogue, converter, overrides, field_rules)
    paths, unlisted = catalogue.list_paths()
    report.notes += [f"{doc} is not listed in swagger.yaml; imported from its file path" for doc in unlisted]
    header = header_line(catalogue.info_version())
    written: set[Path] = set()
    index_rows: list[tuple[str, str, str, str]] = []
    for key, path in assign_keys(paths, report):
        operations = _build_operations(builder, catalogue, path, report)
        if not operations:
            continue
        spec = {"key": key, "url": path.url, "protocol": path.protocol, "operations": operations}
        target = out_dir / f"{key}.yaml"
        write_text(target, header + dump_yaml(spec))
        written.add(target)
        report.paths += 1
        for method, entry in operations.items():
            index_rows.append((key, method.upper(), path.url, str(entry.get("summary", ""))))
    index_file = out_dir / INDEX_NAME
    write_text(index_file, index_text(index_rows))
    written.add(index_file)
    written |= _copy_license(source, out_dir)
    removed, unexpected = sweep_stale(out_dir, written)
    report.notes += [f"removed stale {name}" for name in removed]
    report.warnings += [f"left unexpected file {name} in {out_dir}" for name in unexpected]
    report.warnings += builder.warnings
    report.undecided = field_rules.undecided
    report.warnings += [f"undecided alternative ids {line}" for line in field_rules.undecided]
    report.warnings += [f"tools/spec_rules.yaml: {line}" for line in field_rules.stale()]
    report.notes += sorted(set(field_rules.notes))
    report.warnings += [f"schema keyword {k!r} ignored ({n}x)" for k, n in sorted(converter.unknown_keywords.items())]
    keys = {key for key, *_ in index_rows}
    absent = [k for k in (*UNSIGNED_V3, *UNSIGNED_V2) if k not in keys]
    report.notes += [f"unsigned table entry {k} is not in the catalogue" for k in absent]
    return report


def assign_keys(paths: list[SourcePath], report: ImportReport) -> list[tuple[str, SourcePath]]:
    """The spec key of every path; two paths never share a file.

    A clash (`/v3/foo` and `/v3/foo/`, or keys equal but for case, which would share a
    file on case-insensitive disks) keeps the first path, in URL order, on the plain key.
    A later trailing-slash path moves to `<key>/{empty}` (the source's own name for it);
    any other later path gets `~2`, `~3` ... appended.
    """
    taken: set[str] = set()
    assigned: list[tuple[str, SourcePath]] = []
    for path in sorted(paths, key=lambda p: p.url):
        key = path.key
        if key.lower() in taken and path.url.endswith("/"):
            key = f"{path.key}/{EMPTY_SEGMENT_FILE}"
        suffix = 2
        while key.lower() in taken:
            key, suffix = f"{path.key}~{suffix}", suffix + 1
        if key != path.key:
            report.warnings.append(f"{path.url} clashes with another path on {path.key}.yaml; written as {key}.yaml")
        taken.add(key.lower())
        assigned.append((key, path))
    return sorted(assigned, key=lambda item: item[0])


def _copy_license(source: Path, out_dir: Path) -> set[Path]:
    """The catalogue is MIT-licensed: its notice travels with every copy of the data."""
    notice = source / "LICENSE"
    if not notice.is_file():
        return set()
    target = out_dir / LICENSE_NAME
    write_text(target, notice.read_text(encoding="utf-8"))
    return {target}


def _build_operations(
    builder: OperationBuilder, catalogue: Catalogue, path: SourcePath, report: ImportReport
) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for method, op in operations_of(catalogue.document(path.document)):
        try:
            operations[method] = builder.build(path, method, op)
        except (KeyError, TypeError, ValueError) as error:  # one bad operation must not stop the run
            report.dropped.append(f"{method.upper()} {path.url}: {type(error).__name__}: {error}")
            continue
        report.operations[method.upper()] += 1
    return operations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="the wechatpay-openapi folder")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="the specs folder to write")
    parser.add_argument("--overrides", type=Path, default=DEFAULT_OVERRIDES, help="repairs of source defects")
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="one-of groups and conditions")
    args = parser.parse_args(argv)
    if not (args.source / "swagger.yaml").is_file():
        print(f"error: {args.source}/swagger.yaml not found", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = import_catalogue(args.source, args.out, args.overrides, args.rules)
    for line in report.lines():
        print(line)
    print(f"took {time.perf_counter() - started:.2f} s")
    return 1 if report.dropped else 0


if __name__ == "__main__":
    sys.exit(main())
