"""The README and docs stay true: every Python snippet runs (or, marked, is compiled and its
imports resolve), every snippet that is a test file passes under pytest, every command
they show exists with the options shown, and no relative link is broken."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halfcascade.cli import app

from ._snippets import DOCS, ROOT, Block, blocks, check_imports, compile_block, links

pytestmark = pytest.mark.timeout(240)

# Pages other contributors are writing: their snippets are compiled and their imports
# resolved until they carry "# not run:" markers on the fragments; then drop them here.
IMPORT_ONLY = {
    "docs/latency.md",
    "docs/persona.md",
}
PYTHON = blocks("python")
PLAIN = [b for b in PYTHON if b.file_name is None]
FILES = [b for b in PYTHON if b.file_name is not None]


@pytest.mark.unit
@pytest.mark.parametrize("block", PLAIN, ids=lambda b: b.id)
def test_python_snippet(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = compile_block(block)
    check_imports(block)
    if not block.runs or str(block.doc.relative_to(ROOT)) in IMPORT_ONLY:
        return
    monkeypatch.chdir(ROOT)  # snippets name files as the README does: from the checkout
    namespace: dict[str, object] = {"__name__": "__doc_snippet__"}
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.contract
@pytest.mark.parametrize(
    "doc", sorted({b.doc for b in FILES}), ids=lambda d: str(d.relative_to(ROOT))
)
def test_snippet_files_pass_under_pytest(doc: Path, tmp_path: Path) -> None:
    """A doc's ``# file:`` blocks form a small project; its tests pass with the plugin."""
    for block in (b for b in FILES if b.doc == doc):
        assert block.file_name is not None
        (tmp_path / block.file_name).write_text(block.body)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-o", "asyncio_mode=auto"),  # the plugin loads from its pytest11 entry point
            *("--rootdir", str(tmp_path), str(tmp_path)),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for block in blocks("bash"):
        for line in block.body.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part.strip(), comments=True)
                if words[:1] == ["halfcascade"]:
                    found.append((block.id, words[1:]))
    return found


@pytest.mark.unit
@pytest.mark.parametrize("where, args", _commands(), ids=lambda x: str(x))
def test_shown_commands_exist_with_their_options(where: str, args: list[str]) -> None:
    path = [a for a in args if not a.startswith("-")][:2]
    result = CliRunner().invoke(app, [*path, "--help"])
    if result.exit_code != 0 or ("Commands:" in result.stdout and len(path) > 1):
        result = CliRunner().invoke(app, [*path[:1], "--help"])
    assert result.exit_code == 0, (where, args)
    for option in (a.split("=")[0] for a in args if a.startswith("--")):
        assert option in result.stdout, (where, option)


@pytest.mark.unit
@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = [
        target
        for target in links(doc)
        if not (doc.parent / target.split("#")[0]).resolve().exists()
    ]
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


@pytest.mark.unit
def test_the_readme_links_every_doc() -> None:
    readme = set(links(ROOT / "README.md"))
    pages = {f"docs/{p.relative_to(ROOT / 'docs')}" for p in DOCS[1:]}
    pages -= {"docs/index.md"} | {p for p in pages if p.startswith("docs/api/")}
    assert not pages - readme, pages - readme


@pytest.mark.contract
def test_the_api_reference_builds_offline_without_warnings(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocstrings") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "mkdocs and mkdocstrings[python] are dev dependencies: pip install -e .[dev]"
            )
        pytest.skip("pip install mkdocs 'mkdocstrings[python]' to build the API reference")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert (tmp_path / "api" / "session" / "index.html").is_file()
