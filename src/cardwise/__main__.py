"""`python -m cardwise …` is the `cardwise` command."""

from cardwise.cli import main

main()
