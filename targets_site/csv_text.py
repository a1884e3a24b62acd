"""CSV text cells escaped against formula injection, and back: the two rules side by side.

The CSV exports (``exports.formats`` and the COPY path's SELECT in ``exports.datasets.sql``)
escape; the CSV importers (``items.importers``, ``sensors.parsing`` and
``sensors.services.importing``) unescape, so an exported file imports back unchanged:

- escape: a cell that starts with a formula character or with ``'`` gets one more ``'`` in front
  (``=1+1`` -> ``'=1+1``, ``'x`` -> ``''x``); a spreadsheet shows the original, as a leading
  ``'`` is its text marker;
- unescape: one leading ``'`` comes off when the next character is a formula character or
  ``'`` (``'=1+1`` -> ``=1+1``, ``''x`` -> ``'x``); any other cell is taken as it is
  (``'abc`` stays ``'abc``).

Escaping the quote too makes the escape one-to-one, so the unescape gives back exactly the text
that was exported. Here, not in ``exports``, so the importing apps need not import the exports
app.
"""

from __future__ import annotations

# Spreadsheets evaluate a cell that starts with one of these as a formula (OWASP "CSV injection");
# tab and carriage return are on OWASP's list too, as they can hide the same characters.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# The first characters that get a quote in front: the formula characters and the quote itself.
ESCAPED_PREFIXES = (*FORMULA_PREFIXES, QUOTE)


def csv_escape_formula(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (``=1+1`` -> ``'=1+1``), and
    to text that starts with a quote (``'x`` -> ``''x``)."""
    if text and text[0] in ESCAPED_PREFIXES:
        return QUOTE + text
    return text


def csv_unescape_formula(text: str) -> str:
    """The text ``csv_escape_formula`` was given: ``'=1+1`` -> ``=1+1``, ``''x`` -> ``'x``;
    ``'abc``, which it never writes, stays as it is."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in ESCAPED_PREFIXES:
        return text[1:]
    return text
