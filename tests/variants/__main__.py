"""`python -m tests.variants NAME [fpjs-refserver options]`: serve one variant."""

import sys

from fpjs_conformance.refserver.__main__ import main
from tests.variants import load_all

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in load_all():
        sys.exit(f"usage: python -m tests.variants NAME [options]; NAME one of: {', '.join(sorted(load_all()))}")
    main(sys.argv[2:], server_class=load_all()[sys.argv[1]].server)
