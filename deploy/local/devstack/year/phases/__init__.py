"""The phases of the year, one module per area; each exposes STEPS (devstack.year.plan.Step)."""
