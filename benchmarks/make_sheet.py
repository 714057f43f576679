"""Write a complaint sheet of N rows for import benchmarks.

    python benchmarks/make_sheet.py 10000 /tmp/complaints-10k.csv
    python benchmarks/make_sheet.py 100000 /tmp/complaints-100k.xlsx

CFPB-shaped columns (Complaint ID, Date received, Product, Issue, narrative,
Company response to consumer, Submitted via, State, ZIP code) plus a closing
date; about 70% of rows are closed. Deterministic for a given N.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

HEADER = [
    "Complaint ID",
    "Date received",
    "Product",
    "Issue",
    "Consumer complaint narrative",
    "Company response to consumer",
    "Submitted via",
    "State",
    "ZIP code",
    "Date closed",
]
PRODUCTS = [
    "Mortgage",
    "Credit card",
    "Checking or savings account",
    "Student loan",
    "Debt collection",
    "Vehicle loan",
]
ISSUES = [
    "Incorrect information on your report",
    "Trouble during payment process",
    "Managing an account",
    "Attempts to collect debt not owed",
    "Fees or interest",
    "Problem with a purchase shown on your statement",
]
RESPONSES = ["Closed with explanation"] * 5 + [
    "Closed with monetary relief",
    "In progress",
    "Closed with non-monetary relief",
    "In progress",
]
CHANNELS = ["Web", "Phone", "Referral", "Postal mail", "Email", "Fax"]
STATES = ["CA", "NY", "TX", "FL", "MA", "NJ", "IL"]


def rows(count: int, seed: int = 5):
    pick = random.Random(seed)
    start = date(2019, 1, 1)
    for number in range(count):
        received = start + timedelta(days=pick.randrange(6 * 365))
        response = pick.choice(RESPONSES)
        closed = received + timedelta(days=pick.randrange(1, 40)) if response.startswith("Closed") else None
        yield [
            str(3000000 + number),
            received.strftime("%m/%d/%Y"),
            pick.choice(PRODUCTS),
            pick.choice(ISSUES),
            f"Complaint {number}: I was charged {pick.randrange(10, 900)} dollars twice.\n"
            "Nobody answered my letters.",
            response,
            pick.choice(CHANNELS),
            pick.choice(STATES),
            str(pick.randrange(1000, 99999)),
            closed.strftime("%m/%d/%Y") if closed else "",
        ]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    count, target = int(argv[1]), Path(argv[2])
    if target.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Complaints")
        sheet.append(HEADER)
        for row in rows(count):
            sheet.append(row)
        book.save(target)
    else:
        with open(target, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(rows(count))
    print(f"wrote {count} rows to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
