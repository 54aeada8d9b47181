"""Accounts and KOB: certification, the authorization tree and its rules, KOS, agencies, audit."""

from __future__ import annotations

import pytest

from conftest import OP, Kob, authorize, certified
from zhongcao import accounts
from zhongcao.accounts import Actor
from zhongcao.core import Runtime, ZhongcaoError


def code_of(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ZhongcaoError) as info:
        fn(*args, **kwargs)
    return info.value.code


def test_certification_moves_through_its_states(rt: Runtime) -> None:
    a = accounts.do_create_account(rt, "store", "门店 Store", actor=OP)
    assert a.certification == "uncertified"
    me = Actor.of_account(a.id)
    assert accounts.do_request_certification(rt, a.id, actor=me).certification == "pending"
    assert code_of(accounts.do_request_certification, rt, a.id, actor=me) == "certification_not_requestable"
    assert code_of(accounts.do_decide_certification, rt, a.id, "approve", actor=me) == "operator_only"
    assert accounts.do_decide_certification(rt, a.id, "reject", actor=OP).certification == "rejected"
    assert code_of(accounts.do_decide_certification, rt, a.id, "approve", actor=OP) == "certification_already_decided"
    accounts.do_request_certification(rt, a.id, actor=me)
    assert accounts.do_decide_certification(rt, a.id, "approve", actor=OP).certification == "certified"
    assert code_of(accounts.do_decide_certification, rt, a.id, "maybe", actor=OP) == "invalid_decision"
    actions = [e.action for e in accounts.read_audit(rt, a.id, actor=OP)]
    assert actions[:3] == ["certification.approve", "certification.request", "certification.reject"]


def test_kob_needs_both_sides_certified(rt: Runtime) -> None:
    brand = certified(rt, "brand", "B")
    store = accounts.do_create_account(rt, "store", "S", actor=OP).id
    assert code_of(accounts.do_invite, rt, brand, store, actor=Actor.of_account(brand)) == "not_certified"
    uncertified_brand = accounts.do_create_account(rt, "brand", "B2", actor=OP).id
    accounts.do_decide_certification(rt, store, "approve", actor=OP)
    assert code_of(accounts.do_invite, rt, uncertified_brand, store,
                   actor=Actor.of_account(uncertified_brand)) == "not_certified"


def test_only_the_sub_account_answers_and_only_once(rt: Runtime) -> None:
    brand, store = certified(rt, "brand", "B"), certified(rt, "store", "S")
    invite = accounts.do_invite(rt, brand, store, actor=Actor.of_account(brand))
    assert code_of(accounts.do_confirm, rt, invite.id, actor=Actor.of_account(brand)) == "sub_account_only"
    assert accounts.do_decline(rt, invite.id, actor=Actor.of_account(store)).status == "declined"
    assert code_of(accounts.do_confirm, rt, invite.id, actor=Actor.of_account(store)) == "authorization_not_pending"
    assert accounts.list_sub_accounts(rt, brand, actor=OP) == []


def test_a_sub_account_has_one_active_brand(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    assert code_of(accounts.do_invite, rt, kob.other_brand, store,
                   actor=Actor.of_account(kob.other_brand)) == "sub_account_already_authorized"
    # Two brands invite a free store; it confirms one, and the other can no longer be confirmed.
    free = certified(rt, "store", "Free")
    a = accounts.do_invite(rt, kob.brand, free, actor=Actor.of_account(kob.brand))
    b = accounts.do_invite(rt, kob.other_brand, free, actor=Actor.of_account(kob.other_brand))
    accounts.do_confirm(rt, a.id, actor=Actor.of_account(free))
    assert code_of(accounts.do_confirm, rt, b.id, actor=Actor.of_account(free)) == "sub_account_already_authorized"
    assert accounts.get_authorization(rt, b.id, actor=OP).status == "pending"


def test_chain_is_at_most_four_levels_and_acyclic(rt: Runtime) -> None:
    brand = certified(rt, "brand", "B")
    d1, d2 = certified(rt, "distributor", "D1"), certified(rt, "distributor", "D2")
    store, extra = certified(rt, "store", "S"), certified(rt, "distributor", "D3")
    authorize(rt, brand, d1)
    authorize(rt, d1, d2)
    authorize(rt, d2, store)  # brand → d1 → d2 → store: 4 levels
    assert [(s.id, s.depth) for s in accounts.list_sub_accounts(rt, brand, actor=OP)] == [(d1, 1), (d2, 2), (store, 3)]
    authorize(rt, d2, extra)
    leaf = certified(rt, "store", "S2")
    assert code_of(accounts.do_invite, rt, extra, leaf, actor=Actor.of_account(extra)) == "kob_too_deep"
    # The brand acts anywhere in its tree, e.g. for d2.
    assert accounts.do_invite(rt, d2, leaf, actor=Actor.of_account(brand)).status == "pending"
    free_d = certified(rt, "distributor", "D4")
    authorize(rt, free_d, brand_sub := certified(rt, "distributor", "D5"))
    assert code_of(accounts.do_invite, rt, brand_sub, free_d, actor=OP) == "kob_cycle"


@pytest.mark.parametrize(("parent_kind", "child_kind", "code"), [
    ("store", "store", "invalid_parent_kind"),
    ("brand", "brand", "invalid_sub_account_kind"),
    ("brand", "creator", "invalid_sub_account_kind"),
    ("agency", "store", "invalid_parent_kind"),
])
def test_kob_kinds(rt: Runtime, parent_kind: str, child_kind: str, code: str) -> None:
    parent, child = certified(rt, parent_kind, "P"), certified(rt, child_kind, "C")
    assert code_of(accounts.do_invite, rt, parent, child, actor=Actor.of_account(parent)) == code


def test_kos_binding_needs_consent_and_respects_the_limit(rt: Runtime, kob: Kob) -> None:
    rt.settings.kos_limit = 2
    people = [certified(rt, "creator", f"员工 KOS {i}") for i in range(3)]
    brand = Actor.of_account(kob.brand)
    first = accounts.do_bind_kos(rt, kob.brand, people[0], actor=brand)
    assert code_of(accounts.do_answer_kos, rt, first.id, True, actor=brand) == "kos_account_only"
    assert accounts.do_answer_kos(rt, first.id, True, actor=Actor.of_account(people[0])).status == "active"
    accounts.do_bind_kos(rt, kob.brand, people[1], actor=brand)
    assert code_of(accounts.do_bind_kos, rt, kob.brand, people[2], actor=brand) == "kos_limit_reached"
    assert code_of(accounts.do_bind_kos, rt, kob.other_brand, people[0],
                   actor=Actor.of_account(kob.other_brand)) == "kos_already_bound"
    assert [k.status for k in accounts.list_kos(rt, kob.brand, actor=brand)] == ["active", "pending"]


def test_agency_sees_what_it_was_granted_until_revoked(rt: Runtime, kob: Kob) -> None:
    agency = Actor.of_account(kob.agency)
    assert code_of(accounts.get_account, rt, kob.stores[0], actor=agency) == "account_not_found"
    grant = accounts.do_grant_agency(rt, kob.brand, kob.agency, ["read"], actor=Actor.of_account(kob.brand))
    assert accounts.get_account(rt, kob.dist_store, actor=agency).id == kob.dist_store  # the whole tree
    assert code_of(accounts.get_account, rt, kob.other_store, actor=agency) == "account_not_found"
    assert code_of(accounts.do_add_member, rt, kob.brand, "x", "admin", actor=agency) == "forbidden"
    assert code_of(accounts.do_grant_agency, rt, kob.brand, kob.agency, ["manage"],
                   actor=Actor.of_account(kob.brand)) == "invalid_scopes"
    accounts.do_revoke_agency_grant(rt, grant.id, actor=Actor.of_account(kob.brand))
    assert code_of(accounts.get_account, rt, kob.brand, actor=agency) == "account_not_found"


def test_store_never_sees_its_brand_or_siblings(rt: Runtime, kob: Kob) -> None:
    me = Actor.of_account(kob.stores[0])
    for other in (kob.brand, kob.stores[1], kob.other_brand, kob.dist_store):
        assert code_of(accounts.get_account, rt, other, actor=me) == "account_not_found"


def test_api_keys_are_stored_hashed_and_shown_once(rt: Runtime, kob: Kob) -> None:
    from sqlalchemy import select

    from zhongcao.accounts.models import ApiKey

    issued = accounts.do_create_api_key(rt, kob.brand, label="ci", actor=OP)
    assert accounts.authenticate(rt, issued.key) == Actor.of_account(kob.brand)
    with rt.db.read() as s:
        stored = s.scalars(select(ApiKey.key_hash)).all()
    assert issued.key not in stored
    assert all(not hasattr(v, "key") for v in accounts.list_api_keys(rt, kob.brand, actor=OP))
