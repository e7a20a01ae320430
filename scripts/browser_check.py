"""Says loudly whether browser tests can run here, and which pytest arguments follow from it.

CI must never skip them: with CI set, a missing Chromium is an error, not a skip.
"""

import os
import shutil
import sys

CHROMIUM = os.environ.get("KARTOTEKA_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    available = os.path.exists(CHROMIUM) or shutil.which("chromium") is not None
    if "--pytest-args" in sys.argv:
        print("" if available else "-m 'not browser'")
        return 0
    if available:
        print(f"Browser tests: using {CHROMIUM}")
        return 0
    banner = "!" * 78
    print(
        f"{banner}\n!! Chromium not found at {CHROMIUM}: BROWSER TESTS ARE SKIPPED.\n"
        f"!! Install it with: apt-get install chromium\n{banner}",
        file=sys.stderr,
    )
    return 1 if os.environ.get("CI") else 0


if __name__ == "__main__":
    sys.exit(main())
