"""Delivery of notifications: the outbox, the transports and the worker (decision 0001, healthchecks' pattern).

- ``outbox``: rows in ``notifications`` written in the same transaction as the alert, reminder or message
  they announce, each with a unique ``dedupe_key`` so nothing is ever queued twice.
- ``transports``: one class per channel (email, webhook). Each raises ``TransientError`` (retry later) or
  ``PermanentError`` (give up); ``verify_webhook_signature`` is for the clinics that receive webhooks.
- ``worker``: claims one due row at a time with a conditional UPDATE, so two workers never send the same
  notification, sends it, and records the outcome with exponential back-off.
- ``endpoints``: the actions behind the clinic's webhook page.

Privacy: a notification says only that something needs attention, with a link to sign in. No names,
symptoms or scores leave the machine, and errors and logs carry notification ids, never content.
"""
