"""Notify's pure rules, no I/O: who is told what (`notices`), the templates and their rendering
per channel (`templates`), channel choice and quiet hours (`preferences`), rate limits, and the
stored forms of robots' and officers' addresses (`bots`, `officers`, `contacts`)."""
