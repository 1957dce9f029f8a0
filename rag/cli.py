"""Command line: `python -m rag {build,ask,search,stories,model,staff}`.

Thin: parses flags into Settings, calls the library, prints. This and the web face
(rag/web/, app.py) are the only places that turn library errors into messages; no traceback
reaches the user (unexpected errors print one line and exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys

from rag.errors import RagError

MAX_ARG_CHARS = 100_000  # larger arguments are refused before any work
MAX_K = 1000  # passages listed by `search -k`


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other error."""

    def error(self, message: str):
        hint = " (a value starting with '-' is written --history=-…)" if "expected one argument" in message else ""
        self.exit(2, f"Error: {self.prog}: {message}{hint}; see {self.prog} --help\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rag", description="Grounded answers from newspaper issues, with citations.")
    sub = p.add_subparsers(dest="command", required=True)

    def data_flags(sp, index=True):
        sp.add_argument("--data", metavar="DIR", help="folder of issue .txt files (env RAG_DATA_DIR)")
        if index:
            sp.add_argument("--index", metavar="DIR", help="index folder (env RAG_INDEX_DIR)")
            sp.add_argument("--model", help="sentence-transformers model name or path (env RAG_MODEL)")

    b = sub.add_parser("build", help="build (or rebuild) the index")
    data_flags(b)
    b.add_argument("--force", action="store_true", help="rebuild even if the index is current")

    a = sub.add_parser("ask", help="answer a question, with citations")
    data_flags(a)
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--history", action="append", default=[], metavar="Q",
                   help="an earlier question of the same conversation (repeat, oldest first)")
    a.add_argument("--no-chat", action="store_true",
                   help="answer in this process even when a chat is running over the same index "
                        "(by default it answers, in seconds less, and says so on stderr)")
    a.add_argument("question")

    s = sub.add_parser("search", help="list the passages that match a keyword or question")
    data_flags(s)
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.add_argument("query")

    st = sub.add_parser("stories", help="print the stories read from the issues")
    data_flags(st, index=False)
    st.add_argument("--json", action="store_true", help="print a JSON array")

    m = sub.add_parser("model", help="provision the default model; print its directory on the last line")
    m.add_argument("--model", help="resolve this model instead of the default")

    sf = sub.add_parser("staff", help="staff accounts for the web app's /staff side (off until one is added)")
    actions = sf.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account; the password is asked twice, never on the command line")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--replace", action="store_true", help="set a new password for an existing account")
    rm = actions.add_parser("remove", help="remove an account (its sessions end at their next request)")
    rm.add_argument("name")
    actions.add_parser("list", help="list the account names")
    for a in (add, rm, actions.choices["list"]):
        a.add_argument("--file", metavar="PATH", help="the accounts file (env RAG_STAFF_FILE; "
                                                      "default staff.json in RAG_LOG_DIR)")
    return p


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice on the terminal."""
    import getpass

    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise RagError("no terminal to ask the password on; pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise RagError("the two passwords differ; nothing changed")
    return first


def staff(args) -> int:
    """`rag staff add|remove|list`: the accounts of the web app's staff side."""
    from rag.config import from_env
    from rag.web.accounts import Accounts, name_problem

    path = from_env(staff_file=args.file).staff_path()
    accounts = Accounts(path)
    if args.action == "list":
        for name in accounts.names():
            print(name)
        return 0
    problem = name_problem(args.name)
    if problem:
        raise RagError(problem)
    if args.action == "remove":
        accounts.remove(args.name)
        print(f"Removed staff account {args.name} from {path}")
        return 0
    if args.name in accounts.names() and not args.replace:
        raise RagError(f"staff account {args.name!r} exists (use --replace to set a new password)")
    accounts.add(args.name, _password(args.password_stdin), replace=args.replace)
    print(f"{'Changed the password of' if args.replace else 'Added'} staff account {args.name} in {path}; "
          "log in at /staff/login (the staff side is on while an account exists)")
    return 0


def _settings(args):
    from rag.config import from_env

    return from_env(data_dir=getattr(args, "data", None), index_dir=getattr(args, "index", None),
                    model=getattr(args, "model", None))


def _print_answer(d: dict) -> None:
    """An answer as `ask --json` gives it (so one printed from the running chat reads the same)."""
    if d["query"] and d["query"] != d["question"]:
        print(f"检索：{d['query']}")
    if not d["answerable"]:
        print(f"无法回答：{d['reason'] or '这几期报纸中没有找到答案。'}")
        if d["citations"]:
            print("最接近的段落：")
    else:
        if d["answer"]:
            print(f"答案：{d['answer']}")
        print(f"依据：{d['sentence']}")
    for c in d["citations"]:
        print(f"[{c['rank']}] 《{c['story']}》第{c['paragraph']}段 {c['source']} [{c['start']}–{c['end']}] {c['text']}")


def _show(d: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(d, ensure_ascii=False))
    else:
        _print_answer(d)


def _check_options(args) -> str | None:
    """A one-line message for options that cannot work, checked before any work."""
    k = getattr(args, "k", None)
    if k is not None and not 1 <= k <= MAX_K:
        return f"-k must be between 1 and {MAX_K} (got {k})"
    return None


def _utf8_output() -> None:
    """Whatever the locale, print UTF-8; a character that cannot be encoded (a lone
    surrogate from a file name) becomes U+FFFD instead of an exception."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream we may change (a test capture); it is UTF-8 already


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    for value in [getattr(args, "question", ""), getattr(args, "query", "")] + getattr(args, "history", []):
        if value and len(value) > MAX_ARG_CHARS:
            print(f"Error: the question is too long ({len(value)} characters).", file=sys.stderr)
            return 2
    problem = _check_options(args)
    if problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    if args.command == "staff":
        return staff(args)
    if args.command == "model":
        from rag.config import from_env
        from rag.model.provision import resolve_model

        print(resolve_model(from_env(model=args.model)))
        return 0
    settings = _settings(args)
    if args.command == "stories":
        from rag.ingest.issues import load_issues

        stories, skipped = load_issues(settings.data_dir)
        for name, why in skipped:
            print(f"Skipped {name}: {why}", file=sys.stderr)
        if args.json:
            print(json.dumps([s.to_json() for s in stories], ensure_ascii=False, indent=1))
        else:
            for s in stories:
                print(f"{s.source} #{s.index + 1} 《{s.title}》 {s.byline or ''} {s.date or ''} "
                      f"({len(s.paragraphs)} paragraphs)")
        return 0
    from rag import chatlink

    why = chatlink.NONE_RUNNING
    if args.command == "ask" and not args.no_chat:
        answer, why = chatlink.ask(settings, args.question, args.history)
        if answer is not None:
            _show(answer, args.json)
            print(f"({why})", file=sys.stderr)
            return 0
    from rag.engine import Engine
    from rag.store.folder import check_index_dir

    # before the model loads and everything is embedded; ask and search may load a read-only index
    check_index_dir(settings.index_dir, writable=args.command == "build")
    engine = Engine.open(settings, rebuild=getattr(args, "force", False))
    if args.command == "build":
        d = engine.describe()
        print(f"Index ready: {d['stories']} stories, {d['chunks']} passages, model {d['model']}: "
              f"{settings.index_dir / 'current'}")
        return 0
    if args.command == "ask":
        _show(engine.ask(args.question, args.history).to_json(), args.json)
        if why != chatlink.NONE_RUNNING:  # a chat is up but was not asked: say why
            print(f"(answered in this process: {why})", file=sys.stderr)
        return 0
    if args.command == "search":
        hits = engine.search(args.query, k=args.k)
        if args.json:
            print(json.dumps([dict(h.chunk.to_json(), score=h.score, rank=h.rank) for h in hits], ensure_ascii=False))
        else:
            for h in hits:
                c = h.chunk
                print(f"[{h.rank}] 《{c.title}》第{c.paragraph}段 {c.source} [{c.start}–{c.end}] {c.text}")
            if not hits:
                print("没有找到相关段落。")
        return 0
    return 2


def main(argv: list[str] | None = None) -> int:
    _utf8_output()
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except RagError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the edge: one line, never a traceback (a native panic too)
        print(f"Error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
