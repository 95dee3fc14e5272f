"""Fails on a pointer to documentation that does not resolve.

Checked, in every tracked source, script, template and doc:
  - `docs/<page>.md` (and `README.md`, `README`) followed by `, "Heading"`, `"Heading"` or
    `#anchor`: the page exists and has that heading;
  - any other `docs/<path>`: the file or folder exists;
  - `decision NNNN`: a record docs/decisions/NNNN-*.md exists;
  - Markdown links `[text](target)` in the docs: the target (and its #anchor) exists;
  - a repository path in backticks in the docs (`shared/...`, `scripts/...`): it exists.
Usage: check_doc_links.py [ROOT]
"""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()

PAGE_REF = re.compile(r'(README(?:\.md)?|docs/[\w./-]+?\.md)(?:(?:,|:)? ?(?:section )?"([^"\n]+)"|#([\w-]+))?')
PATH_REF = re.compile(r"(?<![\w/])docs/[\w./-]*[\w/]")
DECISION_REF = re.compile(r"\bdecision (\d{4})\b")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
# A repository path in backticks in a doc, e.g. `shared/src/domain/booking/status.rs`.
CODE_PATH = re.compile(r"`((?:shared|functions|local-runner|scripts|tests|events|docs)/[\w./-]+)`")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(page: pathlib.Path) -> tuple[set[str], set[str]]:
    titles, anchors = set(), set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip()
            titles.add(title)
            anchors.add(anchor(title))
    return titles, anchors


def tracked_files() -> list[pathlib.Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    keep = (".rs", ".toml", ".py", ".md", ".yaml", ".sh", "")
    files = []
    for name in out:
        path = ROOT / name
        if not path.is_file() or name.startswith(("local-runner/assets/", "events/")):
            continue
        if path.suffix in keep or name.startswith("scripts/"):
            files.append(path)
    return files


def main() -> int:
    problems = []
    cache: dict[pathlib.Path, tuple[set[str], set[str]]] = {}

    def check_page(src: str, page: pathlib.Path, title: str | None, frag: str | None) -> None:
        if not page.is_file():
            problems.append(f"{src}: {page.relative_to(ROOT)} does not exist")
            return
        if page.suffix != ".md" or not (title or frag):
            return
        titles, anchors = cache.setdefault(page, headings(page))
        known = title and (title in titles or anchor(title) in anchors or any(t.startswith(title + ":") for t in titles))
        if title and not known:
            problems.append(f'{src}: {page.relative_to(ROOT)} has no section "{title}"')
        if frag and frag not in anchors:
            problems.append(f"{src}: {page.relative_to(ROOT)} has no anchor #{frag}")

    for path in tracked_files():
        rel = str(path.relative_to(ROOT))
        if rel == "scripts/check_doc_links.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), start=1):
            src = f"{rel}:{no}"
            for m in PAGE_REF.finditer(line):
                name = m.group(1)
                page = ROOT / ("README.md" if name.startswith("README") else name)
                if name.startswith("README") and not (m.group(2) or m.group(3)):
                    continue  # "see the README": the file, no section
                check_page(src, page, m.group(2), m.group(3))
            for m in PATH_REF.finditer(line):
                if not (ROOT / m.group(0).rstrip(".")).exists():
                    problems.append(f"{src}: {m.group(0)} does not exist")
            for m in DECISION_REF.finditer(line):
                if not list((ROOT / "docs/decisions").glob(f"{m.group(1)}-*.md")):
                    problems.append(f"{src}: no decision record {m.group(1)}")
            if path.suffix == ".md":
                for m in CODE_PATH.finditer(line):
                    if not (ROOT / m.group(1)).exists():
                        problems.append(f"{src}: {m.group(1)} does not exist")
                for m in MD_LINK.finditer(line):
                    target = m.group(1)
                    if re.match(r"^[a-z]+:", target):
                        continue
                    file_part, _, frag = target.partition("#")
                    page = (path.parent / file_part).resolve() if file_part else path
                    if file_part.endswith("/") or page.is_dir():
                        if not page.exists():
                            problems.append(f"{src}: link to {target} does not resolve")
                        continue
                    check_page(src, page, None, frag or None)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} dangling documentation pointer(s)", file=sys.stderr)
        return 1
    print("documentation pointers: all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
