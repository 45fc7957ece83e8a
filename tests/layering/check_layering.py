#!/usr/bin/env python3
"""Checks the #include lines of the project against allowed_edges.txt.

Every #include "module/file" in a module's sources must name the module
itself or one that allowed_edges.txt lets it depend on (ARCHITECTURE.md:
dependencies point down). No #include may start with a prefix forbidden for
that module (-x), and its code may not use a forbidden identifier (-w). No
header (*.hpp) may include Boost.Asio, which stays in .cpp files so that
many files need not compile it. The module's CMakeLists.txt may link only
the zeqvpn_* libraries of the modules it may include. Build trees inside the
source tree (a folder holding CMakeCache.txt) are skipped.

Usage: check_layering.py [ROOT] [--edges FILE]. Exits 1 and prints one line
per violation (file:line, what it includes, what the module may include).
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
LINK = re.compile(r"target_link_libraries\(\s*(\S+)([^)]*)\)", re.S)
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc")
# Folders whose code may include anything (tests, benchmarks) or has none.
UNCHECKED = {"tests", "bench", "build", "docs", "scripts", "systemd", "examples", ".git", ".ci"}


def read_edges(path):
    allowed, forbidden, words = {}, {}, {}
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.match(r"^([a-z_,]+)\s*(->|-x|-w)\s*(.*)$", line)
            if not m:
                sys.exit(f"{path}:{number}: cannot read '{raw.rstrip()}'; expected 'MODULE -> MODULES', "
                         f"'MODULES -x PREFIXES' or 'MODULES -w NAMES'")
            modules, kind, rest = m.group(1).split(","), m.group(2), m.group(3).split()
            for module in modules:
                if kind == "->":
                    allowed[module] = set(rest)
                elif kind == "-x":
                    forbidden.setdefault(module, []).extend(rest)
                else:
                    words.setdefault(module, []).extend(rest)
    for module, deps in allowed.items():
        for dep in deps:
            if dep not in allowed:
                sys.exit(f"{path}: {module} -> {dep}: {dep} has no line of its own")
    for module in list(forbidden) + list(words):
        if module not in allowed:
            sys.exit(f"{path}: {module} has rules but no '->' line")
    return allowed, forbidden, words


def code_only(text):
    """The text without comments and string literals (line breaks kept)."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def sources(root, module):
    for dirpath, _, files in os.walk(os.path.join(root, module)):
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.join(dirpath, name)


def check_links(root, module, allowed):
    """The zeqvpn_* libraries the module's CMakeLists.txt links."""
    cmake = os.path.join(root, module, "CMakeLists.txt")
    if not os.path.exists(cmake):
        return
    may = allowed[module] | {module}
    with open(cmake) as f:
        for target, libs in LINK.findall(f.read()):
            for lib in re.findall(r"\bzeqvpn_([a-z_]+)", libs):
                if lib not in may:
                    yield (f"{module}/CMakeLists.txt: {target} links zeqvpn_{lib}, but {module} may depend only on "
                           f"{', '.join(sorted(allowed[module])) or 'nothing else'}")


def check_words(rel, module, text, words):
    """Identifiers the module's code may not use (comments and strings aside)."""
    for number, line in enumerate(code_only(text).split("\n"), 1):
        for word in words.get(module, []):
            if re.search(r"(?<![\w:])" + re.escape(word) + r"\b", line):
                yield f"{rel}:{number}: {module} uses {word}, which {module} may not (allowed_edges.txt: {module} -w {word})"


def check_includes(rel, module, text, allowed, forbidden):
    """Project includes point down; forbidden prefixes; Boost.Asio in .cpp files only."""
    may = allowed[module] | {module}
    for number, line in enumerate(text.split("\n"), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        quote, target = m.group(1), m.group(2)
        for prefix in forbidden.get(module, []):
            if target.startswith(prefix):
                yield f"{rel}:{number}: {module} includes {target}, which {module} may not (allowed_edges.txt: {module} -x {prefix})"
        if quote == '"':
            top = target.split("/", 1)[0] if "/" in target else None
            if top is None:
                yield f"{rel}:{number}: #include \"{target}\": name it from the project root, as \"{module}/{target}\""
            elif top not in may:
                listed = ", ".join(sorted(allowed[module])) or "nothing else"
                yield (f"{rel}:{number}: {module} includes {target}, but {module} may include only {listed} "
                       f"(tests/layering/allowed_edges.txt, from ARCHITECTURE.md)")
        elif rel.endswith((".hpp", ".h")) and target.startswith("boost/asio"):
            yield (f"{rel}:{number}: a header includes <{target}>; keep Boost.Asio in .cpp files "
                   f"(forward-declare boost::asio::io_context)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=os.path.normpath(os.path.join(here, "..", "..")))
    parser.add_argument("--edges", default=os.path.join(here, "allowed_edges.txt"))
    args = parser.parse_args()
    allowed, forbidden, words = read_edges(args.edges)

    problems = []
    modules = sorted(d for d in os.listdir(args.root)
                     if os.path.isdir(os.path.join(args.root, d)) and d not in UNCHECKED and not d.startswith(".")
                     and not os.path.exists(os.path.join(args.root, d, "CMakeCache.txt")))
    for module in modules:
        files = list(sources(args.root, module))
        if not files:
            continue
        if module not in allowed:
            problems.append(f"{module}/: a folder with sources that allowed_edges.txt does not list; add its line")
            continue
        problems.extend(check_links(args.root, module, allowed))
        for path in files:
            rel = os.path.relpath(path, args.root)
            with open(path, errors="replace") as f:
                text = f.read()
            problems.extend(check_words(rel, module, text, words))
            problems.extend(check_includes(rel, module, text, allowed, forbidden))
    for p in problems:
        print(p)
    if problems:
        print(f"layering: {len(problems)} include(s) break the module layering", file=sys.stderr)
        return 1
    print(f"layering: {len(modules)} folders checked, every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
