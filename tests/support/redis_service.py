"""Real Redis for scale-out tests: skipped locally when absent, required in CI."""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("KYCGW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def require_redis() -> str:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        if os.environ.get("KYCGW_REQUIRE_SERVICES"):
            pytest.fail(f"Redis is required (KYCGW_REQUIRE_SERVICES is set): {error}")
        pytest.skip(f"Redis not reachable: {error}")
    finally:
        await client.aclose()
    return REDIS_URL
