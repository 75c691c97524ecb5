"""Text a device chose, made safe to show: plain lines, escaped Markdown, a fenced YAML block.

A friendly name (or a state such as a select option) is set by whoever names the device:
MQTT discovery, a BLE advertisement, a cloud service. It reaches three kinds of output:

- plain text (the suggestion's title and description, the automation's alias, the phone
  push): ``plain_name`` / ``plain_text`` make it one short line without control characters;
- Markdown (the persistent notification's message, which the frontend renders with some
  HTML allowed): ``markdown_text`` escapes everything that could become markup, a link or
  a block;
- a YAML code block in that message: ``yaml_block`` picks a fence no content can close.

The stored suggestion keeps plain text; Markdown is made only where Markdown is shown.
Pure functions, no Home Assistant import.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
# A name or state as shown: long enough for any real device name.
NAME_MAX_CHARS = 80
# A suggestion's title (and so the automation's alias, which HA shows as a title).
TITLE_MAX_CHARS = 80
# A suggestion's description; the built-in wording stays under this with the longest names.
DESCRIPTION_SHOWN_MAX_CHARS = 1200

# Invisible characters that change how the text around them reads: bidirectional
# overrides and isolates (a name that reverses the rest of the sentence), zero-width
# spaces and the BOM (a name that looks like another). ZWJ/ZWNJ stay: scripts and emoji need them.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff")
)
_WHITESPACE = re.compile(r"\s+")
# HTML (``<script>``, ``<img onerror>``, ``<https://…>`` autolinks) and entities.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Inline Markdown: backslash, code, emphasis, strikethrough, links and images, tables.
_INLINE = frozenset("\\`*_~[]|")
# What starts a block when it opens a line: a heading, a list, a setext underline.
_BLOCK_START = frozenset("#-+=")
# GFM turns bare URLs, ``www.`` hosts and e-mail addresses into links; an escaped
# character in the middle stops that (``https\://``, ``www\.``, ``a\@b``).
_AUTOLINK = re.compile(r":(?=//)|(?<=www)\.|@", re.IGNORECASE)
_ORDERED_LIST = re.compile(r"\d{1,9}[.)]")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def plain_text(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters: no control or invisible characters."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text.translate(_INVISIBLE)
    )
    return shorten(_WHITESPACE.sub(" ", cleaned).strip(), limit)


def plain_name(name: str) -> str:
    """A device's name (or state) as shown anywhere: one line of at most ``NAME_MAX_CHARS``."""
    return plain_text(name, NAME_MAX_CHARS)


def fit(template: str, limit: int, **values: str) -> str:
    """``template`` filled with ``values`` in at most ``limit`` characters.

    Too long, the longest values are shortened first (each with an ellipsis), so the
    template's own words (the action, the time) stay readable.
    """
    text = template.format(**values)
    if len(text) <= limit:
        return text
    budget = limit - len(template.format(**dict.fromkeys(values, "")))
    caps: dict[str, int] = {}
    remaining = budget
    by_length = sorted(values, key=lambda key: len(values[key]))
    for index, key in enumerate(by_length):
        share = max(remaining // (len(by_length) - index), 1)
        caps[key] = min(len(values[key]), share)
        remaining -= caps[key]
    return shorten(template.format(**{k: shorten(v, caps[k]) for k, v in values.items()}), limit)


def _escaped(text: str) -> list[str]:
    """``text`` as Markdown, one piece per character (so a cut never splits an escape)."""
    autolink = {m.start() for m in _AUTOLINK.finditer(text)}
    pieces = []
    for index, char in enumerate(text):
        if char in _HTML:
            pieces.append(_HTML[char])
        elif char in _INLINE or index in autolink or (index == 0 and char in _BLOCK_START):
            pieces.append(f"\\{char}")
        else:
            pieces.append(char)
    # "1. " or "1) " opening the text would start an ordered list.
    if (number := _ORDERED_LIST.match(text)) is not None:
        pieces[number.end() - 1] = f"\\{text[number.end() - 1]}"
    return pieces


def markdown_text(text: str, limit: int) -> str:
    """``text`` (anything, from a device or not) as literal Markdown: it renders as itself.

    One line with HTML as entities, Markdown syntax backslash-escaped and autolinks broken;
    at most ``limit`` characters of Markdown (the cut marked with an ellipsis).
    """
    pieces = _escaped(plain_text(text, limit))
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept: list[str] = []
    size = 0
    for piece in pieces:
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept).rstrip() + ELLIPSIS


def markdown_code(text: str, limit: int) -> str:
    """``text`` as an inline code span (shown verbatim): one line, fenced past its backticks."""
    plain = plain_text(text, limit)
    longest = max((len(run) for run in re.findall(r"`+", plain)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {plain} {fence}" if longest else f"`{plain}`"


def yaml_block(dumped: str) -> str:
    """A fenced YAML code block around ``dumped`` that nothing inside can close.

    A fence ends only at a line of at least as many backticks: this one is longer than
    any run of backticks in the content.
    """
    longest = max((len(run) for run in re.findall(r"`+", dumped)), default=0)
    fence = "`" * max(3, longest + 1)
    body = dumped if dumped.endswith("\n") else f"{dumped}\n"
    return f"{fence}yaml\n{body}{fence}"
