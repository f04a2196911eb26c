"""How many valid resident IDs does detection miss? Generated over every GB/T 2260 county code in
stdnum's table (in its years of validity), both cases of a final X, in a log line and a CSV column.

Usage: ``python bench/bench_resident_ids.py [COUNT]``; run it against another checkout with
``PYTHONPATH=/that/checkout`` to compare.
"""

from __future__ import annotations

import random
import sys

from scanner.demo import division_periods, resident_id
from scanner.detection.engine import Detector
from scanner.model import Chunk


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rng = random.Random(18)
    table = division_periods()
    detector = Detector()
    missed = {"log": 0, "csv": 0, "errors": 0}
    ending_x = 0
    for _ in range(count):
        code, first, last = rng.choice(table)
        value = resident_id(f"{code}{rng.randint(first, last)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                            f"{rng.randint(0, 999):03d}")
        ending_x += value.endswith("X")
        value = value.lower() if rng.random() < 0.5 else value
        for where, chunk in (("log", Chunk(f"INFO kyc passed for {value} ok\n".encode())),
                             ("csv", Chunk(f"name,zjhm\n客户,{value}\n".encode(), layout="delimited",
                                           fields=("name", "zjhm")))):
            try:
                found = [m.entity_type for m in detector.scan(chunk).matches]
            except Exception:
                missed["errors"] += 1
                found = []
            missed[where] += found != ["CN_RESIDENT_ID"]
    print(f"{count} valid IDs over {len(table)} division codes ({ending_x} ending in X): missed in a log line "
          f"{missed['log']}, in a CSV column {missed['csv']}, scans that raised {missed['errors']}")


if __name__ == "__main__":
    main()
