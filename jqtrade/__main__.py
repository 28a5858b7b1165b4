import sys

from jqtrade.cli import main

sys.exit(main())
