#!/usr/bin/env python3
"""Lists the longest function definitions in the project's C++ sources.

Counts lines from a function's signature to its closing brace (comments and
string literals skipped), over the files git tracks outside tests/. For
keeping an eye on functions that mix steps:
    python3 scripts/function_sizes.py [ROOT] [HOW_MANY]
"""
import os
import re
import subprocess
import sys


def strip(text):
    """The text with comments and literals blanked, line breaks kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i) or text.startswith('R"(', i):
            close = "*/" if text.startswith("/*", i) else ')"'
            j = text.find(close, i) + len(close)
            out.append("\n" * text[i:j].count("\n"))
            i = j
            continue
        if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):  # 1'000 is a number
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    """(lines, first line, name) of each function body at namespace or class level."""
    text = strip(open(path).read())
    stack, last = [], 0
    for m in re.finditer(r"[{};]", text):
        ch, pos = m.group(), m.start()
        if ch == "{":
            header = text[last:pos].strip()
            if any(kind == "func" for kind, *_ in stack):
                kind = "block"
            elif re.match(r"^(namespace|extern)\b", header):
                kind = "ns"
            elif re.match(r"^(template\s*<[^>]*>\s*)?(class|struct|enum|union)\b", header) and "(" not in header.split(":")[0]:
                kind = "class"
            elif "(" in header and not header.startswith("="):
                kind = "func"
            else:
                kind = "block"
            stack.append((kind, text.count("\n", 0, pos) + 1, header))
        elif ch == "}" and stack:
            kind, line, header = stack.pop()
            if kind == "func":
                first = line - header.count("\n")
                name = re.sub(r"\s+", " ", header).split("(")[0].split()
                yield text.count("\n", 0, pos) + 1 - first + 1, first, name[-1] if name else header
        last = pos + 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    files = subprocess.check_output(["git", "ls-files", "*.cpp", "*.hpp"], cwd=root, text=True).split()
    rows = []
    for f in files:
        if not f.startswith("tests/"):
            rows.extend((n, f, line, name) for n, line, name in functions(os.path.join(root, f)))
    for n, f, line, name in sorted(rows, reverse=True)[:top]:
        print(f"{n:4d}  {f}:{line}  {name}")


if __name__ == "__main__":
    main()
