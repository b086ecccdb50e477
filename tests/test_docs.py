"""The README stays short and points into docs/, and the docs' code examples come from files that exist.

Plain file checks: Sphinx itself runs in ./scripts/docs (its own environment), not here.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = (REPO / "README.rst").read_text(encoding="utf-8")
EXAMPLE_DAG = REPO / "example_dags" / "example_kafka_producer.py"

# `.. include::` and `.. literalinclude::` with their path, as Sphinx reads them (relative to the page).
INCLUDE = re.compile(r"^\s*\.\. (literalinclude|include)::\s*(\S+)\s*$", re.MULTILINE)


def toctree_pages() -> list[str]:
    """The pages the index's toctree lists, in order."""
    lines = (DOCS / "index.rst").read_text(encoding="utf-8").splitlines()
    start = next(number for number, line in enumerate(lines) if line.strip() == ".. toctree::")
    pages = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" "):
            break  # the toctree's body has ended
        entry = line.strip()
        if entry and not entry.startswith(":"):
            pages.append(entry)
    return pages


def readme_example_code() -> str:
    """The README's first Python code block, dedented: its copy of the example DAG."""
    lines = README.splitlines()
    start = lines.index(".. code-block:: python") + 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip("\n")


def test_readme_is_short():
    assert len(README.splitlines()) < 250


def test_every_page_of_the_index_exists_and_the_readme_links_to_it():
    pages = toctree_pages()
    assert len(pages) >= 11, pages
    for page in pages:
        assert (DOCS / f"{page}.rst").is_file(), f"docs/{page}.rst is in the toctree but does not exist"
        assert f"<docs/{page}.rst>`_" in README, f"README.rst does not link to docs/{page}.rst"


def test_every_docs_page_is_in_the_index():
    pages = set(toctree_pages())
    for path in DOCS.glob("*.rst"):
        if path.stem != "index":
            assert path.stem in pages, f"{path.name} is not in the index's toctree"


def test_every_included_file_exists():
    sources = [*DOCS.glob("*.rst"), REPO / "bench" / "README.rst"]
    found = 0
    for source in sources:
        for directive, target in INCLUDE.findall(source.read_text(encoding="utf-8")):
            # Sphinx: a path starting with / is relative to docs/, any other to the including file's folder.
            path = DOCS / target.lstrip("/") if target.startswith("/") else source.parent / target
            assert path.is_file(), f"{source.relative_to(REPO)}: {directive} {target} does not exist"
            found += directive == "literalinclude"
    assert found >= 10  # the examples really are included, not copied


def test_docs_examples_come_from_tested_files():
    for source in DOCS.glob("*.rst"):
        for directive, target in INCLUDE.findall(source.read_text(encoding="utf-8")):
            if directive == "literalinclude":
                path = (source.parent / target).resolve()
                assert path.parent in (REPO / "example_dags", REPO / "tests" / "dags"), (source.name, target)


def test_the_readme_example_is_the_example_dag():
    code = readme_example_code()
    assert "KafkaProducerOperator(" in code and "xcom_pull" in code, code
    assert code in EXAMPLE_DAG.read_text(encoding="utf-8"), (
        "README.rst's example DAG is not a verbatim part of example_dags/example_kafka_producer.py: "
        "copy it again from there"
    )


def test_the_changelog_is_in_the_docs():
    assert (REPO / "CHANGELOG.rst").read_text(encoding="utf-8").splitlines()[3].startswith("0.1.0")
    assert ".. include:: ../CHANGELOG.rst" in (DOCS / "changelog.rst").read_text(encoding="utf-8")
