"""``python -m halfcascade.bench.memory``."""

from . import main

main()
