"""`python -m autograder` runs the `cnnkit` command line."""

import sys

from autograder.frontends.cli import main

sys.exit(main())
