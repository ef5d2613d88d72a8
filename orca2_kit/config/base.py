"""What every params section shares: strict sections (an unknown key is an error), the strategy
and system-message names, budgets, and the checks on URLs and key names."""
from __future__ import annotations

import re
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

STRATEGY_KEYS = (
    "direct", "step_by_step", "explain_then_answer",
    "recall_then_generate", "recall_reason_generate", "extract_generate",
)
Strategy = Literal[
    "direct", "step_by_step", "explain_then_answer",
    "recall_then_generate", "recall_reason_generate", "extract_generate",
]
# "empty" is an explicit empty system turn (the paper's zero-shot setting); "none" leaves the
# system turn out, which lets a chat template inject its own default (SmolLM2's does).
SystemMessage = Literal["empty", "none", "generic", "cautious"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Budget = Union[Literal["auto"], Annotated[int, Field(ge=1)]]


def shown(url: Optional[str]) -> Optional[str]:
    """A URL fit for an error message: a password in it (user:pass@host) is never echoed."""
    return re.sub(r"^([a-z]+://)?[^/@\s]*@", lambda m: (m.group(1) or "") + "***@", url) if url else url


def is_loopback(base_url: Optional[str]) -> bool:
    """Is the endpoint on this machine (free to call)? None means api.openai.com, which is paid."""
    import ipaddress
    from urllib.parse import urlsplit

    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_in_clear(base_url: Optional[str], api_key_env: Optional[str], what: str = "") -> Optional[str]:
    """The error line if a key would travel unencrypted: plain http to a host that is not this machine."""
    from urllib.parse import urlsplit

    if not base_url or api_key_env is None or urlsplit(base_url).scheme.lower() != "http" or is_loopback(base_url):
        return None
    return (f"{what}base_url: '{shown(base_url)}' is plain http to another machine, and {what}api_key_env "
            f"{api_key_env} would send that key to it unencrypted (anyone on the way can read it); use https://, "
            f"or {what}api_key_env: null if the server needs no key")


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what api_key_env must look like: a variable's NAME, never a key
