"""The `tinytorch` command's entry point: imports the command, then runs it, with Ctrl-C handled throughout.

Importing tinytorch (numpy, the package) takes a moment; a Ctrl-C in it would otherwise print a
traceback from deep inside an import. This module imports nothing of tinytorch at its top, so it can
catch that interrupt and end as an interrupted command does: one line, exit status 130.
"""

import sys

INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command Ctrl-C stopped


def main() -> int:
    try:
        from tinytorch.cli import main as run_command
        return run_command()
    except KeyboardInterrupt:  # while importing (run_command handles its own)
        sys.stderr.write("tinytorch: interrupted\n")
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
