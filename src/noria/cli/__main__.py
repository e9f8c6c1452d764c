"""``python -m noria.cli``: the same as the ``noria`` command."""

from noria.cli import main

main()
