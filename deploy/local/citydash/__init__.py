"""The city dashboard: a downstream reader of the published topics, as any other team would be.

It subscribes (consumer group `citydash`) to the public topics whose events it shows, validates each
payload against its published JSON Schema (libs/contracts/schemas/events) and applies it once by
CloudEvent id (SQLite, `citydash.store`); restricted topics (contact details, HR) are never read.
It imports neither the `contracts` models nor any service package nor `unionops`.

    python -m citydash --bootstrap 127.0.0.1:19092 --port 8090 [--state citydash.sqlite3]

HTTP: `GET /` the page (plotly.js from the installed `plotly` package, no CDN; polls every 3 s),
`GET /figures.json`, `GET /deliveries.json`, `GET /health/ready`.

`GET /figures.json[?fresh=true]` (fresh: recomputed now rather than at most every 2 s):

    {"totals": {"members": int,            # active + retained members, in their union now
                "unions": int,             # grassroots unions not merged or dissolved
                "aid_fen": int,            # aid paid less reversed (AidDisbursed − AidReversed), all campaigns and cases
                "aid_payments": int, "notifications": int,   # NotificationDelivered, every channel
                "notifications_failed": int, "contests_published": int,
                "events": int,             # distinct CloudEvents applied
                "rejected": int},          # events their schema refused (not counted)
     "months": ["YYYY-MM", ...],           # Beijing months the register and tree changed in (by event time)
     "districts": [{"id": uuid|"unknown", "name": str, "members": int, "unions": int,
                    "members_by_month": [int per month],   # at each month's end, in the district
                    "unions_by_month": [int per month]}],  # the union was in at that day (moves followed)
     "coverage": [{"org_id", "org_name", "level", "period", "as_of", "members_total", "members_target",
                   "unions_total", "unions_founded_this_year", "unions_target", "non_public_employers_total",
                   "non_public_employers_covered", "collective_contract_employers", "rights_rates"}],
                                           # the latest CoverageSummaryPublished per unit (targets may be null)
     "campaigns": [{"campaign_id": uuid|null (case aid), "name", "kind", "budget_fen", "paid_fen",
                    "paid_count", "reversed_fen", "reversed_count", "net_fen"}],   # paid_fen is gross
     "contests": [{"contest_id", "contest_name", "revision", "published_at",
                   "placings": [Placing as published]}],   # the latest revision per contest
     "notifications": {"months": ["YYYY-MM"],              # Beijing month of delivered_at
                       "channels": [{"channel", "delivered", "failed", "delivered_by_month": [int]}]},
     "feed": {"ready": bool, "broker_restarts_seen": int}}

`GET /deliveries.json`: {source_event_id: {channel: delivered count}}."""
