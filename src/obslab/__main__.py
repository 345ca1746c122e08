"""Allow ``python -m obslab``."""

from obslab.cli import main

main()
