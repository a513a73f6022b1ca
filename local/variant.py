"""template.yaml with other parameter defaults, for scanners that only see the default path.

checkov drops every resource whose Condition is false under the parameters' defaults, so the
EgressMode=StaticIp resources are only scanned in a copy whose defaults select them:

    python -m local.variant EgressMode=StaticIp NatGatewayCount=2 > /tmp/template-staticip.yaml

Only the `Default:` line of each named parameter changes; everything else is the same bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from local.template import TEMPLATE_PATH, TemplateError, parse_template


def with_defaults(text: str, defaults: dict[str, str]) -> str:
    """`text` with the Default of each parameter in `defaults` replaced (it must have one)."""
    declared = parse_template(text).get("Parameters") or {}
    for name, value in defaults.items():
        if name not in declared or "Default" not in declared[name]:
            raise TemplateError(f"parameter {name} has no Default to replace")
        allowed = [str(v) for v in declared[name].get("AllowedValues", ())]
        if allowed and value not in allowed:
            raise TemplateError(f"{name}={value!r} not in {allowed}")
        # The parameter's block: from "  Name:" to the next two-space key; its Default line in it.
        block = re.compile(rf"(^  {re.escape(name)}:\n(?:^    .*\n|^\s*\n)*?^    Default: ).*$", re.M)
        text, count = block.subn(_keep_key(value), text, count=1)
        if count != 1:
            raise TemplateError(f"could not find the Default line of {name}")
    return text


def _keep_key(value: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(1) + value


def main(argv: list[str]) -> int:
    pairs = dict(arg.split("=", 1) for arg in argv)
    sys.stdout.write(with_defaults(Path(TEMPLATE_PATH).read_text(), pairs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
