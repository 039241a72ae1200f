"""`python -m autograder` runs the `cnnkit` command line."""

import sys

from autograder.cli import main

sys.exit(main())
