"""`python -m app`: the command line without the GUI (config commands and headless mode)."""

import sys

from app.cli import main

sys.exit(main())
