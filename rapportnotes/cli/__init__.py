"""The ``rapportnotes`` command.

Each subcommand group lives in its own module and adds its parsers through
``add_parsers(subparsers)``; this module only dispatches and turns errors into exit codes:

* 0 success; 2 a user error (bad file, bad field, unknown plugin, unwritable path) printed as
  ONE line on stderr naming the file and field or line — never a traceback, never a value;
* 1 an internal error, printed as its type only unless ``--debug`` is given (exception
  messages from deep inside a library could contain note text).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from ..errors import RapportNotesError

PROG = "rapportnotes"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import batch, extract, measures, notes, records, review

    parser = _Parser(prog=PROG, description="Psychotherapy progress notes with a rapport "
                     "& therapeutic-alliance section.")
    from ..api import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks for internal errors")
    sub = cast("argparse._SubParsersAction[argparse.ArgumentParser]",
               parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser))
    sub.required = True
    notes.add_parsers(sub)
    review.add_parsers(sub)
    records.add_parsers(sub)
    extract.add_parsers(sub)
    measures.add_parsers(sub)
    batch.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ._spacy_start import defer

    defer()  # spaCy without its own CLI package: -0.4 s a command (see _spacy_start.py)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RapportNotesError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f"{PROG}: internal error ({type(exc).__name__}); rerun with --debug for "
              "details and please report it", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
