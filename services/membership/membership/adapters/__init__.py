"""Outside formats: the spreadsheets (.xlsx, CSV) union offices keep and membership reads, and the
report forms (.xlsx) it writes."""
