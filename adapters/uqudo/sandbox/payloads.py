"""The bodies the uqudo emulator sends: token and error answers, the QR session, and the claims
of the signed result (docs/vendors/uqudo.md, Webhooks and signature; the SDK-result "Data
Structure" pages it cites).

Result content per outcome (the integrator's policy decides; uqudo decides nothing):

- approve: face `match` true, `matchLevel` 5 (face enabled); tampering score 4, screen 2,
  print 3; valid MRZ check digits; `backgroundCheck.match` false (background check enabled).
- decline (a tampered document): face `match` false, `matchLevel` 1; tampering score 86
  (above 70 rejects); a wrong final MRZ check digit (`scan.front.mrzVerified` false,
  `verifications[0].mrzChecksum.valid` false); no background-check hit.
- review: everything as approve, plus a background-check hit (`match` true, an alert); when
  the session has no background check, a borderline tampering score of 55 instead (inside
  the default policy's review band, 40 to 70; docs/vendors/uqudo.md, Decision policy).
- decline or review with a `reason` (a `Fault`, model.py): everything as approve except that
  one signal (`signals_for`).
"""

from __future__ import annotations

import hashlib
import struct
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from adapters.uqudo.sandbox.model import (
    RESULT_TTL_S,
    TOKEN_SCOPE,
    TOKEN_TTL_S,
    Fault,
    Outcome,
    Plan,
    UqudoSession,
)

JSON = dict[str, Any]

# -- errors -----------------------------------------------------------------------------------


def error_body(status_code: int, message: str) -> JSON:
    """Body of a non-OAuth error, without `timestamp` and `path` (the HTTP layer adds them)
    [INFERRED: uqudo publishes status codes only, no error body format (docs/vendors/uqudo.md,
    Documented vs inferred); its APIs are Spring Boot ones, so this is Spring Boot's default
    error body]."""
    return {"status": status_code, "error": HTTPStatus(status_code).phrase, "message": message}


def spring_error(body: JSON, *, path: str, now: datetime) -> JSON:
    """The full Spring Boot error body: `{timestamp, status, error, message, path}`."""
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds")
    return {"timestamp": stamp, **body, "path": path}


def oauth_error(error: str, description: str) -> JSON:
    """Token endpoint errors: the RFC 6749 section 5.2 JSON body [INFERRED: not documented]."""
    return {"error": error, "error_description": description}


#: The Info image endpoint's documented 404 text (docs/vendors/uqudo.md, Endpoints we call),
#: used for every absent result or image.
NOT_FOUND_TEXT = "Resource not found or expired"


# -- token and QR session ---------------------------------------------------------------------


def token_claims(client_id: str, jti: str, now: datetime) -> JSON:
    """The access token is itself a JWS (docs/vendors/uqudo.md, Endpoints we call) [INFERRED
    claims: Spring OAuth2 style]."""
    issued = int(now.timestamp())
    return {
        "client_id": client_id,
        "scope": list(TOKEN_SCOPE),
        "iat": issued,
        "exp": issued + TOKEN_TTL_S,
        "jti": jti,
    }


def token_body(access_token: str, jti: str) -> JSON:
    """The token response (docs/vendors/uqudo.md, Endpoints we call)."""
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_TTL_S,
        "scope": " ".join(TOKEN_SCOPE),
        "jti": jti,
    }


def scan_body(session: UqudoSession, token: str) -> JSON:
    """The scan answer (scan-the-qr-code page): the SDK's session id, token and `data`."""
    return {"sessionId": session.id, "token": token, "data": session.data}


def session_body(session: UqudoSession, dynamic_link: str) -> JSON:
    """The create response (docs/vendors/uqudo.md, Endpoints we call)."""
    return {
        "sessionId": session.id,
        "qrCodeText": session.qr_code_text,
        "qrCodeTextWithDynamicLink": dynamic_link,
    }


# -- the person on the document (fictional: ICAO's specimen state "UTO") ----------------------

PRIMARY_ID = "DOE"
SECONDARY_ID = "JANE"
STATE = "UTO"
DATE_OF_BIRTH = "900115"
SEX = "F"
#: The device the sandbox's "reader app" runs on (`data.source`, present but undocumented).
SOURCE = {
    "sdkType": "ANDROID",
    "sdkVersion": "3.10.0",
    "sourceIp": "192.0.2.10",
    "devicePlatform": "Android",
    "deviceVersion": "14",
    "deviceManufacturer": "uqudo sandbox",
    "deviceModel": "Sandbox Device",
}


def check_digit(field: str) -> int:
    """ICAO 9303 check digit: weights 7, 3, 1; digits as is, A-Z = 10-35, `<` = 0."""
    total = 0
    for index, char in enumerate(field):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            value = 0
        total += value * (7, 3, 1)[index % 3]
    return total % 10


def document_number(session_id: str) -> str:
    return "SB" + str(int(session_id.replace("-", ""), 16) % 10**7).zfill(7)


def expiry_date(now: datetime) -> str:
    """Five years after the scan (YYMMDD), so the document is valid."""
    day = 28 if (now.month, now.day) == (2, 29) else now.day
    return now.replace(year=now.year + 5, day=day).strftime("%y%m%d")


def mrz(number: str, expiry: str, *, corrupt: bool) -> tuple[str, list[JSON], int]:
    """A TD3 (passport) MRZ with real check digits: (text, checkDigits report, final digit).
    `corrupt` writes a wrong final (composite) check digit, as a tampered document would."""
    name = f"{PRIMARY_ID}<<{SECONDARY_ID}"
    line1 = f"P<{STATE}{name}".ljust(44, "<")
    optional = "<" * 14
    fields = [
        ("documentNumber", number.ljust(9, "<")),
        ("dateOfBirth", DATE_OF_BIRTH),
        ("dateOfExpiry", expiry),
        ("optionalData", optional),
    ]
    digits = {key: check_digit(value) for key, value in fields}
    composite = (
        f"{fields[0][1]}{digits['documentNumber']}{DATE_OF_BIRTH}{digits['dateOfBirth']}"
        f"{expiry}{digits['dateOfExpiry']}{optional}{digits['optionalData']}"
    )
    final = check_digit(composite)
    written = (final + 1) % 10 if corrupt else final
    line2 = (
        f"{fields[0][1]}{digits['documentNumber']}{STATE}{DATE_OF_BIRTH}{digits['dateOfBirth']}"
        f"{SEX}{expiry}{digits['dateOfExpiry']}{optional}{digits['optionalData']}{written}"
    )
    report = [
        {"fieldName": key, "fieldValue": value, "checkDigit": digits[key], "valid": True}
        for key, value in fields
    ]
    return f"{line1}\n{line2}", report, written


# -- images (GET /api/v1/info/img/{id}) -------------------------------------------------------

IMAGE_NAMES = ("frontImageId", "frontFrameImageId", "faceImageId", "auditTrailImageId")


def jpeg(comment: str) -> bytes:
    """A valid 8x8 grey baseline JPEG; `comment` (a COM segment) makes each image distinct."""

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return b"".join(
        [
            b"\xff\xd8",
            segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xFFFE, comment.encode("ascii")),
            segment(0xFFDB, b"\x00" + b"\x01" * 64),
            segment(0xFFC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),
            segment(0xFFC4, b"\x00" + one_code),  # DC table 0
            segment(0xFFC4, b"\x10" + one_code),  # AC table 0
            segment(0xFFDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x3f",  # DC difference 0, end of block, padded with 1s
            b"\xff\xd9",
        ]
    )


def checksum(image_id: str) -> str:
    """The `<key>Checksum` sibling of an image id: `sha256:<hex>` of the served bytes."""
    return "sha256:" + hashlib.sha256(jpeg(image_id)).hexdigest()


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signals:
    """What the sandbox's checks found: every value of a clean approve by default."""

    face_match: bool = True
    face_level: int = 5
    tampering: int = 4
    print_score: int = 3
    screen_score: int = 2
    mrz_valid: bool = True
    chip_valid: bool = True
    background_hit: bool = False


#: The signals of the outcomes without a reason (this module's docstring).
TAMPERED = Signals(face_match=False, face_level=1, tampering=86, mrz_valid=False)
#: One failing signal per fault, for a decline …
DECLINE_SIGNALS: dict[Fault, Signals] = {
    Fault.FACE: Signals(face_match=False, face_level=1),
    Fault.TAMPERING: Signals(tampering=86),
    Fault.PRINT: Signals(print_score=80),
    Fault.SCREEN: Signals(screen_score=80),
    Fault.MRZ: Signals(mrz_valid=False),
    Fault.CHIP: Signals(chip_valid=False),
}
#: … and for a review (a borderline score, or a watch-list hit).
REVIEW_SIGNALS: dict[Fault, Signals] = {
    Fault.TAMPERING: Signals(tampering=55),
    Fault.BACKGROUND: Signals(background_hit=True),
}


def signals_for(plan: Plan, outcome: Outcome, fault: Fault | None) -> Signals:
    if outcome == Outcome.DECLINE:
        return DECLINE_SIGNALS[fault] if fault is not None else TAMPERED
    if outcome == Outcome.REVIEW:
        if fault is not None:
            return REVIEW_SIGNALS[fault]
        return Signals(background_hit=True) if plan.background_check else Signals(tampering=55)
    return Signals()


def result_claims(
    session: UqudoSession,
    outcome: Outcome,
    *,
    issuer: str,
    audience: str,
    now: datetime,
    images: dict[str, str],
    fault: Fault | None = None,
) -> JSON:
    """The enrolment JWS payload of a finished QR session, as seen on a real tenant
    (docs/vendors/uqudo.md, Webhooks and signature); `jti` is the QR `sessionId`. `images`
    maps image names (`frontImageId`, …) to ids; `fault` is the one signal that fails."""
    plan = session.plan_obj
    signals = signals_for(plan, outcome, fault)
    issued = int(now.timestamp())
    number = document_number(session.id)
    expiry = expiry_date(now)
    text, check_digits, final = mrz(number, expiry, corrupt=not signals.mrz_valid)
    data: JSON = {
        "source": dict(SOURCE),
        "documents": [_document(plan, images, number, expiry, text, signals)],
        "verifications": [_verification(plan, number, check_digits, final, signals)],
    }
    if plan.background_check:
        data["backgroundCheck"] = _background_check(signals.background_hit, now)
    return {
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + RESULT_TTL_S,
        "jti": session.id,
        "data": data,
    }


def webhook_claims(claims: JSON) -> JSON:
    """The webhook's JWS carries no fraud-detection scores (seen on a real tenant; the full
    result is at the Info API; docs/vendors/uqudo.md, Webhooks and signature): the same claims
    without `data.verifications`."""
    data = {key: value for key, value in claims["data"].items() if key != "verifications"}
    return {**claims, "data": data}


def _with_checksum(images: dict[str, str], name: str) -> JSON:
    return {name: images[name], f"{name}Checksum": checksum(images[name])}


def _document(
    plan: Plan,
    images: dict[str, str],
    number: str,
    expiry: str,
    mrz_text: str,
    signals: Signals,
) -> JSON:
    scan = {
        "front": {
            "documentCode": "P<",
            "dateOfExpiry": expiry,
            "secondaryId": SECONDARY_ID,
            "nationality": STATE,
            "documentNumber": number,
            "mrzVerified": signals.mrz_valid,
            "sex": SEX,
            "dateOfBirth": DATE_OF_BIRTH,
            "opt1": "<" * 14,
            "primaryId": PRIMARY_ID,
            "mrzText": mrz_text,
            "issuer": STATE,
        },
        "back": {},
        **_with_checksum(images, "faceImageId"),
        **_with_checksum(images, "frontImageId"),
        **_with_checksum(images, "frontFrameImageId"),
        "backImageId": None,
        "backImageIdChecksum": None,
    }
    document: JSON = {"documentType": plan.document_type, "scan": scan}
    if plan.reading:
        document["reading"] = {"data": _reading(number, expiry)}
    if plan.face:
        document["face"] = {
            **_with_checksum(images, "auditTrailImageId"),
            "matchLevel": signals.face_level,
            "match": signals.face_match and signals.face_level >= plan.face_minimum_match_level,
        }
    return document


def _reading(number: str, expiry: str) -> JSON:
    certificate = {
        "serialNumber": "1",
        "publicKeyAlgorithm": "RSA",
        "subject": f"C={STATE},O=UQUDO SANDBOX,CN=SANDBOX CSCA",
        "certificateThumbprint": hashlib.sha1(b"uqudo sandbox csca").hexdigest(),
        "validFrom": "2020-01-01T00:00:00.000+0000",
        "signatureAlgorithm": "SHA256WITHRSA",
        "issuer": f"C={STATE},O=UQUDO SANDBOX,CN=SANDBOX CSCA",
        "validTo": "2040-01-01T00:00:00.000+0000",
    }
    signer = {
        **certificate,
        "serialNumber": "464",
        "subject": f"C={STATE},O=UQUDO SANDBOX,CN=SANDBOX DOCUMENT SIGNER",
        "certificateThumbprint": hashlib.sha1(b"uqudo sandbox ds").hexdigest(),
    }
    return {
        "mrz": {
            "documentCode": "P",
            "dateOfExpiry": expiry,
            "optionalData2": None,
            "gender": "FEMALE",
            "nationality": STATE,
            "documentNumber": number,
            "dateOfBirth": DATE_OF_BIRTH,
            "issuingState": STATE,
            "secondaryIdentifier": SECONDARY_ID,
            "primaryIdentifier": PRIMARY_ID,
            "optionalData1": "<" * 14 + "0",
        },
        "countrySigningCertificate": certificate,
        "ldsVersion": None,
        "documentSigningCertificate": signer,
    }


def _verification(
    plan: Plan,
    number: str,
    check_digits: list[JSON],
    final: int,
    signals: Signals,
) -> JSON:
    """A verification object ("Verification Object" page, SDK 3.x)."""
    biometric: JSON = {"type": "FACIAL_RECOGNITION", "enabled": plan.face}
    if plan.face:
        biometric["matchLevel"] = signals.face_level
    return {
        "documentType": plan.document_type,
        "sourceDetection": {
            "enabled": True,
            "allowNonPhysicalDocuments": False,
            "selectedResolution": "2160x3840",
            "optimalResolution": True,
        },
        "idScreenDetection": {"enabled": True, "score": signals.screen_score},
        "idPrintDetection": {"enabled": True, "score": signals.print_score},
        "idPhotoTamperingDetection": {"enabled": True, "score": signals.tampering},
        "dataConsistencyCheck": {"enabled": True, "fields": _consistency(plan, number)},
        "mrzChecksum": {
            "enabled": True,
            "finalCheckDigit": final,
            "valid": signals.mrz_valid,
            "checkDigits": check_digits,
        },
        "reading": {
            "enabled": plan.reading,
            "passiveAuthentication": {
                "enabled": plan.reading,
                "countrySigningCertificateAvailable": plan.reading,
                "documentDataSignatureValid": plan.reading and signals.chip_valid,
            },
        },
        "biometric": biometric,
    }


def _consistency(plan: Plan, number: str) -> list[JSON]:
    """`dataConsistencyCheck.fields`: each field as read by every source (the front scan, and
    the chip when reading is enabled); the sandbox's sources always agree."""
    values = {"documentNumber": number, "dateOfBirth": DATE_OF_BIRTH}
    fields = []
    for name, value in values.items():
        sources: list[JSON] = [
            {"source": "SCAN", "documentSide": "FRONT", "name": name, "value": value}
        ]
        if plan.reading:
            sources.append({"source": "READING", "name": name, "value": value})
        fields.append({"name": name, "match": "MATCH", "sources": sources})
    return fields


def _background_check(hit: bool, now: datetime) -> JSON:
    """`data.backgroundCheck`: the Background Check API's `{match, content}` ("the SDK step
    returns the same output"); `content` is null without a match [INFERRED alert fields: a
    subset of the documented `alertEntity`]."""
    if not hit:
        return {"match": False, "content": None}
    return {
        "match": True,
        "content": {
            "alertDt": (now - timedelta(days=30)).strftime("%Y-%m-%d"),
            "alertEntity": [
                {
                    "matchScore": 95,
                    "riskScore": 80,
                    "entityId": 1,
                    "entityTyp": "P",
                    "entityName": f"{PRIMARY_ID}, {SECONDARY_ID}",
                }
            ],
        },
    }


# -- uqudo's own documented example result ----------------------------------------------------

#: The "Enrollment payload example"'s `data`, verbatim as published at
#: https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing (our copy of
#: the page ends after `documentSigningCertificate`; the objects are closed there).
DOCUMENTED_EXAMPLE_DATA: JSON = {
    "documents": [
        {
            "face": {
                "auditTrailImageId": "5f290764076cff0e3f7b3a2f",
                "matchLevel": 2,
                "match": True,
            },
            "documentType": "PASSPORT",
            "scan": {
                "faceImageId": "5e9960242d35cc7ca0328729",
                "frontImageId": "5e9960232d35cc7ca0328725",
                "back": {},
                "front": {
                    "documentCode": "P<",
                    "dateOfExpiry": "220315",
                    "secondaryId": "MARIO",
                    "nationality": "ITA",
                    "documentNumber": "YAXXXXXX",
                    "mrzVerified": True,
                    "sex": "M",
                    "dateOfBirth": "800825",
                    "opt1": "<<<<<<<<<<<<<<",
                    "primaryId": "CASOLA",
                    "mrzText": "P<ITACASOLA<<MARIO<<<<<<<<<<<<<<<<<<<<<<<<<<\n"
                    "YAXXXXXX52ITA8008253M2203159<<<<<<<<<<<<<<00",
                    "issuer": "ITA",
                },
                "backImageId": None,
            },
            "reading": {
                "data": {
                    "mrz": {
                        "documentCode": "P",
                        "dateOfExpiry": "220315",
                        "optionalData2": None,
                        "gender": "MALE",
                        "nationality": "ITA",
                        "documentNumber": "YAXXXXXX",
                        "dateOfBirth": "800825",
                        "issuingState": "ITA",
                        "secondaryIdentifier": "MARIO",
                        "primaryIdentifier": "CASOLA",
                        "optionalData1": "<<<<<<<<<<<<<<0",
                    },
                    "countrySigningCertificate": {
                        "serialNumber": "1",
                        "publicKeyAlgorithm": "RSA",
                        "subject": "C=IT,O=MINISTERO DELL'INTERNO,OU=PE,"
                        "CN=CERTIFICATION AUTHORITY 01",
                        "certificateThumbprint": "9cb8d31734faa68009d1f7fef68a5cc802cb8a2e",
                        "validFrom": "2011-12-14T10:29:04.000+0000",
                        "signatureAlgorithm": "SHA1WITHRSA",
                        "issuer": "C=IT,O=MINISTERO DELL'INTERNO,OU=PE,"
                        "CN=CERTIFICATION AUTHORITY 01",
                        "validTo": "2027-03-10T10:29:04.000+0000",
                    },
                    "ldsVersion": None,
                    "documentSigningCertificate": {
                        "serialNumber": "464",
                        "publicKeyAlgorithm": "RSA",
                        "subject": "C=IT,O=MINISTERO DELL'INTERNO,OU=PE,CN=DOCUMENT SIGNER.24",
                        "certificateThumbprint": "3f0b7bac9adde63916a2c4ebd0e3f38c916a3a97",
                        "validFrom": "2012-03-14T11:02:41.000+0000",
                        "signatureAlgorithm": "SHA1WITHRSA",
                        "issuer": "C=IT,O=MINISTERO DELL'INTERNO,OU=PE,"
                        "CN=CERTIFICATION AUTHORITY 01",
                        "validTo": "2022-06-15T11:02:41.000+0000",
                    },
                }
            },
        }
    ]
}


def documented_example_claims(session: UqudoSession, *, audience: str) -> JSON:
    """The documented example as this session's result: its top level shows only `aud` and
    `data`; `jti` is the session id ("the value of the jti property of the JWS", Info API
    page) — without it no result can be matched to its QR session."""
    return {"aud": audience, "jti": session.id, "data": deepcopy(DOCUMENTED_EXAMPLE_DATA)}


def documented_example_images() -> dict[str, str]:
    """The example's image names → ids, so the image endpoint serves them."""
    document = DOCUMENTED_EXAMPLE_DATA["documents"][0]
    return {
        "auditTrailImageId": document["face"]["auditTrailImageId"],
        "faceImageId": document["scan"]["faceImageId"],
        "frontImageId": document["scan"]["frontImageId"],
    }
