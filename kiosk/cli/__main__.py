"""`python -m kiosk.cli`: the non-UI `kiosk` commands (`python -m screens.main` has them all, with
run/demo/simulate)."""
import sys

from kiosk.cli import main

sys.exit(main())
