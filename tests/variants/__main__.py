"""`python -m tests.variants NAME[+NAME...] [fpjs-refserver options]`: serve one variant, or several
variants' defects at once (`a+b`: their step overrides combined, the first named winning)."""

import sys

from fpjs_conformance.refserver.__main__ import main
from tests.variants import load_all

if __name__ == "__main__":
    names = sys.argv[1].split("+") if len(sys.argv) > 1 else []
    unknown = [n for n in names if n not in load_all()]
    if not names or unknown:
        sys.exit(
            f"usage: python -m tests.variants NAME[+NAME...] [options]; NAME one of: {', '.join(sorted(load_all()))}"
        )
    bases = tuple(load_all()[name].server for name in names)
    main(sys.argv[2:], server_class=bases[0] if len(bases) == 1 else type("Combined", bases, {}))
