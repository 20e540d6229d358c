"""Reads of the acts' screens, always through the scoping helper."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.atti.models import Act, ActTemplate, ActType, Campaign, CampaignItem
from app.core.access import Principal, scoped
from app.core.paging import Page, page_within

PER_PAGE = 50


def list_acts(
    session: Session,
    principal: Principal,
    *,
    page: int = 1,
    ente_id: int | None = None,
    type_code: str | None = None,
    status: str | None = None,
    campaign_id: int | None = None,
) -> Page:
    stmt = scoped(sa.select(Act), Act, principal).options(
        selectinload(Act.act_type), selectinload(Act.taxpayer), selectinload(Act.position)
    )
    if ente_id:
        stmt = stmt.where(Act.ente_id == ente_id)
    if type_code:
        stmt = stmt.where(Act.act_type_id.in_(sa.select(ActType.id).where(ActType.code == type_code)))
    if status:
        stmt = stmt.where(Act.status == status)
    if campaign_id:
        stmt = stmt.where(Act.campaign_id == campaign_id)
    return page_within(session, stmt.order_by(Act.id.desc()), page, PER_PAGE)


def get_act(session: Session, principal: Principal, act_id: int) -> Act | None:
    return session.scalars(scoped(sa.select(Act), Act, principal).where(Act.id == act_id)).first()


def acts_of_position(session: Session, principal: Principal, position_id: int) -> list[Act]:
    return list(
        session.scalars(
            scoped(sa.select(Act), Act, principal)
            .where(Act.position_id == position_id)
            .order_by(Act.id.desc())
        )
    )


def list_campaigns(session: Session, principal: Principal, *, page: int = 1) -> Page:
    stmt = scoped(sa.select(Campaign), Campaign, principal).options(selectinload(Campaign.act_type))
    return page_within(session, stmt.order_by(Campaign.id.desc()), page, PER_PAGE)


def get_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign | None:
    return session.scalars(
        scoped(sa.select(Campaign), Campaign, principal).where(Campaign.id == campaign_id)
    ).first()


def excluded_items(session: Session, campaign: Campaign, limit: int = 50) -> list[Any]:
    """A sample of the excluded and failed items with their reason and position (already scoped campaign)."""
    from app.positions.models import Position

    return list(
        session.execute(
            sa.select(
                CampaignItem.status,
                CampaignItem.reason,
                CampaignItem.amount_cents,
                Position.id,
                Position.external_id,
            )
            .join(Position, Position.id == CampaignItem.position_id)
            .where(CampaignItem.campaign_id == campaign.id, CampaignItem.status.in_(("esclusa", "errore")))
            .order_by(CampaignItem.id)
            .limit(limit)
        ).all()
    )


def sample_positions(session: Session, campaign: Campaign, n: int = 3) -> list[int]:
    return list(
        session.scalars(
            sa.select(CampaignItem.position_id)
            .where(
                CampaignItem.campaign_id == campaign.id, CampaignItem.status.in_(("da_emettere", "emessa"))
            )
            .order_by(CampaignItem.id)
            .limit(n)
        )
    )


def list_templates(session: Session, principal: Principal) -> list[ActTemplate]:
    stmt = scoped(sa.select(ActTemplate), ActTemplate, principal).options(
        selectinload(ActTemplate.act_type), selectinload(ActTemplate.entrata)
    )
    return list(
        session.scalars(
            stmt.order_by(
                ActTemplate.ente_id,
                ActTemplate.act_type_id,
                ActTemplate.entrata_id.nulls_first(),
                ActTemplate.version.desc(),
            )
        )
    )


def get_template(session: Session, principal: Principal, template_id: int) -> ActTemplate | None:
    return session.scalars(
        scoped(sa.select(ActTemplate), ActTemplate, principal).where(ActTemplate.id == template_id)
    ).first()


def act_types(session: Session) -> list[ActType]:
    return list(session.scalars(sa.select(ActType).order_by(ActType.sort_order)))
