"""The procedures slice's blocker of the escalation ladder (app/escalation/blockers.py): a taxpayer in an open
insolvency proceeding (liquidazione giudiziale and the like) is not pursued with individual acts; the
credit is filed in the proceeding (insinuazione al passivo, D.Lgs. 14/2019 art. 150: no individual
enforcement once the proceeding is opened). The SQL mirrors `predicates.in_open_insolvency`."""

from __future__ import annotations

from app.escalation.blockers import register_blocker

register_blocker(
    "procedura_concorsuale",
    "In procedura concorsuale",
    "EXISTS (SELECT 1 FROM insolvency_proceedings i WHERE i.taxpayer_id = p.taxpayer_id "
    "AND i.opened_on <= :on AND (i.closed_on IS NULL OR i.closed_on > :on))",
)
