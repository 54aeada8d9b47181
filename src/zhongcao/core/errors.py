"""One error type whose fields become the API's problem body and the CLI's one-line message."""

from __future__ import annotations

from typing import Any

CODES: dict[str, str] = {
    # request shape and identity
    "invalid_request": "the body, query or path does not have the required shape",
    "route_not_found": "no such endpoint",
    "method_not_allowed": "the endpoint does not take this HTTP method",
    "http_error": "another HTTP-level refusal from the web framework",
    "internal_error": "the server failed; nothing was changed",
    "unauthenticated": "no bearer token was sent",
    "invalid_api_key": "the bearer token is unknown or revoked",
    "forbidden": "the actor can see the resource but lacks the capability",
    "operator_only": "only the platform operator may do this",
    "sub_account_only": "only the invited sub-account answers an invitation",
    "kos_account_only": "only the invited person answers a KOS binding",
    # not found (or not visible: the same answer, so nothing leaks)
    "account_not_found": "no such account is visible to the actor",
    "authorization_not_found": "no such KOB authorization is visible to the actor",
    "kos_binding_not_found": "no such KOS binding is visible to the actor",
    "agency_grant_not_found": "no such agency grant is visible to the actor",
    "api_key_not_found": "no such API key is visible to the actor",
    "member_not_found": "no such member in this account",
    "lease_not_found": "no such budget lease is visible to the actor",
    "pool_not_found": "no such budget pool is visible to the actor",
    "pool_member_not_found": "the store is not a member of the pool",
    "note_not_found": "no such note is visible to the actor",
    "creator_not_found": "the account does not publish notes",
    "campaign_not_found": "no such ad campaign is visible to the actor",
    "unit_not_found": "no such ad unit is visible to the actor",
    "creative_not_found": "no such ad creative is visible to the actor",
    "keyword_not_found": "no such keyword is visible to the actor",
    "product_not_found": "no such product",
    "order_not_found": "no such order is visible to the actor",
    "live_session_not_found": "no such live session is visible to the actor",
    "conversation_not_found": "no such DM conversation is visible to the actor",
    "lead_not_found": "no such lead is visible to the actor",
    "visit_code_not_found": "no such store-visit code is visible to the actor",
    "brief_not_found": "no such brief is visible to the actor",
    "collaboration_not_found": "no such collaboration is visible to the actor",
    "creator_profile_not_found": "the creator has not set up a marketplace profile",
    # field values
    "invalid_name": "a name must be 1 to 200 characters",
    "invalid_kind": "not an account kind",
    "invalid_role": "not a member role",
    "invalid_decision": "a certification decision is approve or reject",
    "invalid_amount": "money is a positive integer number of fen within range",
    "invalid_ttl": "a lease lives 1 second to 1 day",
    "invalid_idempotency_key": "an idempotency key is 1 to 200 characters",
    "idempotency_key_required": "this action records a payment and needs an idempotency key",
    "invalid_scopes": "agency scopes are read, operate and finance",
    "invalid_agency": "the grantee is not an agency account",
    "invalid_parent_kind": "this kind of account cannot hold sub-accounts, KOS or pools",
    "invalid_sub_account_kind": "this kind of account cannot be a KOB sub-account",
    "invalid_kos_kind": "this kind of account cannot be a KOS account",
    "duplicate_lease": "a batch names the same lease twice",
    "invalid_event": "an event batch does not fit the event schema",
    "invalid_note": "a note's title, body, topics, kind or category is out of bounds",
    "invalid_query": "a search needs a non-empty query",
    "invalid_engagement": "not an engagement kind",
    "invalid_campaign": "a campaign field breaks a platform rule (the detail names it)",
    "invalid_daily_budget": "a daily budget is unlimited or 10,000 to 99,999,900 fen",
    "invalid_schedule": "campaign dates or dayparts are not a valid schedule",
    "invalid_unit": "a unit field breaks a platform rule",
    "invalid_bid": "a bid or target cost is missing, out of range, or not for this bidding strategy",
    "invalid_targeting": "a targeting field or value is not allowed",
    "invalid_keyword": "a keyword is malformed, repeated, over the limit or on a unit that cannot use it",
    "invalid_creative": "a creative's note or component is not valid",
    "invalid_status": "not a plan status, level or id list",
    "note_not_promotable": "the note does not exist or is not published",
    "mixed_substituted_notes": "a unit mixes a sub-account's notes (代投) with other notes",
    "invalid_click_id": "the click id is malformed, forged or expired",
    "invalid_report": "not a report level, range or format",
    "invalid_conversion": "a conversion postback's body is malformed or out of bounds",
    "invalid_signature": "a postback's HMAC signature is missing or does not match the advertiser's secret",
    "invalid_product": "a product's name, price, category, stock or seller is out of bounds",
    "invalid_order": "an order's items are empty, repeated, over the limit or from several sellers",
    "invalid_source": "a source (note, ad click, live, search, profile, push) is unknown or not the consumer's",
    "invalid_live": "a live session's title, products, schedule or room activity is out of bounds",
    "invalid_message": "a DM or comment is empty, too long or has no valid sender",
    "contact_info_not_allowed": "free text carries a phone number, WeChat/QQ id, e-mail or QR link; use a lead card",
    "invalid_conversation": "the account does not take DMs",
    "invalid_seat": "the seat is not a member or an active KOS of the account",
    "invalid_lead_card": "a lead card is a mainland mobile number or a WeCom id",
    "invalid_webhook": "a webhook URL is http(s) with a host",
    "invalid_poi": "a store location's name, address, city or coordinates are out of bounds",
    "invalid_push": "a push's text, audience or recipients are out of bounds",
    "invalid_scenario": "a simulation scenario's field is unknown, missing or out of range",
    "invalid_counterfactual": "a counterfactual names nothing the simulator can switch off",
    "invalid_table": "a side table of the event store needs a plain lower-case name",
    "invalid_brief": "a brief's product, format, budget, contract, window or rounds are out of bounds",
    "invalid_quote": "a quote is a positive number of fen within the brief's budget",
    "invalid_draft": "a draft's title or body is empty or too long",
    "invalid_rating": "a rating is an integer from 1 to 5",
    "invalid_creator_profile": "a creator profile's category, region, gender, quotes or features are out of bounds",
    "invalid_discovery": "a discovery filter or sort is not allowed",
    "invalid_plan": "a KOL-mix plan's budget, strategy or tier bounds are out of bounds",
    "invalid_accounts_file": "an accounts CSV lacks the required columns",
    "invalid_featured_note": "featured UGC is a published note by someone else that names the account",
    # state conflicts
    "certification_not_requestable": "certification can be requested only when uncertified or rejected",
    "certification_already_decided": "the account's certification is already decided",
    "not_certified": "KOB needs both sides certified",
    "sub_account_already_authorized": "the sub-account already has an active brand",
    "authorization_pending": "an invitation between these accounts is already pending",
    "authorization_not_pending": "the authorization is no longer pending",
    "authorization_not_active": "the authorization is not active",
    "kob_cycle": "the sub-account is above the inviting account",
    "kob_too_deep": "the KOB chain would exceed its level limit",
    "kos_limit_reached": "the account has bound its maximum of KOS accounts",
    "kos_already_bound": "the person is already bound or invited",
    "kos_binding_not_pending": "the KOS binding is no longer pending",
    "not_authorized_sub_account": "the account is not an actively authorized sub-account",
    "escrow_short": "an escrow cannot pay out more than it holds",
    "insufficient_funds": "not enough available (or reclaimable, or refundable) money",
    "idempotency_key_reused": "the idempotency key was used for a different request",
    "budget_cap_reached": "a daily cap has no room left today",
    "spent_decreased": "a lease commit carries a cumulative spend below the last one",
    "lease_overspent": "a lease commit exceeds the lease's amount",
    "lease_closed": "the lease is settled",
    "lease_expired": "the lease expired and its settle grace is over",
    "note_deleted": "the note is deleted; its status no longer changes",
    "plan_deleted": "the campaign, unit, creative or keyword is deleted; it no longer changes",
    "conversion_conflict": "the external id was already reported with a different body",
    "shop_not_eligible": "the account has fewer followers than opening a shop needs",
    "shop_not_open": "the seller has no open shop",
    "out_of_stock": "fewer units are in stock than the order or withdrawal takes",
    "invalid_order_transition": "the order's status does not allow this action",
    "refund_window_closed": "the refund window of the order has passed",
    "live_not_started": "the live session has not started",
    "invalid_live_transition": "the live session's status does not allow this action",
    "invalid_lead_transition": "the lead's status cannot move to the one asked",
    "store_not_located": "the store has not set its location (POI)",
    "visit_code_used": "the store-visit code was already redeemed",
    "visit_code_expired": "the store-visit code expired",
    "invalid_collaboration_transition": "the collaboration's state does not allow this action (the body names it)",
    "revision_limit_reached": "the brief's rounds of requested changes are used up",
    "outside_publish_window": "a sponsored note is published only inside the brief's window",
    "evaluation_not_over": "a collaboration settles after its evaluation window",
    "already_rated": "each side rates a collaboration once",
    "brief_budget_exceeded": "the brief's accepted fees would pass its budget",
    "brief_closed": "the brief takes no more invitations or applications",
    "collaboration_exists": "the creator already has a live collaboration on this brief",
}


class ZhongcaoError(Exception):
    """A refused action. ``code`` is stable and listed in ``CODES``: clients switch on it."""

    status = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        allowed: Any = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"error code {code!r} is not in the catalogue (zhongcao.core.errors.CODES)")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field
        self.allowed = allowed
        self.extra = extra or {}  # more members of the problem body, such as a deal's current state
        if status is not None:
            self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole, whatever a subclass's arguments: a refusal raised in a worker process (a
        simulation run beside others) reaches the parent as the same error."""
        return _restore, (type(self), self.args, self.__dict__)

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://zhongcao.dev/problems/{self.code}",
            "title": self.code.replace("_", " "),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.field is not None:
            body["field"] = self.field
        if self.allowed is not None:
            body["allowed"] = self.allowed
        return {**self.extra, **body}


def _restore(cls: type[ZhongcaoError], args: tuple[Any, ...], state: dict[str, Any]) -> ZhongcaoError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class Invalid(ZhongcaoError):
    status = 422


class Unauthenticated(ZhongcaoError):
    status = 401


class Forbidden(ZhongcaoError):
    status = 403


class NotFound(ZhongcaoError):
    status = 404

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what}_not_found", f"no {what} {ident!r} is visible to you", field=f"{what}_id")


class Conflict(ZhongcaoError):
    status = 409
