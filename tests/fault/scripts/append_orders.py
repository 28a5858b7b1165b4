"""One of several processes appending orders to the same algoOrder file.

    python append_orders.py FILE PROCESS COUNT GO_FILE

Prints ``ready`` once imported, waits for GO_FILE to appear (so that all processes start
together), then appends COUNT one-row orders through ``LockedAppender``, one call per order,
as the gate does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fault_harness import ENCODING, appended_row  # noqa: E402

from jqtrade.gates.onequant.files import LockedAppender  # noqa: E402
from jqtrade.gates.onequant.protocol import ALGO_ORDER_HEADER  # noqa: E402


def main() -> int:
    path, process, count, go = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        Path(sys.argv[4]),
    )
    appender = LockedAppender(
        path, ALGO_ORDER_HEADER, ENCODING, lock_timeout=30.0, poll_interval=0.001
    )
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not go.exists():
        time.sleep(0.001)
    for index in range(count):
        appender.append([appended_row(process, index)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
