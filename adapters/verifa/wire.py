"""Verifa's own request/response shapes (docs/vendors/verifa.md, Endpoints we call; Webhooks and
signature; Errors, rate limits and idempotency).

Requests are strict (we control them; `extra="forbid"` catches typos in the adapter).
Responses and webhooks are lenient: Verifa adds fields over time, so unknown fields are kept
and nearly everything is optional. We send `Key-Inflection: snake`, so responses are snake
case; webhook casing is a per-endpoint setting, so webhook keys are normalized first.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field

from adapters.common.wire import LenientModel, RequestModel

#: `Verifa-Version` — the dated API version this adapter was written against.
API_VERSION = "2026-01-01"
#: Always send `Key-Inflection: snake`: org defaults may be kebab (the official demo does).
KEY_INFLECTION = "snake"
#: List: `limit` max 100 for sessions.
LIST_PAGE_MAX = 100
#: `Idempotency-Key` ≤ 255 characters.
IDEMPOTENCY_KEY_MAX = 255


# -- sessions -----------------------------------------------------------------------------------
class CreateSessionBody(RequestModel):
    external_ref: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    workflow_id: str | None = None  # org default when omitted
    checks: list[str] | None = None
    metadata: dict[str, Any] | None = None
    redirect_url: str | None = None
    fields: dict[str, Any] | None = None  # pre-fill; does not skip capture
    send_email: bool | None = None


class LinkBody(RequestModel):
    """One-time link: "This endpoint expects an object"; `expires_in_minutes` is optional
    ("Defaults to the platform session expiry")."""

    expires_in_minutes: int | None = None


class ExternalDecisionBody(RequestModel):
    """Submit external gate decision: `decision` continue | fail | reject, optional
    `metadata` "from the external system"."""

    decision: str
    metadata: dict[str, Any] | None = None


class CaseClaimBody(RequestModel):
    reviewer_id: str


class CaseDecisionBody(RequestModel):
    """Approve / reject a case: `reviewer_id` (required), `notes`, `rejection_reason` ("only
    for reject action")."""

    reviewer_id: str
    notes: str | None = None
    rejection_reason: str | None = None


class UpdateSessionBody(RequestModel):
    """PATCH: merge semantics, a key set to null is removed — so nulls must be sent."""

    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class SessionResource(LenientModel):
    """GET / PATCH / create / resume / expire responses: one model, every field optional but
    the id and status (create and resume add `qr_code_data_url` and `expires_at`; expire adds
    `expired_at`)."""

    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    is_sandbox: bool | None = None
    environment: str | None = None  # an environment id (`env_…`), not sandbox/live
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    expired_at: datetime | None = None
    token_expires_at: datetime | None = None
    external_ref: str | None = None
    metadata: Any = None
    country: str | None = None
    workflow_id: str | None = None
    capture_url: str | None = None
    qr_code_data_url: str | None = None
    retention_status: str | None = None
    case_id: str | None = None
    case_status: str | None = None


class ResultResource(LenientModel):
    """GET …/result. PII (`extracted_data`) is kept only in raw, never in a decision."""

    session_id: str | None = None
    status: str | None = None
    is_sandbox: bool | None = None
    created_at: datetime | None = None
    face_match_passed: bool | None = None
    face_match_score: float | None = None
    age_check_passed: bool | None = None
    extracted_age: int | None = None
    extracted_data: Any = None
    rejection_reason: Any = None
    processing_mode: str | None = None
    country_used: str | None = None
    sensitive_data_expired: bool | None = None


class LinkResponse(LenientModel):
    id: str | None = None  # the link's id
    session_id: str | None = None
    capture_url: str = Field(min_length=1)
    status: str | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    qr_code_data_url: str | None = None


class ReprocessResponse(LenientModel):
    session_id: str | None = None
    status: str | None = None


class Pagination(LenientModel):
    total: int | None = None
    limit: int | None = None
    offset: int | None = None


class SessionList(LenientModel):
    data: list[SessionResource]
    pagination: Pagination | None = None


class ErrorBody(LenientModel):
    """`{"error": machine code, "detail": human text, "status_code": n}`."""

    error: str | None = None
    detail: Any = None
    status_code: int | None = None


# -- webhooks -----------------------------------------------------------------------------------
class WebhookResult(LenientModel):
    status: str | None = None
    face_match_passed: bool | None = None
    age_check_passed: bool | None = None
    rejection_reason: Any = None
    sensitive_data_expired: bool | None = None


class WebhookData(LenientModel):
    """The nested shape's `data` object (and, flattened, the newer shape's top level)."""

    session_id: str | None = None
    external_ref: str | None = None
    status: str | None = None
    is_sandbox: bool | None = None
    created_at: datetime | None = None
    identity_id: str | None = None
    rejection_reason: Any = None
    result: WebhookResult | None = None


class WebhookEnvelope(LenientModel):
    """What every event has, whatever it is about."""

    event: str = Field(min_length=1)
    idempotency_key: str | None = None


class WebhookPayload(WebhookData):
    event: str = Field(min_length=1)
    idempotency_key: str | None = None
    data: WebhookData | None = None

    def session_fields(self) -> WebhookData:
        """The session part, whichever of the two documented shapes was sent."""
        return self.data if self.data is not None else self


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_key(key: str) -> str:
    """`sessionId` / `session-id` / `session_id` → `session_id`."""
    return _CAMEL_BOUNDARY.sub("_", key).replace("-", "_").lower()


def snake_keys(value: Any) -> Any:
    """Normalize the keys of a webhook body (its casing is a per-endpoint setting)."""
    if isinstance(value, dict):
        return {snake_key(k) if isinstance(k, str) else k: snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


# -- countries ----------------------------------------------------------------------------------
# Verifa's `country` is ISO 3166-1 alpha-2; the normalized model uses alpha-3. The full
# ISO 3166-1 list, plus Kosovo's user-assigned XKX/XK used on its travel documents.
_ISO3166 = """
AFG AF ALA AX ALB AL DZA DZ ASM AS AND AD AGO AO AIA AI ATA AQ ATG AG ARG AR ARM AM ABW AW
AUS AU AUT AT AZE AZ BHS BS BHR BH BGD BD BRB BB BLR BY BEL BE BLZ BZ BEN BJ BMU BM BTN BT
BOL BO BES BQ BIH BA BWA BW BVT BV BRA BR IOT IO BRN BN BGR BG BFA BF BDI BI CPV CV KHM KH
CMR CM CAN CA CYM KY CAF CF TCD TD CHL CL CHN CN CXR CX CCK CC COL CO COM KM COG CG COD CD
COK CK CRI CR CIV CI HRV HR CUB CU CUW CW CYP CY CZE CZ DNK DK DJI DJ DMA DM DOM DO ECU EC
EGY EG SLV SV GNQ GQ ERI ER EST EE SWZ SZ ETH ET FLK FK FRO FO FJI FJ FIN FI FRA FR GUF GF
PYF PF ATF TF GAB GA GMB GM GEO GE DEU DE GHA GH GIB GI GRC GR GRL GL GRD GD GLP GP GUM GU
GTM GT GGY GG GIN GN GNB GW GUY GY HTI HT HMD HM VAT VA HND HN HKG HK HUN HU ISL IS IND IN
IDN ID IRN IR IRQ IQ IRL IE IMN IM ISR IL ITA IT JAM JM JPN JP JEY JE JOR JO KAZ KZ KEN KE
KIR KI PRK KP KOR KR KWT KW KGZ KG LAO LA LVA LV LBN LB LSO LS LBR LR LBY LY LIE LI LTU LT
LUX LU MAC MO MDG MG MWI MW MYS MY MDV MV MLI ML MLT MT MHL MH MTQ MQ MRT MR MUS MU MYT YT
MEX MX FSM FM MDA MD MCO MC MNG MN MNE ME MSR MS MAR MA MOZ MZ MMR MM NAM NA NRU NR NPL NP
NLD NL NCL NC NZL NZ NIC NI NER NE NGA NG NIU NU NFK NF MKD MK MNP MP NOR NO OMN OM PAK PK
PLW PW PSE PS PAN PA PNG PG PRY PY PER PE PHL PH PCN PN POL PL PRT PT PRI PR QAT QA REU RE
ROU RO RUS RU RWA RW BLM BL SHN SH KNA KN LCA LC MAF MF SPM PM VCT VC WSM WS SMR SM STP ST
SAU SA SEN SN SRB RS SYC SC SLE SL SGP SG SXM SX SVK SK SVN SI SLB SB SOM SO ZAF ZA SGS GS
SSD SS ESP ES LKA LK SDN SD SUR SR SJM SJ SWE SE CHE CH SYR SY TWN TW TJK TJ TZA TZ THA TH
TLS TL TGO TG TKL TK TON TO TTO TT TUN TN TUR TR TKM TM TCA TC TUV TV UGA UG UKR UA ARE AE
GBR GB USA US UMI UM URY UY UZB UZ VUT VU VEN VE VNM VN VGB VG VIR VI WLF WF ESH EH YEM YE
ZMB ZM ZWE ZW XKX XK
""".split()
ALPHA3_TO_ALPHA2: dict[str, str] = dict(zip(_ISO3166[::2], _ISO3166[1::2], strict=True))
