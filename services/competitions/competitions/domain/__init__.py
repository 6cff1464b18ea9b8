"""Pure rules of the competitions service (no I/O): one module per aggregate — contests,
teams (registration), scoring (judging arithmetic), results, awards, proposals — with the
event factories of events raised from more than one place."""
