"""Code blocks and links in README.md and docs/: found, classified, run."""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

NOT_RUN = re.compile(r"^\s*# not run: \S", re.M)
"""The explicit marker of a block that needs keys, a network or a livekit job: it is
compiled and its imports are resolved, but it is not executed."""
FILE = re.compile(r"^# file: (?P<name>[\w.]+\.py)$", re.M)
"""A block that is a file of a small project (a test file, a conftest): run with pytest."""

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```", re.M | re.S)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block."""

    doc: Path
    line: int
    lang: str
    body: str

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def file_name(self) -> str | None:
        found = FILE.search(self.body)
        return found["name"] if found else None

    @property
    def runs(self) -> bool:
        return NOT_RUN.search(self.body) is None


def blocks(lang: str) -> list[Block]:
    """Every fenced block of ``lang`` in the README and the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for m in _FENCE.finditer(text):
            if m["lang"] == lang:
                line = text.count("\n", 0, m.start()) + 1
                found.append(Block(doc, line, lang, m["body"]))
    return found


def links(doc: Path) -> list[str]:
    """Relative link targets in ``doc`` outside code blocks."""
    text = _FENCE.sub("", doc.read_text())
    return [
        m["target"]
        for m in _LINK.finditer(text)
        if not re.match(r"[a-z]+:|#", m["target"])  # http:, mailto:, in-page anchors
    ]


def compile_block(block: Block) -> object:
    """The block's code object (top-level ``await`` allowed, as in an entrypoint)."""
    return compile(block.body, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def check_imports(block: Block) -> None:
    """Every ``import x`` / ``from x import y`` in the block resolves."""
    for node in ast.walk(ast.parse(block.body)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    importlib.import_module(f"{node.module}.{alias.name}")
