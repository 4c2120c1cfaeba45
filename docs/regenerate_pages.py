"""The pages' side of docs/regenerate.py: the generated blocks' markers, the links, and the
rewriting of a page's blocks in place."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = re.compile(r"(<!-- generated: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def check_markers(blocks: dict) -> list[str]:
    """Every block's markers are on its page exactly once, and no page has an unknown block."""
    problems = []
    for page in sorted(DOCS.glob("*.md")):
        names = [m["name"] for m in MARKER.finditer(page.read_text())]
        opened = page.read_text().count("<!-- generated:")
        if opened != len(names):
            problems.append(f"docs/{page.name}: a '<!-- generated: NAME -->' without its '<!-- end generated -->'")
        for name in names:
            if name not in blocks:
                problems.append(f"docs/{page.name}: unknown generated block {name!r}")
            elif blocks[name][0] != page.name:
                problems.append(f"docs/{page.name}: block {name!r} belongs on docs/{blocks[name][0]}")
    for name, (page, _) in blocks.items():
        path = DOCS / page
        n = sum(1 for m in MARKER.finditer(path.read_text()) if m["name"] == name) if path.exists() else 0
        if n != 1:
            problems.append(f"docs/{page}: block {name!r} found {n} times (expected once)")
    return problems


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


# an inline `path` of the repository, outside fenced code (examples in code blocks may be made up)
CODE_PATH = re.compile(r"`((?:agents|world|output|analysis|pipeline|commands|scenarios|tests|bench|docs|\.ci)/[\w./-]*)`")
MADE_BY_RUNS = (".calibrated.toml",)          # files a command writes, named before they exist


def check_links() -> list[str]:
    """Every relative link or image of README.md and docs/*.md points at a file that exists, and
    so does every inline `folder/file` path of the repository named outside code blocks."""
    problems = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = page.read_text()
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                problems.append(f"{page.relative_to(ROOT)}: link to {target}, which does not exist")
        prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        for name in sorted(set(CODE_PATH.findall(prose))):
            if not name.endswith(MADE_BY_RUNS) and not (ROOT / name).exists():
                problems.append(f"{page.relative_to(ROOT)}: names `{name}`, which does not exist")
    return problems


def rewrite(page: Path, blocks: dict[str, str]) -> None:
    def sub(m):
        return m.group(1) + blocks[m["name"]].rstrip("\n") + "\n" + m.group(4) if m["name"] in blocks else m.group(0)
    text = page.read_text()
    new = MARKER.sub(sub, text)
    if new != text:
        page.write_text(new)
