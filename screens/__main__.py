"""`python -m screens`: the `kiosk` command (see screens.main)."""
import sys

from screens.main import main

sys.exit(main())
