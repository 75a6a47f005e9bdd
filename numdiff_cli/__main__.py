"""``python -m numdiff_cli``: the same as the ``numdiff`` command."""

from numdiff_cli.cli import main

if __name__ == "__main__":
    main(prog_name="numdiff")
