"""The relationship portal (R-C2..R-C7): contact log, outgoing messages, knowledge base.

One sub-package per use case, each with its own models, services, queries and routes:
`contacts` (contact log, appointments, statistics), `messages` (channels, templates, delivery status, rules),
`knowledge` (knowledge base: news, office hours, FAQ, procedures).
"""
