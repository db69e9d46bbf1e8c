"""The reference: one page per operation, Markdown and a static HTML site, from the specs.

``tools/gen_docs.py OUT/`` is the command; this package holds its parts:

- :mod:`.examples`: a runnable example call per operation, built from the spec's examples;
- :mod:`.values`: plausible values where the spec gives none; :mod:`.rules`: one-of groups
  and conditions in the tables and the examples;
- :mod:`.pages`: what a page says (tables, calls, links), independent of the format;
- :mod:`.markdown` and :mod:`.html`: the two renderings; :mod:`.site` writes them all.
"""

from .site import build

__all__ = ["build"]
