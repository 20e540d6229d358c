"""The procedures slice's blocker of the escalation ladder (app/escalation/blockers.py): a taxpayer in an open
insolvency proceeding (liquidazione giudiziale and the like) is not pursued with individual acts; the
credit is filed in the proceeding (insinuazione al passivo, D.Lgs. 14/2019 art. 150: no individual
enforcement once the proceeding is opened). The SQL mirrors `predicates.in_open_insolvency`, as an
uncorrelated IN (hashed once per statement, not a subquery per position)."""

from __future__ import annotations

from app.escalation.blockers import register_blocker

register_blocker(
    "procedura_concorsuale",
    "In procedura concorsuale",
    "p.taxpayer_id IN (SELECT i.taxpayer_id FROM insolvency_proceedings i "
    "WHERE i.opened_on <= :on AND (i.closed_on IS NULL OR i.closed_on > :on))",
)
