"""Create-request validation of the UIP emulator
(https://docs.uip.digital/api-reference/sessions/create; docs/vendors/uip.md, What the sandbox
emulates).

Every refusal is UIP's documented `400` ("invalid steps[] / unknown primitive / bad params"),
with a message naming the field (`steps[1].params.min_age: …`). Undocumented choices:

- unknown fields (top level, step, params) are refused rather than ignored [INFERRED];
- the gate is a boolean on the step [INFERRED];
- "sign carries files, so a session that includes a sign step is created as
  multipart/form-data" (api-reference/introduction): a sign step without a file is refused,
  whether the create is JSON or multipart. The part layout is not documented [INFERRED]: the
  JSON fields as form fields (`steps` and `metadata` as JSON text), files in parts named
  `files` (the session's one sign step) or `files[<stage>]`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters.uip.sandbox.model import (
    CLIENT_REFERENCE_MAX,
    EXPIRES_IN_DEFAULT,
    EXPIRES_IN_MAX,
    EXPIRES_IN_MIN,
    IDENTIFY_BLOCKS,
    LIGHT_SIGN_TEXT_MAX,
    LIGHT_SIGN_TEXT_PARAM,
    MAX_STEPS,
    METADATA_MAX_KEYS,
    MIN_AGE_RANGE,
    PRIMITIVES,
    RETURN_URL_MAX,
    SIGN_MAX_BYTES,
    SIGN_MAX_FILES,
    UNMAPPED_BLOCKS,
    Step,
)

JSON = dict[str, Any]

CREATE_FIELDS = ("steps", "client_reference_id", "metadata", "return_url", "expires_in")
STEP_FIELDS = frozenset({"primitive", "params", "gate"})
PARAMS: dict[str, frozenset[str]] = {
    "identify": frozenset({"blocks"}),
    "age_verify": frozenset({"min_age"}),
    "sign": frozenset(),
    "light_sign": frozenset({LIGHT_SIGN_TEXT_PARAM}),
}
_FILES_PART = re.compile(r"^files(?:\[(\d+)\])?$")


class InvalidRequest(Exception):
    """A create UIP refuses with 400 `request/invalid-payload`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart create: only its digest is ever kept."""

    part: str
    filename: str
    sha256: str
    size: int


def validate_create(body: Any, uploads: Sequence[Upload] = ()) -> JSON:
    """The clean create: {steps: [Step], client_reference_id, metadata, return_url,
    expires_in} (absent optional fields as None / {} / the default TTL)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    unknown = sorted(set(body) - set(CREATE_FIELDS))
    if unknown:
        raise InvalidRequest(f"{unknown[0]}: unknown field.")
    steps = _steps(body.get("steps"))
    _attach(steps, uploads)
    return {
        "steps": steps,
        "client_reference_id": _reference(body.get("client_reference_id")),
        "metadata": _metadata(body.get("metadata")),
        "return_url": _return_url(body.get("return_url")),
        "expires_in": _expires_in(body.get("expires_in", EXPIRES_IN_DEFAULT)),
    }


def form_body(fields: Mapping[str, str]) -> JSON:
    """A multipart create's text fields as the JSON body they stand for."""
    body: JSON = {}
    for name, value in fields.items():
        if name in ("steps", "metadata"):
            try:
                body[name] = json.loads(value)
            except ValueError:
                raise InvalidRequest(f"{name}: must be JSON text in a multipart create.") from None
        elif name == "expires_in":
            try:
                body[name] = int(value)
            except ValueError:
                raise InvalidRequest("expires_in: must be an integer number of seconds.") from None
        else:
            body[name] = value
    return body


def fingerprint_of(clean: JSON) -> JSON:
    """What makes two creates "the same body" for `Idempotency-Key` (files by digest)."""
    return {
        **clean,
        "steps": [
            {"primitive": s.primitive, "params": s.params, "gate": s.gate, "files": s.files}
            for s in clean["steps"]
        ],
    }


# -- pieces ------------------------------------------------------------------------------------


def _steps(value: Any) -> list[Step]:
    if value is None:
        raise InvalidRequest("steps: required.")
    if not isinstance(value, list) or not value:
        raise InvalidRequest("steps: must be a non-empty array of steps.")
    if len(value) > MAX_STEPS:
        raise InvalidRequest(f"steps: at most {MAX_STEPS} steps.")
    return [_step(index, item) for index, item in enumerate(value)]


def _step(index: int, item: Any) -> Step:
    where = f"steps[{index}]"
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where}: must be an object.")
    unknown = sorted(set(item) - STEP_FIELDS)
    if unknown:
        raise InvalidRequest(f"{where}.{unknown[0]}: unknown field.")
    primitive = item.get("primitive")
    if primitive is None:
        raise InvalidRequest(f"{where}.primitive: required.")
    if primitive not in PRIMITIVES:
        raise InvalidRequest(
            f"{where}.primitive: unknown primitive {str(primitive)[:40]!r}; one of "
            + ", ".join(PRIMITIVES)
            + "."
        )
    gate = item.get("gate", False)
    if not isinstance(gate, bool):
        raise InvalidRequest(f"{where}.gate: must be a boolean.")
    params = item.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidRequest(f"{where}.params: must be an object.")
    unknown = sorted(set(params) - PARAMS[primitive])
    if unknown:
        raise InvalidRequest(f"{where}.params.{unknown[0]}: not a {primitive} parameter.")
    return Step(primitive, _params(where, primitive, params), gate)


def _params(where: str, primitive: str, params: JSON) -> JSON:
    if primitive == "identify" and "blocks" in params:
        blocks = params["blocks"]
        allowed = IDENTIFY_BLOCKS + UNMAPPED_BLOCKS
        if not isinstance(blocks, list) or not blocks:
            raise InvalidRequest(f"{where}.params.blocks: must be a non-empty array.")
        for block in blocks:
            if block not in allowed:
                raise InvalidRequest(
                    f"{where}.params.blocks: unknown block {str(block)[:40]!r}; one of "
                    + ", ".join(allowed)
                    + "."
                )
        if len(set(blocks)) != len(blocks):
            raise InvalidRequest(f"{where}.params.blocks: a block is listed twice.")
        return {"blocks": list(blocks)}
    if primitive == "age_verify" and "min_age" in params:
        min_age = params["min_age"]
        low, high = MIN_AGE_RANGE
        if isinstance(min_age, bool) or not isinstance(min_age, int) or not low <= min_age <= high:
            raise InvalidRequest(
                f"{where}.params.min_age: must be an integer between {low} and {high}."
            )
        return {"min_age": min_age}
    if primitive == "light_sign":
        text = params.get(LIGHT_SIGN_TEXT_PARAM)
        if not isinstance(text, str) or not text.strip() or len(text) > LIGHT_SIGN_TEXT_MAX:
            raise InvalidRequest(
                f"{where}.params.{LIGHT_SIGN_TEXT_PARAM}: the terms to sign, a non-empty string "
                f"of at most {LIGHT_SIGN_TEXT_MAX} characters."
            )
        return {LIGHT_SIGN_TEXT_PARAM: text}
    return {}


def _attach(steps: list[Step], uploads: Sequence[Upload]) -> None:
    """Give each sign step its files (declared order kept), within UIP's limits."""
    signs = [index for index, step in enumerate(steps) if step.primitive == "sign"]
    for upload in uploads:
        match = _FILES_PART.match(upload.part)
        if match is None:
            raise InvalidRequest(
                f"{upload.part[:40]}: unexpected file part; name it files or files[<stage>]."
            )
        if match.group(1) is not None:
            stage = int(match.group(1))
            if stage not in signs:
                raise InvalidRequest(f"{upload.part}: steps[{stage}] is not a sign step.")
        elif len(signs) == 1:
            stage = signs[0]
        else:
            raise InvalidRequest(
                "files: "
                + ("no sign step takes files." if not signs else "name parts files[<stage>].")
            )
        steps[stage].files.append(
            {"name": upload.filename, "sha256": upload.sha256, "size": upload.size}
        )
    for stage in signs:
        files = steps[stage].files
        if not files:
            raise InvalidRequest(
                f"steps[{stage}]: a sign step needs the documents to sign; create the session "
                "as multipart/form-data with its files."
            )
        if len(files) > SIGN_MAX_FILES:
            raise InvalidRequest(f"steps[{stage}]: at most {SIGN_MAX_FILES} files.")
        if sum(f["size"] for f in files) > SIGN_MAX_BYTES:
            raise InvalidRequest(f"steps[{stage}]: files exceed 50 MB combined.")


def manifest_digest(files: Sequence[JSON]) -> str:
    """`document_hash` of a sign step: SHA-256 over the per-file digests in declared order
    ("a single manifest digest over all of them (in declared order)", core-concepts/primitives;
    the exact manifest form [INFERRED])."""
    manifest = "\n".join(f["sha256"] for f in files).encode("ascii")
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def _reference(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > CLIENT_REFERENCE_MAX:
        raise InvalidRequest(
            f"client_reference_id: must be a non-empty string of at most "
            f"{CLIENT_REFERENCE_MAX} characters."
        )
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("metadata: must be an object.")
    if len(value) > METADATA_MAX_KEYS:
        raise InvalidRequest(f"metadata: at most {METADATA_MAX_KEYS} keys.")
    for key, item in value.items():
        if not key:
            raise InvalidRequest("metadata: keys must be non-empty.")
        if not isinstance(item, str):
            raise InvalidRequest(f"metadata.{key[:40]}: values must be strings.")
    return dict(value)


def _return_url(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= RETURN_URL_MAX:
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host = None
        if host and parts.scheme == "https" and " " not in value:
            return value
    raise InvalidRequest("return_url: must be an absolute https URL.")


def _expires_in(value: Any) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not EXPIRES_IN_MIN <= value <= EXPIRES_IN_MAX
    ):
        raise InvalidRequest(
            f"expires_in: must be an integer number of seconds between {EXPIRES_IN_MIN} "
            f"and {EXPIRES_IN_MAX}."
        )
    return value
