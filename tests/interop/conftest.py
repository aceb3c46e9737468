"""The integration tests' local servers and checks, for the interop tests too."""

from ..integrations.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    _anthropic_server,
    _no_api_key_in_any_span,
    _openai_server,
    anthropic_server,
    openai_server,
)
