"""uqudo wire shapes (docs/vendors/uqudo.md, Endpoints we call) and where they are sent.

Requests are strict (we only send what the doc shows); answers and results are lenient
(`extra="allow"`, optional fields): uqudo adds fields without notice (`face.error` and
`data.source` are undocumented but seen), and the policy reads only what it knows. The
webhook envelope ignores keys it does not know: they are unsigned, so never kept nor read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import JSON, AdapterConfig
from adapters.uqudo import inferred


# -- where ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoints:
    """Every uqudo URL, each overridable through `config.options` (inferred.URL_OPTIONS)."""

    api_base: str
    qr_base: str
    ws_url: str
    jwks_url: str
    auth_url: str

    @classmethod
    def from_config(cls, config: AdapterConfig) -> Endpoints:
        options = config.options

        def pick(key: str, default: str) -> str:
            return (options.get(key) or default).strip().rstrip("/")

        return cls(
            api_base=pick("api_base_url", config.base_url or inferred.API_BASE_URL),
            qr_base=pick("qr_base_url", inferred.QR_BASE_URL),
            ws_url=pick("ws_url", inferred.WS_URL),
            jwks_url=pick("jwks_url", inferred.JWKS_URL),
            auth_url=pick("auth_url", inferred.AUTH_URL),
        )

    @property
    def session_url(self) -> str:
        return f"{self.qr_base}{inferred.SESSION_PATH}"

    def qr_session_url(self, quoted_qr_code_text: str) -> str:
        """The QR session itself, named by its `qrCodeText` (DELETE ends it at once)."""
        return f"{self.qr_base}{inferred.SESSION_PATH}/{quoted_qr_code_text}"

    def info_url(self, quoted_session_id: str) -> str:
        return f"{self.api_base}{inferred.INFO_PATH}/{quoted_session_id}"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> JSON:
        return self.model_dump(mode="json", by_alias=True)


# -- token --------------------------------------------------------------------------------------
class TokenResponse(_Answer):
    access_token: str = Field(min_length=1)
    token_type: str | None = None
    expires_in: float | None = None
    scope: str | None = None
    jti: str | None = None


# -- QR session -------------------------------------------------------------------------------
class ReadingConfig(_Request):
    enabled: bool = False
    is_force_reading: bool = Field(False, alias="isForceReading")
    is_force_reading_if_supported: bool = Field(False, alias="isForceReadingIfSupported")
    timeout_in_seconds: int = Field(-1, alias="timeoutInSeconds")


class DocumentConfig(_Request):
    document_type: str = Field(alias="documentType")
    reading: ReadingConfig = Field(default_factory=ReadingConfig)
    is_expired_document_allowed: bool = Field(False, alias="isExpiredDocumentAllowed")
    is_front_side_review_enabled: bool = Field(False, alias="isFrontSideReviewEnabled")
    is_back_side_review_enabled: bool = Field(False, alias="isBackSideReviewEnabled")
    is_upload_enabled: bool = Field(False, alias="isUploadEnabled")
    is_help_page_disabled: bool = Field(False, alias="isHelpPageDisabled")
    face_scan_minimum_match_level: int = Field(alias="faceScanMinimumMatchLevel")
    face_read_minimum_match_level: int = Field(alias="faceReadMinimumMatchLevel")


class GeneralConfig(_Request):
    secure_windows_enabled: bool = Field(True, alias="secureWindowsEnabled")
    user_identifier: str | None = Field(None, alias="userIdentifier")
    return_data_for_incomplete_session: bool = Field(False, alias="returnDataForIncompleteSession")


class BackgroundCheckConfig(_Request):
    enabled: bool = False
    check_type: str = Field(inferred.BACKGROUND_CHECK_TYPE, alias="checkType")
    disable_consent: bool = Field(False, alias="disableConsent")
    enable_monitoring: bool = Field(False, alias="enableMonitoring")
    skip_view: bool = Field(False, alias="skipView")


class FacialRecognitionConfig(_Request):
    enabled: bool = True
    is_enroll_face: bool = Field(False, alias="isEnrollFace")
    scan_minimum_match_level: int = Field(alias="scanMinimumMatchLevel")
    read_minimum_match_level: int = Field(alias="readMinimumMatchLevel")
    max_attempts: int = Field(inferred.FACE_MAX_ATTEMPTS, alias="maxAttempts")


class SessionInstructions(_Request):
    """The `data` of a QR session: what uqudo's reader app is asked to do."""

    documents: list[DocumentConfig] = Field(min_length=1)
    general_config: GeneralConfig = Field(default_factory=GeneralConfig, alias="generalConfig")
    background_check: BackgroundCheckConfig = Field(
        default_factory=BackgroundCheckConfig, alias="backgroundCheck"
    )
    facial_recognition: FacialRecognitionConfig = Field(alias="facialRecognition")

    def encode(self) -> str:
        """Base64 of the compact JSON — what the reader app expects in `data`."""
        text = json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)
        return base64.b64encode(text.encode("utf-8")).decode("ascii")


class CreateSessionBody(_Request):
    data: str


class CreateSessionResponse(_Answer):
    session_id: str = Field(alias="sessionId", min_length=1)
    qr_code_text: str = Field(alias="qrCodeText", min_length=1)
    qr_code_text_with_dynamic_link: str | None = Field(None, alias="qrCodeTextWithDynamicLink")


# -- websocket ---------------------------------------------------------------------------------
class ChannelMessage(_Answer):
    service: str = Field(min_length=1)
    session_id: str | None = Field(None, alias="sessionId")


# -- webhook ------------------------------------------------------------------------------------
class WebhookBody(BaseModel):
    model_config = ConfigDict(
        extra="ignore" if inferred.WEBHOOK_EXTRA_KEYS_ALLOWED else "forbid",
        populate_by_name=True,
    )

    jws_result: str = Field(alias="jwsResult", min_length=1)


# -- the result's claims (what the policy reads) -----------------------------------------
class Detection(_Answer):
    """`idScreenDetection` / `idPrintDetection` / `idPhotoTamperingDetection`: 0-100."""

    enabled: bool | None = None
    score: float | None = None


class MrzChecksum(_Answer):
    enabled: bool | None = None
    valid: bool | None = None


class PassiveAuthentication(_Answer):
    enabled: bool | None = None
    document_data_signature_valid: bool | None = Field(None, alias="documentDataSignatureValid")


class ReadingVerification(_Answer):
    enabled: bool | None = None
    passive_authentication: PassiveAuthentication | None = Field(
        None, alias="passiveAuthentication"
    )


class Biometric(_Answer):
    type: str | None = None
    enabled: bool | None = None
    match_level: float | None = Field(None, alias="matchLevel")


class Verification(_Answer):
    document_type: str | None = Field(None, alias="documentType")
    id_screen_detection: Detection | None = Field(None, alias="idScreenDetection")
    id_print_detection: Detection | None = Field(None, alias="idPrintDetection")
    id_photo_tampering_detection: Detection | None = Field(None, alias="idPhotoTamperingDetection")
    mrz_checksum: MrzChecksum | None = Field(None, alias="mrzChecksum")
    reading: ReadingVerification | None = None
    biometric: Biometric | None = None


class FaceResult(_Answer):
    match: bool | None = None
    match_level: float | None = Field(None, alias="matchLevel")


class DocumentResult(_Answer):
    document_type: str | None = Field(None, alias="documentType")
    face: FaceResult | None = None


class ResultData(_Answer):
    documents: list[DocumentResult] = Field(default_factory=list)
    verifications: list[Verification] | None = None
    background_check: dict[str, Any] | None = Field(None, alias="backgroundCheck")
    session_id: str | None = Field(None, alias="sessionId")  # face sessions only


class ResultClaims(_Answer):
    iss: str | None = None
    aud: str | list[str] | None = None
    iat: float | None = None
    exp: float | None = None
    jti: str | None = None
    data: ResultData = Field(default_factory=ResultData)


def claims_model(claims: Mapping[str, Any]) -> ResultClaims:
    """The claims as the policy reads them (raises pydantic's ValidationError)."""
    return ResultClaims.model_validate(dict(claims))
