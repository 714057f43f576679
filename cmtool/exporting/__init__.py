"""Cases out to spreadsheets: xlsx (real dates, frozen header, an events sheet), CSV, JSON."""
