#!/usr/bin/env python3
"""Every program dgmm's host side runs must be installed by scripts/deps.sh.

A fresh Debian 12 machine once failed 'make demo' after building the kernel:
headers_install runs rsync, and nothing installed it. This check makes that
class of bug fail 'make check' instead of a new user's first run.

  check-programs.py reduce STRACE
      Reads an strace -f -e trace=execve log and prints one line per distinct
      execve: "path<TAB>errno" (0 when the program ran). lib.sh's
      dgmm_record_programs uses it for the kernel and module builds.

  check-programs.py check --packages "pkg ..." [--recorded FILE]... [--script FILE]...
      Gathers the programs: those the recorded builds executed (and the
      interpreters of the scripts among them), and those named in command
      position by the project's own host scripts. Resolves each on PATH, finds
      its Debian package with dpkg, and requires that package to be one that
      deps.sh installs (--packages, with everything they depend on) or part
      of the base every Debian system has (Essential: yes, and apt, with
      their dependencies: what 'debootstrap --variant=minbase' installs).
      Prints one line per program, then "ok"/"not ok" lines for problems on
      stdout, and exits 1 if any program is missing or not covered.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

# Programs probed by the kernel's build system and scripts that may be absent
# on a supported machine: the build works without them. Each needs a reason.
OPTIONAL = {
    # scripts/Kconfig.include and Makefile probe for ccache and clang.
    "ccache": "the kernel build only uses it when present",
}

# Where the system's programs live. Anything else the builds run (the
# kernel's scripts/, objtool, the project's scripts) is built or kept in a
# tree of ours, and only its interpreter is a program of the system.
SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", "/etc/")

# Shell words that are not programs even where a program of that name exists.
SHELL_WORDS = {
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until",
    "do", "done", "in", "function", "select", "time", "coproc", "!", "{", "}",
    "[[", "]]", "return", "local", "export", "readonly", "declare", "typeset",
    "set", "unset", "shift", "source", ".", "exit", "exec", "eval", "trap",
    "wait", "read", "mapfile", "readarray", "cd", "pwd", "echo", "printf",
    "true", "false", "test", "[", "kill", "command", "builtin", "type",
    "hash", "getopts", "let", "shopt", "umask", "ulimit", "break", "continue",
    "jobs", "fg", "bg", "disown", "alias", "unalias", "pushd", "popd", "dirs",
}

# Wrappers whose first non-option argument is itself a program.
WRAPPERS = {"exec", "command", "timeout", "env", "nice", "nohup", "xargs",
            "strace", "flock", "setsid", "sudo", "time"}


def reduce(path):
    """One line per distinct (path, errno) of the execve calls in an strace log."""
    pending = {}
    seen = {}
    # execveat(dirfd, "path", ...): the path is the second argument.
    start = re.compile(r'^(\d+)\s+execve(?:at\([^,]*,\s*|\()"((?:[^"\\]|\\.)*)"')
    resumed = re.compile(r'^(\d+)\s+<\.\.\. execve(?:at)? resumed>')
    result = re.compile(r'\)\s+=\s+(-?\d+)(?:\s+(E[A-Z0-9]+))?')
    with open(path, errors="replace") as f:
        for line in f:
            m = start.match(line)
            if m:
                pid, prog = m.group(1), m.group(2)
                if "<unfinished ...>" in line:
                    pending[pid] = prog
                    continue
            else:
                m = resumed.match(line)
                if not m or m.group(1) not in pending:
                    continue
                prog = pending.pop(m.group(1))
            r = result.findall(line)
            if not r:
                continue  # no result (the process died in the call)
            ret, name = r[-1]
            errno = "0" if ret == "0" else name or ret
            seen.setdefault((prog, errno), None)
    for prog, errno in sorted(seen):
        print(f"{prog}\t{errno}")


def shell_commands(text):
    """The simple commands of a shell script, each as its list of words.

    A small lexer, enough for the project's scripts: quotes, comments,
    heredocs, $(...) (also inside double quotes), ${...} and $((...)). Words
    that were quoted, or begin with $, come back with a leading '$'.
    """
    commands, words, word = [], [], []
    quoted = False
    stack = []  # contexts: '(' for $( ... ), '"' for a double-quoted string
    heredocs = []
    i, n = 0, len(text)

    def end_word():
        nonlocal word, quoted
        if word:
            w = "".join(word)
            words.append("$" + w if quoted else w)
        word, quoted = [], False

    def end_command():
        nonlocal words
        end_word()
        if words:
            commands.append(words)
        words = []

    def skip_balanced(j, open_, close):
        depth = 0
        while j < n:
            if text[j] == open_:
                depth += 1
            elif text[j] == close:
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return j

    while i < n:
        c = text[i]
        in_dq = stack and stack[-1] == '"'
        if in_dq:
            if c == '"':
                stack.pop()
            elif c == "\\":
                i += 1
            elif text.startswith("$((", i):
                i = skip_balanced(i + 1, "(", ")")
                continue
            elif text.startswith("$(", i):
                stack.append("(")
                end_command()
                i += 2
                continue
            i += 1
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            quoted = True
            word.append("''")
            continue
        if c == '"':
            stack.append('"')
            quoted = True
            word.append('""')
            i += 1
            continue
        if c == "\\":
            if text[i + 1:i + 2] == "\n":
                end_word()  # a line continuation
            else:
                word.append(text[i + 1:i + 2])
            i += 2
            continue
        if c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("$((", i):
            i = skip_balanced(i + 1, "(", ")")
            quoted = True
            continue
        if text.startswith("${", i):
            i = skip_balanced(i + 1, "{", "}")
            quoted = True
            continue
        if text.startswith("$(", i):
            end_command()
            stack.append("(")
            i += 2
            continue
        if c == ")" and stack and stack[-1] == "(":
            stack.pop()
            end_command()
            i += 1
            continue
        if text.startswith("<<", i) and not text.startswith("<<<", i):
            m = re.match(r"<<-?\s*(['\"]?)(\w+)\1", text[i:])
            if m:
                heredocs.append(m.group(2))
                i += m.end()
                continue
        if c == "\n":
            end_command()
            i += 1
            for end in heredocs:
                while i < n:
                    j = text.find("\n", i)
                    line = text[i:n if j < 0 else j]
                    i = n if j < 0 else j + 1
                    if line.strip() == end:
                        break
            heredocs = []
            continue
        if c in ";|&(){}`":
            end_command()
            i += 1
            continue
        if c in " \t":
            end_word()
            i += 1
            continue
        if c == "$":
            quoted = True
        word.append(c)
        i += 1
    end_command()
    return commands


def words_in_command_position(text):
    """Names that a shell script runs as programs."""
    names = set()
    for words in shell_commands(text):
        expect = True
        for w in words:
            if not expect:
                break
            if re.match(r"^\w+(\[[^]]*\])?\+?=", w):
                continue  # an assignment before the command
            if w in ("then", "else", "elif", "do", "if", "while", "until", "!", "time"):
                continue
            w = w.lstrip("@")  # make recipes: @cmd
            if w == "$$(MAKE)" or w == "$(MAKE)":
                names.add("make")
                break
            if w.startswith("$"):
                break  # a quoted path (a script of ours) or a variable
            if w in WRAPPERS:
                names.add(w)
                continue  # the wrapped program follows the options
            if w.startswith("-") or re.match(r"^[0-9.]+[smhd]?$", w):
                continue
            names.add(w)
            expect = False
    return {n for n in names if re.match(r"^[A-Za-z0-9_.+-]+$", n) and n not in SHELL_WORDS}


def shebang(text):
    """The program a script's #! line runs (through env: the program env finds), or None."""
    m = re.match(r"#!\s*(\S+)(?:\s+(\S+))?", text)
    if not m:
        return None
    return m.group(2) if os.path.basename(m.group(1)) == "env" and m.group(2) else m.group(1)


def resolve(name):
    """A program's path: as given when absolute, else found on PATH (None if not)."""
    if not name:
        return None
    return name if name.startswith("/") else shutil.which(name)


def python_subprocesses(text):
    """Programs a Python script runs: the first word of its subprocess calls."""
    return set(re.findall(r"subprocess\.\w+\(\s*\[\s*[\"']([^\"']+)[\"']", text))


def makefile_recipes(text):
    """The shell of a Makefile's recipes, with make's own expansions quoted away."""
    text = "\n".join(l[1:] for l in text.splitlines() if l.startswith("\t"))
    text = text.replace("$(MAKE)", "make").replace("$$", "$")
    return re.sub(r"\$\((?:[^()]|\([^()]*\))*\)", '"make-variable"', text)


def dpkg_owner(paths):
    """Maps each path to the package that ships it (None if no package does)."""
    owner = {}
    candidates = {}
    for p in paths:
        real = os.path.realpath(p)
        alts = []
        for q in (p, real):
            alts += [q]
            if q.startswith("/usr/"):
                alts.append(q[4:])
            else:
                alts.append("/usr" + q)
        candidates[p] = list(dict.fromkeys(alts))
    allpaths = sorted({a for v in candidates.values() for a in v})
    found = {}
    for i in range(0, len(allpaths), 200):
        r = subprocess.run(["dpkg-query", "-S"] + allpaths[i:i + 200],
                           capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("diversion by") or ": " not in line:
                continue
            pkgs, path = line.split(": ", 1)
            found[path] = pkgs.split(",")[0].strip().split(":")[0]
    for p, alts in candidates.items():
        owner[p] = next((found[a] for a in alts if a in found), None)
    return owner


def installed_packages():
    fmt = "${db:Status-Abbrev}\t${Package}\t${Essential}\t${Pre-Depends}\t${Depends}\t${Provides}\n"
    r = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True)
    pkgs, provides = {}, {}
    for line in r.stdout.splitlines():
        status, name, essential, pre, dep, prov = (line.split("\t") + [""] * 6)[:6]
        if not status.startswith("ii"):
            continue
        pkgs[name] = (essential == "yes", ", ".join(x for x in (pre, dep) if x))
        for v in prov.split(","):
            v = v.strip().split(" ")[0].split(":")[0]
            if v:
                provides.setdefault(v, []).append(name)
    return pkgs, provides


def closure(roots, pkgs, provides):
    """The installed packages that roots pull in through Depends/Pre-Depends."""
    done, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in done:
            continue
        done.add(p)
        if p not in pkgs:
            continue
        for clause in pkgs[p][1].split(","):
            # apt installs the first alternative on a machine that has none:
            # only that one counts (or, if it is virtual, what provides it).
            name = clause.split("|")[0].strip().split(" ")[0].split(":")[0]
            if name:
                todo.extend([name] if name in pkgs else provides.get(name, []))
    return done


def check(args):
    pkgs, provides = installed_packages()
    listed = set(args.packages.split())
    wanted = closure(listed, pkgs, provides)
    base = closure({p for p, (ess, _) in pkgs.items() if ess} | {"apt"}, pkgs, provides)

    programs = {}   # path -> where it came from
    missing = {}    # name -> where it came from
    unrecorded = [] # records that could not be made
    for rec in args.recorded:
        ran, failed = set(), {}
        with open(rec) as f:
            lines = f.read().splitlines()
        if not lines or lines[0].startswith("# not recorded"):
            unrecorded.append(f"{rec}: {lines[0][2:] if lines else 'empty'}")
            continue
        for line in lines:
            path, _, errno = line.partition("\t")
            if errno == "0":
                ran.add(path)
            else:
                failed.setdefault(os.path.basename(path), path)
        ran_names = {os.path.basename(p) for p in ran}
        for path in ran:
            # The kernel's and the project's own programs are built or kept
            # in their trees; what they need is their interpreter.
            if path.startswith(SYSTEM_DIRS):
                programs.setdefault(path, rec)
            try:
                with open(path, "rb") as f:
                    interp = resolve(shebang(f.readline(256).decode(errors="replace")))
            except OSError:
                continue
            if interp:
                programs.setdefault(interp, f"{rec} ({path})")
        for name, path in failed.items():
            if name not in ran_names and name not in OPTIONAL and "/" in path:
                missing.setdefault(name, rec)

    for script in args.script:
        with open(script) as f:
            text = f.read()
        if script.endswith(".py"):
            names = python_subprocesses(text)
        elif os.path.basename(script) == "Makefile":
            names = words_in_command_position(makefile_recipes(text))
        else:
            names = words_in_command_position(text)
        if shebang(text):
            names.add(shebang(text))
        for name in names:
            # Names not on PATH are functions, case labels or words of
            # arrays; a program the scripts need but this machine lacks
            # fails the scripts themselves.
            path = resolve(name)
            if not path or not path.startswith(SYSTEM_DIRS):
                continue
            programs.setdefault(path, script)

    owner = dpkg_owner(sorted(programs))
    bad = []
    for path in sorted(programs):
        pkg = owner[path]
        if pkg is None:
            why = "no Debian package ships it"
            bad.append(f"{path} ({programs[path]}): {why}")
        elif pkg in wanted:
            why = f"{pkg}, installed by deps.sh"
        elif pkg in base:
            why = f"{pkg}, in every Debian system"
        else:
            why = f"{pkg}, which deps.sh does not install"
            bad.append(f"{path} ({programs[path]}): from {pkg}, not installed by deps.sh")
        print(f"# {path}: {why}")
    for name, where in sorted(missing.items()):
        bad.append(f"{name} ({where}): not found on PATH")
    bad += unrecorded
    for b in bad:
        print(f"not ok {b}")
    print(f"# {len(programs)} programs checked, {len(bad)} problems")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reduce")
    r.add_argument("strace")
    c = sub.add_parser("check")
    c.add_argument("--packages", required=True)
    c.add_argument("--recorded", action="append", default=[])
    c.add_argument("--script", action="append", default=[])
    args = ap.parse_args()
    if args.cmd == "reduce":
        reduce(args.strace)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
