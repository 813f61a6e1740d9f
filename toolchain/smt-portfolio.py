#!/usr/bin/env python3
"""The SMT solver halmos calls for `make prove` (--solver-command): a portfolio of three solvers on one query.

halmos writes each query (a path that could fail an assertion) to an SMT-LIB 2 file and runs
`smt-portfolio.py FILE`, reading `unsat`, `sat` plus a model, or `unknown` from the first line of stdout.
The queries of the arithmetic proofs are non-linear 256-bit (x * y / d): no single solver answers all of
them in useful time, but most are quick for one of
  cvc5 --solve-bv-as-int=sum   bit-vectors as integers, non-linear integer arithmetic (products, quotients);
  bitwuzla --abstraction       bit-blasting with lazy lemmas for multiplication and division;
run at once on the whole query and on sub-queries (see slices). The first `unsat`, or a `sat` on the whole
query, wins and the others are stopped. If none answers before halmos's timeout, halmos reports the check
as TIMEOUT, which fails `make prove`. cvc5 and bitwuzla come from PyPI as Python modules (no command line of
their own), hence `--member`.
"""
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

# On the whole query: the answer, sat (with a model) or unsat.
MEMBERS = ["cvc5-int"]
# On halmos's abstraction (arithmetic as uninterpreted functions), which can only prove unsat.
ABSTRACT_MEMBERS = ["cvc5-int", "bitwuzla-abs"]
# On sub-queries (see slices), which can only prove unsat.
SLICE_MEMBERS = {"light": ["cvc5-int"], "goal": ["cvc5-int"]}
WORD = 256


def heavy(assertion: str) -> bool:
    """Whether an assertion has a 512-bit remainder (a MULMOD that narrow_query could not do in 256 bits)."""
    return "f_evm_bvurem_512" in assertion or ("bvurem" in assertion and " 512)" in assertion)


def refine(text: str) -> str:
    """The query with halmos's exact definitions of the arithmetic it first leaves uninterpreted.

    halmos first sends a query with `f_evm_bvmul_N`, `f_evm_bvudiv_N`, ... declared as uninterpreted functions
    (an abstraction: its `unsat` proves the real query unsat) and, on a `sat` whose model uses them, the same
    query with their definitions ("refined"). The abstraction rarely proves the arithmetic here and may time out
    where the exact query would not, so the portfolio answers the exact query at once; these are the same
    substitutions as halmos.solve.refine. An `unsat` of the exact query is the real answer, and a model of it
    needs no refinement.
    """
    text = re.sub(
        r"\(declare-fun f_evm_(bvmul)_([0-9]+) \(\(_ BitVec \2\) \(_ BitVec \2\)\) \(_ BitVec \2\)\)",
        r"(define-fun f_evm_\1_\2 ((x (_ BitVec \2)) (y (_ BitVec \2))) (_ BitVec \2) (\1 x y))",
        text,
    )
    return re.sub(
        r"\(declare-fun f_evm_(bvudiv|bvurem|bvsdiv|bvsrem)_([0-9]+) \(\(_ BitVec \2\) \(_ BitVec \2\)\) \(_ BitVec \2\)\)",
        r"(define-fun f_evm_\1_\2 ((x (_ BitVec \2)) (y (_ BitVec \2))) (_ BitVec \2) (ite (= y (_ bv0 \2)) (_ bv0 \2) (\1 x y)))",
        text,
    )


def narrow_query(text: str) -> str:
    """The query with its 512-bit arithmetic done in 256 bits wherever that is exact: an equivalent query.

    halmos computes MULMOD (OpenZeppelin's Math.mul512 and the rounding-up term of Math.mulDiv) in 512 bits:
    `(bvurem (bvmul (concat 0 x) (concat 0 y)) m)`. When the bounds of x, y and m that the query's own syntax
    gives (halmos's `p = (concat 0 ((_ extract N-1 0) p))` for a uintN argument, zero-extensions, constants,
    and sums and products of those) put every such value below 2^256, the 512-bit term equals the zero-extension
    of the same term in 256 bits, and `x * y mod m` with x * y < m is x * y itself. The rewrite replaces each
    such term by that 256-bit form and changes nothing else: every assertion keeps its meaning (given the
    query's bound assertions, which stay), the free symbols stay, so an `unsat` or a model of the rewritten
    query is one of the original. Where a bound does not follow from the syntax, the term is left as it was.
    """
    import z3
    from z3 import (
        Z3_OP_BADD, Z3_OP_BMUL, Z3_OP_BUDIV, Z3_OP_BUREM, Z3_OP_CONCAT, Z3_OP_EQ, Z3_OP_EXTRACT, Z3_OP_ITE, Z3_OP_UGEQ,
        Z3_OP_UGT, Z3_OP_ULEQ, Z3_OP_ULT, Z3_OP_UNINTERPRETED, Z3_OP_ZERO_EXT,
    )

    assertions = list(z3.parse_smt2_string(text))
    # halmos bounds an argument of type uintN as `(= p (concat (_ bv0 256-N) ((_ extract N-1 0) p)))`.
    bound = {}
    for a in assertions:
        if z3.is_eq(a):
            lhs, rhs = a.arg(0), a.arg(1)
            if (z3.is_const(lhs) and lhs.decl().kind() == Z3_OP_UNINTERPRETED and z3.is_bv(lhs)
                    and rhs.decl().kind() == Z3_OP_CONCAT and rhs.num_args() == 2
                    and z3.is_bv_value(rhs.arg(0)) and rhs.arg(0).as_long() == 0
                    and rhs.arg(1).decl().kind() == Z3_OP_EXTRACT
                    and rhs.arg(1).params()[1] == 0 and rhs.arg(1).arg(0).eq(lhs)):
                bound[lhs.get_id()] = (1 << (rhs.arg(1).params()[0] + 1)) - 1
    maxval_memo = {}
    keep = []  # every memoised term stays alive, so that no id is reused

    def maxval(e):
        """An upper bound of e's value (as an unsigned number), from its syntax alone."""
        key = e.get_id()
        if key in maxval_memo:
            return maxval_memo[key]
        size = e.size()
        full = (1 << size) - 1
        k = e.decl().kind()
        if z3.is_bv_value(e):
            m = e.as_long()
        elif k == Z3_OP_UNINTERPRETED and e.num_args() == 0:
            m = bound.get(key, full)
        elif k == Z3_OP_CONCAT:
            # high parts that are the constant 0 leave the low parts' bound
            args = [e.arg(i) for i in range(e.num_args())]
            while len(args) > 1 and z3.is_bv_value(args[0]) and args[0].as_long() == 0:
                args = args[1:]
            if len(args) == 1:
                m = maxval(args[0])
            else:
                m = full
        elif k == Z3_OP_ZERO_EXT:
            m = maxval(e.arg(0))
        elif k == Z3_OP_EXTRACT:
            hi, lo = e.params()
            inner = maxval(e.arg(0))
            m = inner >> lo if inner < (1 << (hi + 1)) else full
        elif k == Z3_OP_BMUL:
            m = 1
            for i in range(e.num_args()):
                m *= maxval(e.arg(i))
            m = min(m, full) if m <= full else full
        elif k == Z3_OP_BADD:
            m = sum(maxval(e.arg(i)) for i in range(e.num_args()))
            m = m if m <= full else full
        elif k == Z3_OP_BUREM:
            m = maxval(e.arg(0))  # x urem y <= x, also for y = 0 (SMT-LIB: x urem 0 = x)
            d = e.arg(1)
            if z3.is_bv_value(d) and d.as_long() > 0:
                m = min(m, d.as_long() - 1)
        elif k == Z3_OP_BUDIV:
            d = e.arg(1)  # SMT-LIB: x udiv 0 is all ones
            m = maxval(e.arg(0)) // d.as_long() if z3.is_bv_value(d) and d.as_long() > 0 else full
        elif k == Z3_OP_ITE:
            cond, then, other = e.arg(0), e.arg(1), e.arg(2)
            if (other.decl().kind() == Z3_OP_BUDIV and z3.is_eq(cond)
                    and any(cond.arg(i).eq(other.arg(1)) and z3.is_bv_value(cond.arg(1 - i))
                            and cond.arg(1 - i).as_long() == 0 for i in range(2))):
                # halmos's `(ite (= y 0) 0 (bvudiv x y))` (EVM division): at most x
                m = max(maxval(then), maxval(other.arg(0)))
            else:
                m = max(maxval(then), maxval(other))
        else:
            m = full
        maxval_memo[key] = m
        keep.append(e)
        return m

    narrow_memo = {}

    def narrow(e, w):
        """A w-bit term whose zero extension equals e, for a term e with maxval(e) < 2^w."""
        key = (e.get_id(), w)
        if key in narrow_memo:
            return narrow_memo[key]
        size = e.size()
        k = e.decl().kind()
        if size == w:
            r = e
        elif z3.is_bv_value(e):
            r = z3.BitVecVal(e.as_long(), w)
        elif k == Z3_OP_BMUL and all(maxval(e.arg(i)) < (1 << w) for i in range(e.num_args())):
            args = [narrow(e.arg(i), w) for i in range(e.num_args())]
            r = args[0]
            for a in args[1:]:
                r = r * a
        elif k == Z3_OP_BADD and all(maxval(e.arg(i)) < (1 << w) for i in range(e.num_args())):
            args = [narrow(e.arg(i), w) for i in range(e.num_args())]
            r = args[0]
            for a in args[1:]:
                r = r + a
        elif k == Z3_OP_BUREM:
            x, d = e.arg(0), e.arg(1)
            if z3.is_bv_value(d) and maxval(x) < d.as_long():
                r = narrow(x, w)  # x < d: x urem d = x
            elif maxval(d) < (1 << w):
                r = z3.URem(narrow(x, w), narrow(d, w))
            else:
                r = z3.Extract(w - 1, 0, e)
        elif k == Z3_OP_ZERO_EXT:
            inner = e.arg(0)
            r = inner if inner.size() == w else (z3.ZeroExt(w - inner.size(), inner) if inner.size() < w else narrow(inner, w))
        elif k == Z3_OP_CONCAT and z3.is_bv_value(e.arg(0)) and e.arg(0).as_long() == 0:
            rest = [e.arg(i) for i in range(1, e.num_args())]
            low = rest[0] if len(rest) == 1 else z3.Concat(*rest)
            r = narrow(low, w) if low.size() > w else (low if low.size() == w else z3.ZeroExt(w - low.size(), low))
        elif k == Z3_OP_ITE:
            r = z3.If(e.arg(0), narrow(e.arg(1), w), narrow(e.arg(2), w))
        else:
            r = z3.Extract(w - 1, 0, e)
        narrow_memo[key] = r
        keep.append(e)
        return r

    rewrite_memo = {}

    def rewrite(e):
        key = e.get_id()
        if key in rewrite_memo:
            return rewrite_memo[key]
        if z3.is_app(e) and e.num_args() > 0:
            children = [rewrite(e.arg(i)) for i in range(e.num_args())]
            if any(not c.eq(e.arg(i)) for i, c in enumerate(children)):
                r = e.decl()(*children)
                if (e.decl().kind() in (Z3_OP_EQ, Z3_OP_ULEQ, Z3_OP_ULT, Z3_OP_UGEQ, Z3_OP_UGT) and z3.is_bv(children[0])
                        and children[0].size() > WORD and all(maxval(c) < (1 << WORD) for c in children)):
                    r = e.decl()(*[narrow(c, WORD) for c in children]) if e.decl().kind() != Z3_OP_EQ \
                        else (narrow(children[0], WORD) == narrow(children[1], WORD))
                if e.decl().kind() == Z3_OP_EXTRACT and children[0].decl().kind() == Z3_OP_ZERO_EXT:
                    hi, lo = e.params()
                    inner = children[0].arg(0)
                    if hi < inner.size():
                        r = inner if (lo == 0 and hi == inner.size() - 1) else z3.Extract(hi, lo, inner)
            else:
                r = e
        else:
            r = e
        if z3.is_bv(r) and not z3.is_bv_value(r) and r.size() > WORD and maxval(r) < (1 << WORD):
            r = z3.ZeroExt(r.size() - WORD, narrow(r, WORD))
        rewrite_memo[key] = r
        keep.append(e)
        return r

    solver = z3.Solver()
    for a in assertions:
        solver.add(rewrite(a))
    # to_smt2 declares the same symbols and ends with (check-sat); halmos reads a model after sat.
    return "(set-logic QF_AUFBV)\n" + solver.to_smt2() + "(get-model)\n"


def split_query(text: str):
    """(header, assertions, footer) of a halmos query: declarations, `(assert ...)` blocks, `(check-sat)...`."""
    start = text.find("(assert")
    end = text.rfind("(check-sat)")
    if start < 0 or end < 0:
        return None
    return text[:start], ["(assert" + b for b in text[start:end].split("(assert")[1:]], "(check-sat)\n"


def slices(text: str) -> dict:
    """Sub-queries whose `unsat` proves the query: a subset of a query's assertions that is unsat makes the whole
    query unsat (their `sat` proves nothing and is ignored). The goal, the last assertion, is always kept.
      light: without the path conditions that mention a 512-bit remainder (Math.mul512's `x * y fits`, which closed
             mulDiv's 512-bit branch): the solvers get lost in those even where the goal does not need them;
      goal:  the goal alone, for goals that hold for every value of their terms (a lemma about n / d).
    """
    parts = split_query(text)
    if parts is None or not parts[1]:
        return {}
    header, blocks, footer = parts
    out = {}
    light = [b for b in blocks[:-1] if not heavy(b)] + [blocks[-1]]
    if len(light) < len(blocks):
        out["light"] = header + "".join(light) + footer
    if len(blocks) > 1:
        out["goal"] = header + blocks[-1] + footer
    return out


def run_cvc5(path: str) -> None:
    import cvc5

    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("produce-models", "true")
    solver.setOption("solve-bv-as-int", "sum")
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    with open(path) as f:
        text = f.read()
    # Under halmos's QF_AUFBV cvc5 gets nowhere with its integer translation; under ALL it does.
    text = text.replace("(set-logic QF_AUFBV)", "(set-logic ALL)", 1)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, path)
    last = None
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        text = str(cmd)
        if text.startswith("(get-model") and last != "sat":
            continue  # a model only after sat (cvc5 raises otherwise)
        out = cmd.invoke(solver, symbols)
        if text.startswith("(check-sat"):
            last = out.strip()
        if out:
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
            sys.stdout.flush()


def run_bitwuzla(path: str) -> None:
    import bitwuzla

    options = bitwuzla.Options()
    options.set(bitwuzla.Option.PRODUCE_MODELS, True)
    options.set(bitwuzla.Option.ABSTRACTION, True)
    parser = bitwuzla.Parser(bitwuzla.TermManager(), options, "smt2", 10)
    parser.parse(path)  # prints check-sat's answer and get-model's model itself


def die_with_parent() -> None:
    """In a member, before exec: be killed when the portfolio dies, however it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def portfolio(path: str) -> int:
    here = os.path.abspath(__file__)
    with open(path) as f:
        text = f.read()
    abstract = "(declare-fun f_evm_" in text
    text = refine(text)
    try:
        text = narrow_query(text)
    except Exception as error:  # a query the rewrite does not understand is solved as it is
        if os.environ.get("SMT_PORTFOLIO_VERBOSE"):
            sys.stderr.write(f"smt-portfolio: no rewrite ({error!r})\n")
    fd, query = tempfile.mkstemp(suffix=".query.smt2")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    temp_files = [query]
    commands = {name: [sys.executable, here, "--member", name, query] for name in MEMBERS}
    if abstract:
        # halmos's abstraction as it came: its unsat proves the query (its sat, which may use the abstraction, is ignored)
        for name in ABSTRACT_MEMBERS:
            commands[f"{name}-abstract"] = [sys.executable, here, "--member", name, path]
    for kind, sliced in slices(text).items():
        fd, slice_file = tempfile.mkstemp(suffix=f".{kind}.smt2")
        with os.fdopen(fd, "w") as f:
            f.write(sliced)
        temp_files.append(slice_file)
        for name in SLICE_MEMBERS[kind]:
            commands[f"{name}-{kind}-slice"] = [sys.executable, here, "--member", name, slice_file]
    started = time.monotonic()
    procs = {}
    for name, command in commands.items():
        procs[name] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def stop_all(*_):
        for p in procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    # halmos kills this process on its timeout: take the members with it.
    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(1)))
    signal.signal(signal.SIGINT, lambda *a: (stop_all(), sys.exit(1)))
    answers = queue.Queue()
    for name, proc in procs.items():
        # One reader per member, so that none blocks on a full pipe.
        threading.Thread(target=lambda n=name, p=proc: answers.put((n, p.communicate()[0])), daemon=True).start()
    answer = "unknown\n"
    try:
        for _ in procs:
            name, out = answers.get()
            first = out.split("\n", 1)[0].strip()
            if first == "unsat" or (first == "sat" and not name.endswith(("-slice", "-abstract"))):
                answer = out
                if os.environ.get("SMT_PORTFOLIO_VERBOSE"):
                    sys.stderr.write(f"smt-portfolio: {first} from {name}\n")
                if os.environ.get("SMT_PORTFOLIO_LOG"):  # one line per answered query: time, answer, member, query
                    with open(os.environ["SMT_PORTFOLIO_LOG"], "a") as log:
                        log.write(f"{time.monotonic() - started:.1f}s {first} {name} {path}\n")
                break
    finally:
        stop_all()
        for temp_file in temp_files:
            os.unlink(temp_file)
    sys.stdout.write(answer)
    return 0


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--member":
        {"cvc5-int": run_cvc5, "bitwuzla-abs": run_bitwuzla}[args[1]](args[2])
        return 0
    files = [a for a in args if not a.startswith("-")]
    if len(files) != 1:
        sys.stderr.write("usage: smt-portfolio.py QUERY.smt2\n")
        return 2
    return portfolio(files[0])


if __name__ == "__main__":
    sys.exit(main())
