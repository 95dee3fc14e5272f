"""Fails when a workspace crate declares a dependency its code never names.

A dependency is used when its crate name (dashes as underscores, or the key of a renamed
dependency) appears as a path or `use` in the crate's Rust sources (src/, tests/, benches/,
examples/, build.rs). A dependency kept for another reason (a version pin, a feature switch)
is listed, with that reason in a comment, under the crate's
`[package.metadata.cargo-machete] ignored = [...]` (cargo-machete's own key).
Usage: check_unused_deps.py [ROOT]
"""

import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
SECTIONS = ("dependencies", "dev-dependencies", "build-dependencies")


def members(root: pathlib.Path) -> list[pathlib.Path]:
    workspace = tomllib.loads((root / "Cargo.toml").read_text())["workspace"]
    dirs = []
    for pattern in workspace["members"]:
        dirs += [p for p in sorted(root.glob(pattern)) if (p / "Cargo.toml").is_file()]
    return dirs


def sources(crate: pathlib.Path) -> str:
    files = [crate / "build.rs"] if (crate / "build.rs").is_file() else []
    for sub in ("src", "tests", "benches", "examples"):
        files += sorted((crate / sub).rglob("*.rs"))
    if (crate / "Cargo.toml").is_file() and crate.name == "tests":
        files += sorted(crate.glob("*.rs")) + sorted(crate.glob("*/**/*.rs"))
    text = "\n".join(f.read_text(encoding="utf-8") for f in set(files))
    # Comments do not use a crate.
    return re.sub(r"//[^\n]*", "", text)


def main() -> int:
    problems = []
    for crate in members(ROOT):
        manifest = tomllib.loads((crate / "Cargo.toml").read_text())
        ignored = set(manifest.get("package", {}).get("metadata", {}).get("cargo-machete", {}).get("ignored", []))
        code = sources(crate)
        for section in SECTIONS:
            for key in manifest.get(section, {}):
                if key in ignored:
                    continue
                ident = key.replace("-", "_")
                if not re.search(rf"(?<![\w:]){re.escape(ident)}(::|\s*;|\s+as\b|!)", code):
                    problems.append(f"{crate.relative_to(ROOT)}/Cargo.toml: [{section}] {key} is never used")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} unused dependenc{'y' if len(problems) == 1 else 'ies'}", file=sys.stderr)
        return 1
    print(f"dependencies: every declared one is used ({len(members(ROOT))} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
