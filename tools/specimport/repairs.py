"""The importer's record of what it repaired in the source, by class, with counts.

Every repair the importer makes to the catalogue belongs to a named class (one kind of
defect, fixed one way). The report prints each class with its count and every instance;
tests/test_import_specs.py pins the counts, so a change of the source or of a rule that
moves them is seen, not silently absorbed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Repairs:
    """Repairs made in one run: `kind` -> count, and one line per instance."""

    counts: Counter[str] = field(default_factory=Counter)
    details: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        """Record one repair of class `kind`; `detail` says where and what."""
        if (kind, detail) in self._seen:
            return  # a shared definition met again through another operation is one repair
        self._seen.add((kind, detail))
        self.counts[kind] += 1
        self.details.append((kind, detail))

    def __post_init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def lines(self) -> list[str]:
        """`repair <kind>: N` for each class, then its instances, classes in name order."""
        out: list[str] = []
        for kind in sorted(self.counts):
            out.append(f"repair {kind}: {self.counts[kind]}")
            out += [f"  - {detail}" for k, detail in sorted(self.details) if k == kind]
        return out
