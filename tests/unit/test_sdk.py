"""The runtime SDK check: an old botocore fails at init with a sentence, a current one passes."""

from __future__ import annotations

import botocore
import pytest

from cryptosdk.runtime.aws_sdk import MIN_BOTOCORE, SdkTooOldError, lean_config, require_botocore


@pytest.mark.parametrize("version", ["1.35.99", "1.29.0", "0.9", "1.3"])
def test_an_older_botocore_is_refused_with_what_to_do(version: str) -> None:
    with pytest.raises(SdkTooOldError) as refused:
        require_botocore(version)
    message = str(refused.value)
    assert version in message
    assert "1.36.0" in message
    assert "requirements.txt" in message


@pytest.mark.parametrize("version", ["1.36.0", "1.36.1", "1.44.8", "2.0.0", "1.40.0.dev1"])
def test_a_new_enough_botocore_passes(version: str) -> None:
    require_botocore(version)


def test_the_development_sdk_is_new_enough_and_the_lean_config_uses_what_it_checks() -> None:
    require_botocore()
    assert tuple(int(p) for p in botocore.__version__.split(".")[:3]) >= MIN_BOTOCORE
    config = lean_config(max_pool_connections=7)
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.parameter_validation is False
    assert config.max_pool_connections == 7
