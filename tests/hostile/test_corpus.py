"""The hostile corpus: every input answers with its exit status and diagnostic, never a
traceback, and within a minute (issue 14's acceptance). `corpus/*.gan` are files with their
expectation on the first line (`# expect: exit 1, E004 at 2:11`) and flags on the second
(`# flags: --param S=3`); `cases.CASES` are built in code. Each runs through the command line's
`main`, with an alarm as a guard against a hang (not a speed test: `benchmarks/` has those).
A spec that compiles must compile to a module that only defines (`safety.py`).
"""

from __future__ import annotations

import re
import shlex
import signal
from pathlib import Path

import pytest
from cases import CASES, Case
from safety import definitions_only

from gandsl.cli import main
from gandsl.diagnostics import GandslError
from gandsl.limits import REPORTED
from gandsl.pipeline import compile_source, read_spec

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.gan"))
HANG = 60  # seconds: far past any case's real time, which benchmarks/compile_speed.py reports
EXPECT = re.compile(r"# expect: exit (\d)(?:, (\w\d+)(?: at (\d+):(\d+))?)?")
FIRST = re.compile(r":(\d+):(\d+): (?:error|warning)\[(\w\d+)\]")


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"still running after {HANG} s")


def run_check(path: Path, flags: list[str], capsys) -> tuple[int, str]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG)
    try:
        status = main(["check", str(path), *flags])
    except SystemExit as e:  # argparse's answer to a bad flag
        status = e.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def expectation(path: Path) -> tuple[Case, list[str]]:
    raw = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    m = EXPECT.match(raw[0])
    assert m, f"{path.name}: the first line must be `# expect: exit N[, CODE at L:C]`"
    flags = shlex.split(raw[1].removeprefix("# flags:")) if raw[1].startswith("# flags:") \
        else []
    at = (int(m[3]), int(m[4])) if m[3] else None
    return Case(path.name, "", int(m[1]), m[2], at), flags


def verify(case: Case, path: Path, flags: list[str], capsys) -> None:
    status, output = run_check(path, flags, capsys)
    assert "Traceback" not in output
    assert status == case.exit, output[-3000:]
    if case.code is not None:
        first = FIRST.search(output)
        assert first, output[-3000:]
        assert first[3] == case.code, output[:3000]
        if case.at is not None:
            assert (int(first[1]), int(first[2])) == case.at, output[:3000]
    if case.count is not None:  # every diagnostic counted, 50 shown
        assert output.count(f"error[{case.code}]") == REPORTED.value
        assert f"… and {case.count - REPORTED.value:,} more errors, not shown" in output
        assert f"{case.count:,} errors in" in output
    if case.exit == 0 and not flags:
        try:
            result = compile_source(read_spec(path), str(path))
        except GandslError:  # a spec `check` accepts also compiles
            pytest.fail(f"{path.name} checks but does not compile")
        assert not definitions_only(result.python)


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_file(path, capsys):
    case, flags = expectation(path)
    verify(case, path, flags, capsys)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_built_case(case, tmp_path, capsys):
    path = tmp_path / "hostile.gan"
    path.write_text(case.text, encoding="utf-8")
    verify(case, path, [], capsys)


def test_corpus_is_whole():
    """Every kind of hostile input the issue lists is in the corpus or the built cases."""
    names = {p.stem for p in CORPUS} | {c.name for c in CASES}
    for wanted in ["10k nested parentheses", "10k blocks applying each other",
                   "a 5,000-term loss", "a 5,000-digit integer", "exponential block recursion",
                   "a 20,000 x 20,000 for", "10,000 undefined names", "a 500 KB spec of networks",
                   "unicode_digits", "arabic_indic_digit", "keyword_outputs",
                   "tuple_method_outputs", "injection_title"]:
        assert wanted in names


def test_deepest_expansion_stays_far_from_the_stack_limit():
    """What the limits allow at most (100 levels of bodies through 32 nested blocks, an
    85-level expression inside) uses a fraction of Python's stack: the passes recurse at most
    a few frames per level, and `pipeline.RECURSION_LIMIT` leaves room above Python's
    default of 1,000."""
    import sys

    from gandsl.pipeline import RECURSION_LIMIT

    text = read_spec(Path(__file__).parent / "corpus" / "deepest_expansion.gan")
    deepest = 0

    def profile(frame, event, arg):
        nonlocal deepest
        if event == "call":
            n, f = 0, frame
            while f is not None:
                n, f = n + 1, f.f_back
            deepest = max(deepest, n)

    sys.setprofile(profile)
    try:
        compile_source(text, "deepest.gan")
    finally:
        sys.setprofile(None)
    assert deepest < 1_000 < RECURSION_LIMIT
