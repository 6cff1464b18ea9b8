"""Outside formats membership reads: the spreadsheets (.xlsx, CSV) union offices keep."""
