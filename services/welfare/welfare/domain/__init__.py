"""Welfare's pure rules (no database, no HTTP): one module per topic — cases, hardship files,
money and the ledger's arithmetic, working days, 金秋助学, campaigns, the 12351 hotline, visits,
reversals (冲正), labour-dispute mediation and legal aid — with the event factories of events raised from more than one place."""
